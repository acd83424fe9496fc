package transport

import (
	"log/slog"
	"net/netip"
	"testing"

	"palisade/cluster/wire"
)

// FuzzReceive drives the receive path behind the socket with properly
// signed packets whose header fields are fuzzed (the decoder itself is
// fuzzed in package wire): generation, sequence, sender, destination and
// link jump around, and nothing may panic or deliver a (sender,
// generation, seq) twice.
func FuzzReceive(f *testing.F) {
	f.Add(uint32(1), uint64(5), uint64(1), uint32(0), uint8(0), uint8(1))
	f.Add(uint32(3), uint64(1<<63), uint64(1<<64-1), uint32(2), uint8(1), uint8(7))
	f.Add(uint32(2), uint64(0), uint64(0), uint32(9), uint8(200), uint8(2))
	f.Fuzz(func(t *testing.T, from uint32, gen, seq uint64, to uint32, link, typ uint8) {
		kr := testKeys(t, keyFile1)
		tr, err := New(Config{Cluster: testCluster, Node: 2, Generation: 1, Nodes: []uint32{1, 2, 3}, Keys: kr,
			Links: []Link{
				{Kind: Unicast, Peers: []Peer{{Node: 1, Addr: netip.MustParseAddrPort("127.0.0.1:1")}}},
				{Kind: Unicast, Peers: []Peer{{Node: 1, Addr: netip.MustParseAddrPort("127.0.0.1:1")}}},
			},
			Logger: slog.New(slog.DiscardHandler), QueueLen: 64})
		if err != nil {
			t.Fatal(err)
		}
		enc, dec := wire.NewEncoder(kr.Active()), wire.NewDecoder(testCluster, kr.Accepted()...)
		seen := map[[3]uint64]bool{}
		// The same header twice on each link, then with shifted fields.
		for i := range 8 {
			h := wire.Header{Type: wire.Type(typ), From: from, To: to, Generation: gen + uint64(i/4), Seq: seq + uint64(i%3),
				Cluster: testCluster, Link: link + uint8(i%2)}
			pkt, err := enc.Append(nil, &h, []byte{byte(i)})
			if err != nil {
				t.Fatal(err)
			}
			m, err := dec.Decode(pkt)
			if err != nil {
				t.Fatalf("own packet refused: %v", err)
			}
			tr.handle(tr.links[i%2], &m, netip.AddrPort{})
			for len(tr.msgs) > 0 {
				got := <-tr.msgs
				k := [3]uint64{uint64(got.From), got.Generation, got.Seq}
				if seen[k] {
					t.Fatalf("delivered twice: %+v", got)
				}
				seen[k] = true
			}
		}
	})
}
