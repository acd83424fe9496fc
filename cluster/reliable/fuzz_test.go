package reliable

import (
	"testing"

	"palisade/cluster/wire"
)

// FuzzStep feeds arbitrary frames (as an authenticated but buggy or
// hostile peer could send) to an Endpoint with traffic in progress: it
// must not panic, and its buffers must stay within their bounds.
func FuzzStep(f *testing.F) {
	f.Add(uint8(2), []byte(dataFrame{dstGen: 10, epoch: 1, seq: 1, payload: []byte("x")}.encode()))
	f.Add(uint8(3), []byte(ackFrame{dstGen: 10, epoch: 1, cum: 1, sack: 5}.encode()))
	f.Add(uint8(2), []byte(dataFrame{dstGen: 0, epoch: 9, seq: 1 << 62}.encode()))
	f.Add(uint8(3), []byte{})
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		e, err := New(Config{Self: 1, Generation: 10, SendBuffer: 8, Window: 4, RecvBuffer: 4})
		if err != nil {
			t.Fatal(err)
		}
		for range 6 {
			e.Send(2, []byte("queued"))
		}
		e.Step(2, 20, wire.Type(typ), payload)
		e.Step(2, 20, wire.Type(typ), payload)
		e.Tick()
		rd := e.Ready()
		if e.Pending(2) > 8 {
			t.Fatalf("pending %d beyond send buffer", e.Pending(2))
		}
		if p := e.peers[2]; p != nil && len(p.in.held) > 4 {
			t.Fatalf("%d frames held beyond receive buffer", len(p.in.held))
		}
		if len(rd.Delivered) > 2 {
			t.Fatalf("delivered %d from two frames", len(rd.Delivered))
		}
	})
}
