package hwtests

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/hw-tests/lab"
)

// TestMembershipIPv6 runs three palisaded over IPv6 only: link 0 unicast,
// link 1 multicast. Cutting one link keeps a node up through the other;
// cutting both gets it declared dead. The addresses are unique local ones
// inside the lab's own namespaces (no route anywhere else).
func TestMembershipIPv6(t *testing.T) {
	if err := lab.Available(); err != nil {
		t.Skip(err)
	}
	bin := binPath(t, "palisaded")
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-v6-%d", os.Getpid()), Nodes: 3, Links: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })

	// fd00:198:18:<link>::<node>/64 on each node's ethN; nodad so the
	// address is usable at once.
	v6 := func(link, host int) netip.Addr {
		return netip.MustParseAddr(fmt.Sprintf("fd00:198:18:%d::%d", link, host))
	}
	for i, h := range l.Nodes {
		for j := 0; j < 2; j++ {
			if _, err := h.Run("ip", "-6", "addr", "add", v6(j, i+1).String()+"/64", "dev", fmt.Sprintf("eth%d", j), "nodad"); err != nil {
				t.Fatalf("adding IPv6 address on %s: %v", h.Name, err)
			}
		}
	}
	c, err := l.WriteCluster(t.TempDir(), lab.ClusterOptions{Kinds: []string{"ucast", "mcast"}})
	if err != nil {
		t.Fatal(err)
	}
	// Swap every IPv4 address (and the IPv4 group) for its IPv6 twin.
	for _, path := range c.Configs {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		for i, h := range l.Nodes {
			for j, a := range h.Addrs {
				text = strings.Replace(text, fmt.Sprintf("link%d: %s\n", j, a), fmt.Sprintf("link%d: %s\n", j, v6(j, i+1)), 1)
			}
		}
		text = strings.Replace(text, "group: 239.255.0.2", "group: ff12::198:18", 1)
		if strings.Contains(text, "198.18.0.") {
			t.Fatalf("an IPv4 address is left in %s:\n%s", path, text)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := startDaemons(t, l, c, bin)
	for i := 0; i < 3; i++ {
		m.waitFor(t, i, 10*time.Second, "agreed 3-node view over IPv6", allUp(3))
	}
	if err := l.Nodes[1].CutLink(0); err != nil {
		t.Fatal(err)
	}
	m.waitFor(t, 0, 5*time.Second, "n2 up through IPv6 multicast only", func(st api.Status) bool {
		p := peer(st, 2)
		return p.State == "up" && p.Links[0].State == "dead" && p.Links[1].State == "up"
	})
	if err := l.Nodes[1].CutLink(1); err != nil {
		t.Fatal(err)
	}
	m.waitFor(t, 0, 5*time.Second, "n2 dead with both IPv6 links cut", func(st api.Status) bool {
		return peer(st, 2).State == "dead"
	})
}
