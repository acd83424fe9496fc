package arbitration

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"palisade/hw-tests/lab"
	"palisade/quorum"
	"palisade/quorum/arbitration"
	"palisade/quorum/ping"
)

// pingerIn opens a pinger's ICMP sockets inside namespace ns: the sockets
// stay there after the thread switches back.
func pingerIn(t *testing.T, ns string, cfg ping.Config) *ping.Pinger {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	p, perr := ping.NewPinger(cfg, quiet())
	if err := netns.Set(orig); err != nil {
		panic(fmt.Sprintf("cannot return to the original network namespace: %v", err))
	}
	if perr != nil {
		t.Fatal(perr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

// TestPingGroupsInNamespaces: two nodes and an "uplink" host (the lab's
// client) in namespaces on 198.18.0.0/24. Each node pings the uplink
// (weight 100) and its peer (weight 10). When n1's path to the uplink is
// lost, n1's uplink group goes down and its score drops from 110 to 10 —
// and in a 1/1 split the arbitration rules give the vote to n2, the
// better-connected node, even though n1 holds the tie-breaker (ipfail).
func TestPingGroupsInNamespaces(t *testing.T) {
	if err := lab.Available(); err != nil {
		t.Skip(err)
	}
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-p-%d", os.Getpid()), Nodes: 2, Links: 1, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("lab cleanup: %v", err)
		}
	})
	uplink := l.Client.Addrs[0]
	n1, n2 := l.Nodes[0], l.Nodes[1]
	cfg := func(peer netip.Addr) ping.Config {
		return ping.Config{Interval: 100 * time.Millisecond, Timeout: 400 * time.Millisecond, Attribute: "pingd", Groups: []ping.Group{
			{Name: "uplink", Weight: 100, Addresses: []netip.Addr{uplink}},
			{Name: "peer", Weight: 10, Addresses: []netip.Addr{peer}},
		}}
	}
	p1 := pingerIn(t, n1.Name, cfg(n2.Addrs[0]))
	p2 := pingerIn(t, n2.Name, cfg(n1.Addrs[0]))
	waitUntil(t, "both nodes to reach the uplink and each other", 10*time.Second, func() bool {
		return p1.Status().Score == 110 && p2.Status().Score == 110
	})

	// n1 loses its path to the uplink only (cutting its switch port would
	// cut it from n2 too): a blackhole route inside n1's namespace.
	if out, err := n1.Run("ip", "route", "add", "blackhole", uplink.String()+"/32"); err != nil {
		t.Fatalf("blackhole route in %s: %v %s", n1.Name, err, out)
	}
	waitUntil(t, "n1's uplink group to go down", 10*time.Second, func() bool {
		st := p1.Status()
		return st.Score == 10 && !st.Groups[0].Up && st.Groups[1].Up
	})
	select {
	case <-p1.Changes():
	default:
		t.Fatal("no change notification for n1")
	}
	if p2.Status().Score != 110 {
		t.Fatalf("n2's score changed: %s", p2.Status())
	}

	// The scores decide a 1/1 split against the tie-breaker (n1).
	rules := arbitration.Rules{Algorithm: quorum.AlgorithmFFSplit, Nodes: []arbitration.Node{{Name: "n1", Votes: 1}, {Name: "n2", Votes: 1}}}
	v := arbitration.Decide(rules, []arbitration.Report{
		{Node: "n1", View: 2, Members: []string{"n1"}, Score: p1.Status().Score, Held: true},
		{Node: "n2", View: 2, Members: []string{"n2"}, Score: p2.Status().Score},
	}, arbitration.Key{})
	if v.Winner != arbitration.KeyOf(2, []string{"n2"}) {
		t.Fatalf("verdict %+v: want n2 (better connected)", v)
	}

	// The route goes, the uplink answers again.
	n1.Run("ip", "route", "del", "blackhole", uplink.String()+"/32")
	waitUntil(t, "n1's uplink group to come back", 10*time.Second, func() bool { return p1.Status().Score == 110 })
}
