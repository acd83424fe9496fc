package reliable

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// pair is two endpoints (1 sends to 2 and 2 to 1) and the frames between
// them, for the lockstep test.
type pair struct {
	ep  map[uint32]*Endpoint
	now map[uint32]int // ticks each endpoint has been moved to
	net []Frame        // in flight, To set; From is the other node
	log []string
}

func newPair(t *testing.T) *pair {
	p := &pair{ep: map[uint32]*Endpoint{}, now: map[uint32]int{}}
	for id := uint32(1); id <= 2; id++ {
		e, err := New(Config{Self: id, Generation: uint64(id) * 10, Window: 4, RetransmitTicks: 2, MaxRetransmitTicks: 16})
		if err != nil {
			t.Fatal(err)
		}
		p.ep[id] = e
	}
	return p
}

func (p *pair) collect(at int) {
	for id := uint32(1); id <= 2; id++ {
		rd := p.ep[id].Ready()
		for _, f := range rd.Frames {
			p.net = append(p.net, f)
			p.log = append(p.log, fmt.Sprintf("t%d %d->%d %s %x", at, id, f.To, f.Type, f.Payload))
		}
		for _, d := range rd.Delivered {
			p.log = append(p.log, fmt.Sprintf("t%d deliver %d<-%d %q", at, id, d.From, d.Payload))
		}
	}
}

// TestAdvanceMatchesTick runs the same random traffic (sends, losses)
// through two pairs of endpoints: one ticked every tick, the other moved
// only when NextDue says a retransmission is due or when something
// happens (Advance to the current tick first, as Conn does). Both must
// emit the same frames at the same ticks.
func TestAdvanceMatchesTick(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 11))
		ticked, timed := newPair(t), newPair(t)
		for now := 1; now <= 400; now++ {
			// Ticked: one tick.
			for id := uint32(1); id <= 2; id++ {
				ticked.ep[id].Tick()
			}
			ticked.collect(now)
			// Timed: only if a retransmission is due now.
			for id := uint32(1); id <= 2; id++ {
				if n, ok := timed.ep[id].NextDue(); ok && timed.now[id]+n <= now {
					timed.ep[id].Advance(now - timed.now[id])
					timed.now[id] = now
				}
			}
			timed.collect(now)
			// The same inputs for both.
			sends := 0
			if rng.IntN(8) == 0 {
				sends = 1 + rng.IntN(3)
			}
			deliver := rng.IntN(3) == 0
			var keep []bool
			for range max(len(ticked.net), len(timed.net)) {
				keep = append(keep, rng.IntN(3) > 0)
			}
			for _, p := range []*pair{ticked, timed} {
				for id := uint32(1); id <= 2; id++ {
					if p == timed && timed.now[id] < now && (sends > 0 || deliver) {
						p.ep[id].Advance(now - p.now[id])
						p.now[id] = now
					}
				}
				for i := range sends {
					from := uint32(1 + i%2)
					if err := p.ep[from].Send(3-from, fmt.Appendf(nil, "m%d.%d", now, i)); err != nil {
						t.Fatal(err)
					}
				}
				if deliver {
					batch := p.net
					p.net = nil
					for i, f := range batch {
						if keep[i] {
							if err := p.ep[f.To].Step(3-f.To, uint64(3-f.To)*10, f.Type, f.Payload); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				p.collect(now)
			}
		}
		if !slices.Equal(ticked.log, timed.log) {
			for i := range min(len(ticked.log), len(timed.log)) {
				if ticked.log[i] != timed.log[i] {
					t.Fatalf("seed %d: first difference at %d:\nticked %s\ntimed  %s", seed, i, ticked.log[i], timed.log[i])
				}
			}
			t.Fatalf("seed %d: ticked %d events, timed %d", seed, len(ticked.log), len(timed.log))
		}
		if len(ticked.log) == 0 {
			t.Fatalf("seed %d: no traffic", seed)
		}
	}
}
