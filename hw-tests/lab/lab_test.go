package lab

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestSubnets(t *testing.T) {
	for _, c := range []struct {
		i, n int
		want string
	}{{0, 1, "198.18.0.0/24"}, {0, 2, "198.18.0.0/25"}, {1, 2, "198.18.0.128/25"}, {3, 4, "198.18.0.192/26"}, {2, 3, "198.18.0.128/26"}} {
		if got := Subnet(c.i, c.n).String(); got != c.want {
			t.Errorf("Subnet(%d,%d) = %s, want %s", c.i, c.n, got, c.want)
		}
	}
}

func TestLab(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	l, err := New(Options{Prefix: fmt.Sprintf("pa-f-%d", os.Getpid()), Nodes: 2, Links: 2, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	n1, n2 := l.Nodes[0], l.Nodes[1]
	if got := n1.Addrs[1].String(); got != "198.18.0.129" {
		t.Errorf("n1 link1 address %s, want 198.18.0.129", got)
	}
	if got := l.Client.Addrs[0].String(); got != "198.18.0.126" {
		t.Errorf("client address %s, want 198.18.0.126", got)
	}
	if out, err := reach(n1, 1, n2); err != nil {
		t.Fatalf("arping over link 1: %v\n%s", err, out)
	}
	if out, _ := n1.Run("ip", "route"); strings.Contains(out, "default") {
		t.Fatalf("lab host has a default route:\n%s", out)
	}
	if err := n2.CutLink(1); err != nil {
		t.Fatal(err)
	}
	if _, err := reach(n1, 1, n2); err == nil {
		t.Fatal("arping passed a cut link")
	}
	if out, err := reach(n1, 0, n2); err != nil {
		t.Fatalf("other link affected by the cut: %v\n%s", err, out)
	}
	if err := n2.RestoreLink(1); err != nil {
		t.Fatal(err)
	}
	if out, err := reach(n1, 1, n2); err != nil {
		t.Fatalf("arping after restore: %v\n%s", err, out)
	}
	p, err := n1.Start("sleep", "60")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if out, _ := ip("netns", "list"); strings.Contains(out, l.Prefix+"-") {
		t.Fatalf("namespaces left after Close:\n%s", out)
	}
}

// reach checks layer-2 reachability with arping (iputils-arping; ping is
// not installed everywhere).
func reach(from *Host, link int, to *Host) (string, error) {
	return from.Run("arping", "-c1", "-w1", "-I", from.Ifaces[link], to.Addrs[link].String())
}
