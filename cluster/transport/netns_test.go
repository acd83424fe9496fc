package transport

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"

	"palisade/cluster/wire"
)

// twoHosts creates two network namespaces joined by a veth pair, device
// v0 in each (198.18.0.<i>/24, fd00:198:18::<i>/64), and runs open(i)
// with the calling thread inside namespace i (1 or 2), so the sockets it
// opens live there. Everything is removed at cleanup. Skips unless root
// with iproute2.
func twoHosts(t *testing.T, open func(i int)) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 (ip)")
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	name := func(i int) string { return fmt.Sprintf("pa-b-%d-tr%d", os.Getpid(), i) }
	for i := 1; i <= 2; i++ {
		ip("netns", "add", name(i))
		t.Cleanup(func() { exec.Command("ip", "netns", "del", name(i)).Run() })
	}
	ip("-n", name(1), "link", "add", "v0", "type", "veth", "peer", "name", "v0", "netns", name(2))
	for i := 1; i <= 2; i++ {
		ip("-n", name(i), "link", "set", "lo", "up")
		ip("-n", name(i), "link", "set", "v0", "up")
		ip("-n", name(i), "addr", "add", fmt.Sprintf("198.18.0.%d/24", i), "brd", "+", "dev", "v0")
		ip("-n", name(i), "addr", "add", fmt.Sprintf("fd00:198:18::%d/64", i), "dev", "v0", "nodad")
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	defer netns.Set(orig)
	for i := 1; i <= 2; i++ {
		ns, err := netns.GetFromName(name(i))
		if err != nil {
			t.Fatal(err)
		}
		err = netns.Set(ns)
		ns.Close()
		if err != nil {
			t.Fatal(err)
		}
		open(i)
	}
}

// TestMulticastBroadcastIPv6 runs two nodes, each in its own namespace,
// whose four links are IPv4 multicast, IPv6 link-local multicast, IPv4
// broadcast and IPv6 unicast over one veth pair.
func TestMulticastBroadcastIPv6(t *testing.T) {
	nodes := map[uint32]*Transport{}
	twoHosts(t, func(i int) {
		self := uint32(i)
		links := []Link{
			{Name: "mcast4", Kind: Multicast, Interface: "v0", Group: netip.MustParseAddr("239.192.18.1"), Port: 6940},
			{Name: "mcast6", Kind: Multicast, Interface: "v0", Group: netip.MustParseAddr("ff02::1:6940"), Port: 6940},
			{Name: "bcast", Kind: Broadcast, Interface: "v0", Port: 6940},
			{Name: "ucast6", Kind: Unicast, Local: netip.MustParseAddr(fmt.Sprintf("fd00:198:18::%d", self)), Port: 6941, Peers: []Peer{
				{Node: 1, Addr: netip.MustParseAddrPort("[fd00:198:18::1]:6941")},
				{Node: 2, Addr: netip.MustParseAddrPort("[fd00:198:18::2]:6941")},
			}},
		}
		tr, err := New(Config{Cluster: testCluster, Node: self, Generation: 7, Nodes: []uint32{1, 2}, Keys: testKeys(t, keyFile1), Links: links})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		nodes[self] = tr
	})
	defer func() {
		if t.Failed() {
			t.Logf("node 1: %+v", nodes[1].Counters())
			t.Logf("node 2: %+v", nodes[2].Counters())
		}
	}()
	// UDP may lose the very first packet on a fresh link (neighbour
	// discovery, a veth still coming up), so keep sending, as heartbeats
	// do, until every link has carried one.
	eventually(t, "node 1 heard on all four links", func() bool {
		nodes[1].SendHeartbeat()
		for _, lh := range nodes[2].LastHeard()[0].Links {
			if lh.At.IsZero() {
				return false
			}
		}
		return true
	})
	c := nodes[2].Counters()
	var dup uint64
	for _, l := range c.Links {
		dup += l.Duplicates
	}
	if dup == 0 {
		t.Error("no duplicates counted although four links carry every packet")
	}
	// Each socket hears only its own link's packets (the multicast ones
	// are bound to their group, not the wildcard), so nothing looks like
	// a cross-link replay.
	if c.Dropped["replay"] != 0 {
		t.Errorf("%d packets counted as replays: some socket hears another link's traffic", c.Dropped["replay"])
	}
	// A message for node 2 only; heartbeats still in flight come first.
	if err := nodes[1].Send(wire.TypeReliableData, 2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for {
		m := recv(t, nodes[2])
		if m.Type == wire.TypeHeartbeat {
			continue
		}
		if m.From != 1 || string(m.Payload) != "x" || m.To != 2 {
			t.Fatalf("got %+v", m)
		}
		break
	}
	nodes[2].SendHeartbeat()
	if m := recv(t, nodes[1]); m.From != 2 || m.Type != wire.TypeHeartbeat {
		t.Fatalf("node 1 got %+v", m)
	}
}
