package reliable

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestChaos runs three endpoints through a network that loses 30%,
// duplicates 10% and reorders everything, in logical time, and checks
// that every message arrives exactly once and in order per sender.
func TestChaos(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { chaos(t, seed) })
	}
}

func chaos(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := newSim(t)
	ids := []uint32{1, 2, 3}
	for _, id := range ids {
		s.newNode(id, map[string]string{"gen": fmt.Sprint(100 + id), "sendbuf": "16", "window": "8", "recvbuf": "8"})
	}
	const perPair = 60
	type pair struct{ from, to uint32 }
	next := map[pair]int{}     // next message number to send
	got := map[pair][]string{} // delivered, in order
	for round := 0; round < 5000; round++ {
		// Offer new messages; a full buffer just means try later.
		for _, from := range ids {
			for _, to := range ids {
				p := pair{from, to}
				if from == to || next[p] == perPair {
					continue
				}
				if err := s.nodes[from].Send(to, fmt.Appendf(nil, "%d>%d#%d", from, to, next[p])); err == nil {
					next[p]++
				}
			}
		}
		// The network: shuffle, lose, duplicate.
		rng.Shuffle(len(s.net), func(i, j int) { s.net[i], s.net[j] = s.net[j], s.net[i] })
		batch := s.net
		s.net = nil
		for _, f := range batch {
			switch r := rng.Float64(); {
			case r < 0.3:
				continue
			case r < 0.4:
				s.step(f)
			}
			s.step(f)
		}
		for _, id := range ids {
			s.nodes[id].Tick()
		}
		for _, id := range s.ids() {
			e := s.nodes[id]
			rd := e.Ready()
			for _, f := range rd.Frames {
				s.net = append(s.net, netFrame{from: id, to: f.To, gen: e.cfg.Generation, typ: f.Type, payload: f.Payload})
			}
			for _, d := range rd.Delivered {
				p := pair{d.From, id}
				got[p] = append(got[p], string(d.Payload))
			}
			if len(rd.Failed) > 0 {
				t.Fatalf("unexpected failures %v", rd.Failed)
			}
		}
		done := true
		for _, from := range ids {
			for _, to := range ids {
				if from != to && len(got[pair{from, to}]) < perPair {
					done = false
				}
			}
		}
		if done {
			break
		}
	}
	for _, from := range ids {
		for _, to := range ids {
			if from == to {
				continue
			}
			var want []string
			for i := range perPair {
				want = append(want, fmt.Sprintf("%d>%d#%d", from, to, i))
			}
			if g := got[pair{from, to}]; !slices.Equal(g, want) {
				t.Fatalf("%d->%d delivered %d messages, first difference in %v", from, to, len(g), g)
			}
		}
	}
}
