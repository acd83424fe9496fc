package transport

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"palisade/cluster/wire"
)

// BenchmarkReceivePath is the per-packet cost behind the socket: verify
// and decode, replay window, dedup, copy and queue (heartbeat with a
// 32-byte payload, every packet fresh). It includes signing each packet
// (about a third of the time), which the receiver does not pay.
func BenchmarkReceivePath(b *testing.B) {
	kr, err := testKeysErr(keyFile1)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := New(Config{Cluster: testCluster, Node: 2, Generation: 1, Nodes: []uint32{1, 2}, Keys: kr,
		Links:  []Link{{Kind: Unicast, Peers: []Peer{{Node: 1, Addr: netip.MustParseAddrPort("127.0.0.1:1")}}}},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	enc, dec := wire.NewEncoder(kr.Active()), wire.NewDecoder(testCluster, kr.Accepted()...)
	h := wire.Header{Type: wire.TypeHeartbeat, From: 1, Generation: 1, Cluster: testCluster}
	buf := make([]byte, 0, wire.MaxPacket)
	payload := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		h.Seq++
		pkt, _ := enc.Append(buf[:0], &h, payload)
		m, err := dec.Decode(pkt)
		if err != nil {
			b.Fatal(err)
		}
		tr.handle(tr.links[0], &m, netip.AddrPort{})
		<-tr.msgs
	}
}

// BenchmarkReceivePathCoalesced is the same with heartbeats that repeat
// the previous payload (steady state with Config.CoalesceHeartbeats):
// verified and recorded in LastHeard, not copied or queued.
func BenchmarkReceivePathCoalesced(b *testing.B) {
	kr, err := testKeysErr(keyFile1)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := New(Config{Cluster: testCluster, Node: 2, Generation: 1, Nodes: []uint32{1, 2}, Keys: kr,
		Links:              []Link{{Kind: Unicast, Peers: []Peer{{Node: 1, Addr: netip.MustParseAddrPort("127.0.0.1:1")}}}},
		Logger:             slog.New(slog.DiscardHandler),
		CoalesceHeartbeats: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	enc, dec := wire.NewEncoder(kr.Active()), wire.NewDecoder(testCluster, kr.Accepted()...)
	h := wire.Header{Type: wire.TypeHeartbeat, From: 1, Generation: 1, Cluster: testCluster}
	buf := make([]byte, 0, wire.MaxPacket)
	payload := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		h.Seq++
		pkt, _ := enc.Append(buf[:0], &h, payload)
		m, err := dec.Decode(pkt)
		if err != nil {
			b.Fatal(err)
		}
		tr.handle(tr.links[0], &m, netip.AddrPort{})
	}
	if len(tr.msgs) != 1 {
		b.Fatalf("%d heartbeats queued, want only the first", len(tr.msgs))
	}
}

// BenchmarkSendHeartbeat16 is one heartbeat round of a node of the
// 16-node mesh: signed once per link, sent to 15 peers on each of 2
// unicast links over loopback (30 sendto calls; nobody listens).
func BenchmarkSendHeartbeat16(b *testing.B) {
	kr, err := testKeysErr(keyFile1)
	if err != nil {
		b.Fatal(err)
	}
	port := freePortB(b)
	var ids []uint32
	for i := uint32(1); i <= 16; i++ {
		ids = append(ids, i)
	}
	cfg := Config{Cluster: testCluster, Node: 1, Generation: 1, Nodes: ids, Keys: kr, Logger: slog.New(slog.DiscardHandler)}
	for l := range 2 {
		lk := Link{Kind: Unicast, Local: addr(l, 1), Port: port}
		for _, p := range ids {
			lk.Peers = append(lk.Peers, Peer{Node: p, Addr: netip.AddrPortFrom(addr(l, p), port+1)})
		}
		cfg.Links = append(cfg.Links, lk)
	}
	tr, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := tr.Start(); err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	payload := make([]byte, 16)
	b.ReportAllocs()
	for b.Loop() {
		if err := tr.Send(wire.TypeHeartbeat, 0, payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/30, "ns/packet")
}

func freePortB(b *testing.B) uint16 {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}
