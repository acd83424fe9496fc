package membership

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestNextDeadlineExact drives random clusters only by NextDeadline and
// random heartbeats and checks the deadline is exact: a Tick just before
// it changes nothing, a Tick at it always reports a change. A driver that
// sleeps until the deadline thus misses no transition and never wakes for
// nothing.
func TestNextDeadlineExact(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 2 + rng.IntN(5)
		links := 1 + rng.IntN(3)
		var nodes []NodeID
		for i := 1; i <= n; i++ {
			nodes = append(nodes, NodeID(i))
		}
		timing := Timing{Keepalive: 100 * time.Millisecond, Warntime: 250 * time.Millisecond, Deadtime: 500 * time.Millisecond, Initdead: time.Second}
		m, err := New(Config{Self: 1, Generation: 1, Nodes: nodes, Links: links, Timing: timing})
		if err != nil {
			t.Fatal(err)
		}
		gens := map[NodeID]uint64{}
		now := time.Duration(0)
		for step := range 300 {
			m.Ready()
			at, ok := m.NextDeadline()
			// Either a heartbeat arrives before the deadline, or time
			// runs to it.
			if !ok || rng.IntN(3) > 0 {
				now += time.Duration(rng.IntN(200)) * time.Millisecond
				if ok && now >= at {
					now = at - time.Millisecond
				}
				if now < m.Now() {
					now = m.Now()
				}
				from := NodeID(2 + rng.IntN(n-1))
				if rng.IntN(20) == 0 {
					gens[from]++
				}
				if err := m.Step(Heartbeat{From: from, Link: rng.IntN(links), Generation: gens[from] + 1, At: now, Advert: m.Advert()}); err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				continue
			}
			if at <= m.Now() {
				t.Fatalf("seed %d step %d: deadline %v not after now %v", seed, step, at, m.Now())
			}
			m.Tick(at - time.Nanosecond)
			if ev := m.Ready(); len(ev) > 0 {
				t.Fatalf("seed %d step %d: deadline %v, but a tick just before it reported %v", seed, step, at, ev)
			}
			m.Tick(at)
			if ev := m.Ready(); len(ev) == 0 {
				t.Fatalf("seed %d step %d: nothing happened at deadline %v", seed, step, at)
			}
			now = at
		}
	}
}
