package membership

import (
	"fmt"
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

// TestShortcutsChangeNothing runs random heartbeats (new and repeated
// adverts, restarts, silences, late and early times) and ticks through two
// machines, one with the shortcuts of Step and of the clock (cached
// deadline, unchanged-heartbeat fast path) and one without: every event,
// the view and every peer's state must be the same.
func TestShortcutsChangeNothing(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 13))
		n := 2 + rng.IntN(6)
		links := 1 + rng.IntN(3)
		var nodes []NodeID
		for i := 1; i <= n; i++ {
			nodes = append(nodes, NodeID(i))
		}
		cfg := Config{Self: 1, Generation: 1, Nodes: nodes, Links: links,
			Timing: Timing{Keepalive: 100 * time.Millisecond, Warntime: 250 * time.Millisecond, Deadtime: 500 * time.Millisecond, Initdead: time.Second}}
		fast, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := New(cfg)
		full.full = true
		gens := map[NodeID]uint64{}
		silent := map[NodeID]bool{}
		now := time.Duration(0)
		for step := range 600 {
			now += time.Duration(rng.IntN(60)) * time.Millisecond
			switch r := rng.IntN(20); {
			case r == 0:
				fast.Tick(now)
				full.Tick(now)
			case r == 1:
				silent[NodeID(2+rng.IntN(n-1))] = rng.IntN(2) == 0
			default:
				from := NodeID(2 + rng.IntN(n-1))
				if silent[from] {
					continue
				}
				if rng.IntN(100) == 0 {
					gens[from]++
				}
				adv := fast.Advert() // agree, mostly
				if rng.IntN(10) == 0 {
					adv = Advert{ViewID: adv.ViewID + uint64(rng.IntN(3)), Hash: adv.Hash ^ uint64(rng.IntN(2))}
				}
				at := now - time.Duration(rng.IntN(3))*time.Millisecond // sometimes behind the clock
				hb := Heartbeat{From: from, Link: rng.IntN(links), Generation: gens[from] + 1, At: at, Advert: adv}
				e1, e2 := fast.Step(hb), full.Step(hb)
				if (e1 == nil) != (e2 == nil) {
					t.Fatalf("seed %d step %d: errors differ: %v / %v", seed, step, e1, e2)
				}
			}
			if a, b := render(fast.Ready()), render(full.Ready()); a != b {
				t.Fatalf("seed %d step %d: events differ:\nshortcuts:\n%s\nfull:\n%s", seed, step, a, b)
			}
		}
		fast.Tick(now)
		full.Tick(now)
		if a, b := render(fast.Ready()), render(full.Ready()); a != b {
			t.Fatalf("seed %d end: events differ:\n%s\n%s", seed, a, b)
		}
		if a, b := fmt.Sprint(fast.View(), fast.Peers()), fmt.Sprint(full.View(), full.Peers()); a != b {
			t.Fatalf("seed %d: state differs:\n%s\n%s", seed, a, b)
		}
	}
}
