package transport

import (
	"net"
	"net/netip"
	"testing"

	"palisade/cluster/wire"
)

// injector sends hand-made packets to node 2 from a plain UDP socket, as
// an attacker (or a confused neighbour) on the segment would.
type injector struct {
	t    *testing.T
	conn *net.UDPConn
	port uint16
}

func (in *injector) send(link int, pkt []byte) {
	in.t.Helper()
	dst := netip.AddrPortFrom(addr(link, 2), in.port)
	if _, err := in.conn.WriteToUDPAddrPort(pkt, dst); err != nil {
		in.t.Fatal(err)
	}
}

func sign(t *testing.T, k wire.Key, h wire.Header, payload []byte) []byte {
	t.Helper()
	if h.Cluster == "" {
		h.Cluster = testCluster
	}
	pkt, err := wire.NewEncoder(k).Append(nil, &h, payload)
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func TestEveryDropReasonCounted(t *testing.T) {
	// Node 1 is played by the injector, so only node 2 runs.
	c := newCluster(t, 3, map[uint32]bool{1: true, 3: true}, nil)
	tr := c.nodes[2]
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in := &injector{t: t, conn: conn, port: c.port}
	key := testKeys(t, keyFile1).Active()
	hb := func(gen, seq uint64) wire.Header {
		return wire.Header{Type: wire.TypeHeartbeat, From: 1, Generation: gen, Seq: seq}
	}

	good := sign(t, key, hb(5, 1), nil)
	in.send(0, good)
	if m := recv(t, tr); m.From != 1 || m.Seq != 1 {
		t.Fatalf("good packet: %+v", m)
	}
	h1 := hb(5, 1)
	h1.Link = 1
	in.send(1, sign(t, key, h1, nil)) // its copy on the other link: a duplicate, not a drop
	in.send(0, good)                  // again on the first link: replay
	in.send(1, good)                  // link 0's copy on link 1: replay

	wrongSecret := key
	wrongSecret.Secret = []byte("not the real secret at all......")
	h := hb(5, 2)
	h.Cluster = "other"
	in.send(0, sign(t, key, h, nil))                                        // wrong_cluster
	in.send(0, sign(t, wrongSecret, hb(5, 3), nil))                         // bad_mac
	in.send(0, sign(t, wire.Key{ID: 9, Secret: key.Secret}, hb(5, 4), nil)) // unknown_key
	in.send(0, good[:len(good)-3])                                          // truncated
	in.send(0, []byte("GET / HTTP/1.0\r\n\r\n"))                            // malformed
	in.send(0, append([]byte("PL\x07"), good[3:]...))                       // version
	h = hb(5, 5)
	h.From = 77
	in.send(0, sign(t, key, h, nil))          // unknown_node
	in.send(0, sign(t, key, hb(4, 100), nil)) // old_generation
	h = hb(5, 6)
	h.To = 3
	in.send(0, sign(t, key, h, nil)) // not_for_us
	h = hb(5, 7)
	h.From = 2
	in.send(0, sign(t, key, h, nil)) // our own id: self echo, silently ignored

	want := map[string]uint64{
		"replay": 2, "wrong_cluster": 1, "bad_mac": 1, "unknown_key": 1, "truncated": 1,
		"malformed": 1, "version": 1, "unknown_node": 1, "old_generation": 1, "not_for_us": 1,
	}
	eventually(t, "all drop counters", func() bool {
		got := tr.Counters()
		for k, v := range want {
			if got.Dropped[k] != v {
				return false
			}
		}
		return got.Links[1].Duplicates == 1 && got.Links[0].Self == 1
	})
	got := tr.Counters()
	for k, v := range got.Dropped {
		if v != want[k] {
			t.Errorf("dropped[%s] = %d, want %d", k, v, want[k])
		}
	}

	// The receive loop survived all of it, and a restart of node 1 (new
	// generation, seq from 1 again) is accepted.
	h = hb(6, 1)
	h.Link = 1
	in.send(1, sign(t, key, h, []byte("after restart")))
	if m := recv(t, tr); m.Generation != 6 || string(m.Payload) != "after restart" || m.Link != 1 {
		t.Fatalf("after restart: %+v", m)
	}
	noMessage(t, tr)
	// Counted just after the channel send: poll.
	eventually(t, "delivered = 2", func() bool { return tr.Counters().Delivered == 2 })
}
