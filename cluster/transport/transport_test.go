package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"palisade/cluster/auth"
	"palisade/cluster/wire"
)

const testCluster = "test"

func testKeys(t *testing.T, body string) *auth.Keyring {
	t.Helper()
	kr, err := testKeysErr(body)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func testKeysErr(body string) (*auth.Keyring, error) { return auth.Parse("test-keys", []byte(body)) }

var keyFile1 = "key 1 hex:00112233445566778899aabbccddeeff\nkey 2 hex:ffeeddccbbaa99887766554433221100\nactive 1\n"

// freePort finds a UDP port free on the loopback addresses the test uses.
func freePort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// addr is node n's address on link l: 127.0.(l+1).(10+n) — each link its
// own loopback "subnet", like two NICs.
func addr(l int, n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 0, byte(l + 1), byte(10 + n)})
}

type cluster struct {
	port  uint16
	nodes map[uint32]*Transport
}

// newCluster starts nodes 1..n (except those in skip) with two unicast links.
func newCluster(t *testing.T, n uint32, skip map[uint32]bool, tweak func(*Config)) *cluster {
	t.Helper()
	c := &cluster{port: freePort(t), nodes: map[uint32]*Transport{}}
	var ids []uint32
	for i := uint32(1); i <= n; i++ {
		ids = append(ids, i)
	}
	for _, self := range ids {
		if skip[self] {
			continue
		}
		cfg := Config{Cluster: testCluster, Node: self, Generation: 100, Nodes: ids, Keys: testKeys(t, keyFile1)}
		for l := range 2 {
			lk := Link{Name: fmt.Sprintf("ring%d", l), Kind: Unicast, Local: addr(l, self), Port: c.port}
			for _, p := range ids {
				lk.Peers = append(lk.Peers, Peer{Node: p, Addr: netip.AddrPortFrom(addr(l, p), 0)})
			}
			cfg.Links = append(cfg.Links, lk)
		}
		if tweak != nil {
			tweak(&cfg)
		}
		tr, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		c.nodes[self] = tr
	}
	return c
}

func recv(t *testing.T, tr *Transport) Message {
	t.Helper()
	select {
	case m := <-tr.Messages():
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return Message{}
}

func noMessage(t *testing.T, tr *Transport) {
	t.Helper()
	select {
	case m := <-tr.Messages():
		t.Fatalf("unexpected message %+v", m)
	default:
	}
}

// eventually polls cond (no timing assertion: 5s is only a hang guard).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDeliveryOverTwoLinks(t *testing.T) {
	c := newCluster(t, 3, nil, nil)
	if err := c.nodes[1].SendHeartbeat(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint32{2, 3} {
		m := recv(t, c.nodes[n])
		if m.From != 1 || m.Type != wire.TypeHeartbeat || m.Generation != 100 || m.Seq != 1 {
			t.Errorf("node %d got %+v", n, m)
		}
		// The second copy arrives on the other link and is only counted.
		tr := c.nodes[n]
		eventually(t, "duplicate on the other link", func() bool {
			var d uint64
			for _, l := range tr.Counters().Links {
				d += l.Duplicates
			}
			return d == 1
		})
		noMessage(t, tr)
		for _, ph := range tr.LastHeard() {
			if ph.Node != 1 {
				continue
			}
			for _, lh := range ph.Links {
				if lh.At.IsZero() {
					t.Errorf("node %d never heard node 1 on %s", n, lh.Link)
				}
			}
		}
	}
}

// TestOneNode: a node alone in its cluster (unicast links without peers)
// starts, and sending to all reaches nobody without an error.
func TestOneNode(t *testing.T) {
	c := newCluster(t, 1, nil, func(cfg *Config) {
		for i := range cfg.Links {
			cfg.Links[i].Peers = nil
		}
	})
	tr := c.nodes[1]
	if err := tr.SendHeartbeat(); err != nil {
		t.Fatalf("heartbeat alone: %v", err)
	}
	if err := tr.Send(wire.TypeReliableData, 0, []byte("to all")); err != nil {
		t.Fatalf("send to all alone: %v", err)
	}
	if err := tr.Send(wire.TypeReliableData, 2, nil); err == nil {
		t.Fatal("send to an unknown node succeeded")
	}
	noMessage(t, tr)
}

func TestSendToOneNode(t *testing.T) {
	c := newCluster(t, 3, nil, nil)
	if err := c.nodes[1].Send(wire.TypeReliableData, 2, []byte("for two")); err != nil {
		t.Fatal(err)
	}
	m := recv(t, c.nodes[2])
	if string(m.Payload) != "for two" || m.To != 2 {
		t.Errorf("got %+v", m)
	}
	// Unicast links never carried it to node 3; a heartbeat that follows
	// is the first thing 3 sees.
	c.nodes[1].SendHeartbeat()
	if m := recv(t, c.nodes[3]); m.Type != wire.TypeHeartbeat {
		t.Errorf("node 3 got %+v", m)
	}
	if err := c.nodes[1].Send(wire.TypeReliableData, 9, nil); err == nil {
		t.Error("send to a node with no address succeeded")
	}
}

func TestLinkDownOtherCarries(t *testing.T) {
	c := newCluster(t, 2, nil, nil)
	// Cut node 1's ring0 by closing its socket: sends there fail,
	// ring1 still delivers.
	c.nodes[1].links[0].conn.Close()
	if err := c.nodes[1].SendHeartbeat(); err != nil {
		t.Fatalf("send with one link up: %v", err)
	}
	m := recv(t, c.nodes[2])
	if m.Link != 1 {
		t.Errorf("arrived on link %d, want 1", m.Link)
	}
	if got := c.nodes[1].Counters().Links[0].TxErrors; got == 0 {
		t.Error("no tx error counted on the cut link")
	}
}

func TestQueueFull(t *testing.T) {
	c := newCluster(t, 2, nil, func(cfg *Config) { cfg.QueueLen = 1 })
	for range 3 {
		c.nodes[1].SendHeartbeat()
	}
	eventually(t, "queue_full drops", func() bool { return c.nodes[2].Counters().Dropped["queue_full"] == 2 })
}

func TestCloseAndSendAfter(t *testing.T) {
	c := newCluster(t, 2, nil, nil)
	tr := c.nodes[1]
	tr.Close()
	if err := tr.SendHeartbeat(); !errors.Is(err, ErrClosed) {
		t.Errorf("send after close: %v", err)
	}
	if _, ok := <-tr.Messages(); ok {
		t.Error("messages channel open after Close")
	}
	tr.Close()
}

func TestKeyRollover(t *testing.T) {
	c := newCluster(t, 2, nil, nil)
	// Node 1 moves to key 2 first; node 2 (active 1) accepts N+1.
	c.nodes[1].SetKeys(testKeys(t, "key 1 hex:00112233445566778899aabbccddeeff\nkey 2 hex:ffeeddccbbaa99887766554433221100\nactive 2\n"))
	c.nodes[1].SendHeartbeat()
	recv(t, c.nodes[2])
	// Node 2 drops key 1 and only knows key 3: key 2... is N-1, still ok.
	c.nodes[2].SetKeys(testKeys(t, "key 2 hex:ffeeddccbbaa99887766554433221100\nkey 3 hex:0102030405060708090a0b0c0d0e0f10\nactive 3\n"))
	c.nodes[1].SendHeartbeat()
	recv(t, c.nodes[2])
}

// TestSendToAllSkipsAFailingPeer: sending to every peer goes out in one
// batch per link; a destination the kernel refuses (here an IPv6 address
// on an IPv4 socket; nothing leaves the host) is counted as a tx error
// and the peers after it still get the packet.
func TestSendToAllSkipsAFailingPeer(t *testing.T) {
	c := newCluster(t, 3, map[uint32]bool{1: true}, nil)
	cfg := Config{Cluster: testCluster, Node: 1, Generation: 100, Nodes: []uint32{1, 2, 3}, Keys: testKeys(t, keyFile1)}
	for l := range 2 {
		cfg.Links = append(cfg.Links, Link{Kind: Unicast, Local: addr(l, 1), Port: c.port, Peers: []Peer{
			{Node: 2, Addr: netip.AddrPortFrom(netip.IPv6Loopback(), c.port)},
			{Node: 3, Addr: netip.AddrPortFrom(addr(l, 3), 0)},
		}})
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.SendHeartbeat(); err != nil {
		t.Fatalf("one peer reachable, yet: %v", err)
	}
	if m := recv(t, c.nodes[3]); m.From != 1 {
		t.Fatalf("node 3 got %+v", m)
	}
	for _, l := range tr.Counters().Links {
		if l.TxErrors != 1 || l.TxPackets != 1 {
			t.Errorf("link %s: %d sent, %d errors; want 1 and 1", l.Name, l.TxPackets, l.TxErrors)
		}
	}
}
