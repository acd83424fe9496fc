package reliable

import (
	"testing"

	"palisade/cluster/wire"
)

// BenchmarkEndpointMessage is the core's cost per message: send, step
// the data frame, deliver, step the ack (no loss, 256-byte payload).
func BenchmarkEndpointMessage(b *testing.B) {
	a, _ := New(Config{Self: 1, Generation: 10})
	z, _ := New(Config{Self: 2, Generation: 20})
	payload := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Send(2, payload); err != nil {
			b.Fatal(err)
		}
		for _, f := range a.Ready().Frames {
			z.Step(1, 10, f.Type, f.Payload)
		}
		rd := z.Ready()
		if len(rd.Delivered) != 1 {
			b.Fatal("not delivered")
		}
		for _, f := range rd.Frames {
			a.Step(2, 20, wire.TypeReliableAck, f.Payload)
		}
		a.Ready()
	}
}
