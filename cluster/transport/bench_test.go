package transport

import (
	"log/slog"
	"net/netip"
	"testing"

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
