package membership

import (
	"testing"
	"time"
)

// BenchmarkStep is the cost of one received heartbeat in a 16-node,
// two-link cluster in steady state.
func BenchmarkStep(b *testing.B) {
	var nodes []NodeID
	for i := 1; i <= 16; i++ {
		nodes = append(nodes, NodeID(i))
	}
	m, err := New(Config{Self: 1, Generation: 1, Nodes: nodes, Links: 2,
		Timing: Timing{Keepalive: 100 * time.Millisecond, Warntime: 300 * time.Millisecond, Deadtime: 500 * time.Millisecond, Initdead: time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Duration(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now += 100 * time.Microsecond
		m.Step(Heartbeat{From: NodeID(2 + i%15), Link: i % 2, Generation: 1, At: now, Advert: m.Advert()})
		m.Ready()
	}
}
