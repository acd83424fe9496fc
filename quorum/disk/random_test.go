package disk

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

var diskRuns = flag.Int("disk.runs", 40, "seeds for TestRandomDisk")

// TestRandomDisk drives 2-4 nodes on 1 or 3 simulated disks through
// random splits and heals, lost disk paths (whole, or writes only),
// crashes and restarts, score changes and poison pills, in logical time.
// dsim checks after every event that no two views are quorate or count
// the disk's votes at once, that every pill's target is dead by msgwait,
// and that a self-fenced node never feeds its watchdog. At the end every
// path is healed, every node restarted into one view, and the disk's
// votes must come back (liveness). A failing seed replays exactly.
func TestRandomDisk(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*diskRuns); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runRandomDisk(t, seed) })
	}
}

func runRandomDisk(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	nnodes := 2 + rng.IntN(3)
	ndisks := []int{1, 3}[rng.IntN(2)]
	h := Header{SectorSize: 512, Slots: 8, Cluster: "sim", Timeouts: DefaultTimeouts}
	s := &dsim{t: t, hdr: h, nodes: map[string]*dnode{}}
	var devs []*Device
	for i := 0; i < ndisks; i++ {
		md := NewMemDisk(int(h.Size()))
		s.disks = append(s.disks, md)
		devs = append(devs, &Device{IO: md.Path(), Name: fmt.Sprint("disk", i)})
	}
	for i := 0; i < nnodes; i++ {
		s.order = append(s.order, fmt.Sprintf("n%d", i+1))
	}
	if err := Create(devs, h, s.order); err != nil {
		t.Fatal(err)
	}
	alg := []quorum.Algorithm{quorum.AlgorithmLMS, quorum.AlgorithmFFSplit}[rng.IntN(2)]
	s.cfg = Config{Algorithm: alg, Evict: rng.IntN(2) == 0}
	votes := map[string]int{}
	for _, n := range s.order {
		s.cfg.Nodes = append(s.cfg.Nodes, arbitration.Node{Name: n, Votes: 1})
		votes[n] = 1
	}
	qc, _ := quorum.New(quorum.Config{Nodes: votes, Device: quorum.Device{Model: quorum.DeviceDisk, Algorithm: alg}})
	s.cfg.DeviceVotes = qc.DeviceVotes()
	for i, n := range s.order {
		s.nodes[n] = s.newNode(n, i)
	}
	setViews := func(groups [][]string) {
		for _, g := range groups {
			s.viewID++
			for _, m := range g {
				n := s.nodes[m]
				n.held = n.quorate
				n.view, n.members = s.viewID, g
			}
		}
		s.settle()
	}
	setViews([][]string{s.order})
	defer func() {
		if t.Failed() {
			t.Logf("seed %d (%d nodes, %d disks, %s, evict=%v), last events:\n%s", seed, nnodes, ndisks, alg, s.cfg.Evict, tail(s.out, 40))
		}
	}()
	for step := 0; step < 60; step++ {
		s.run(s.now + time.Duration(1+rng.IntN(8))*time.Second)
		if len(s.out) > 2000 {
			s.out = s.out[len(s.out)-200:]
		}
		n := s.nodes[s.order[rng.IntN(nnodes)]]
		switch rng.IntN(8) {
		case 0, 1: // split the live nodes at random (the dead ones are alone)
			perm := rng.Perm(nnodes)
			k := 1 + rng.IntN(nnodes)
			groups := make([][]string, k)
			for j, p := range perm {
				groups[j%k] = append(groups[j%k], s.order[p])
			}
			var gs [][]string
			for _, g := range groups {
				if len(g) > 0 {
					gs = append(gs, g)
				}
			}
			setViews(gs)
		case 2: // heal the membership
			setViews([][]string{s.order})
		case 3: // a path fails or comes back
			p := n.paths[rng.IntN(len(n.paths))]
			switch rng.IntN(3) {
			case 0:
				p.SetDown(true)
			case 1:
				p.SetReadOnly(true)
			default:
				p.SetDown(false)
				p.SetReadOnly(false)
			}
		case 4: // crash or restart
			if n.dead {
				// The membership agrees on the restart: the node's old
				// partition drops it, it starts alone.
				var rest []string
				for _, m := range n.members {
					if m != n.name {
						rest = append(rest, m)
					}
				}
				s.nodes[n.name] = s.newNode(n.name, n.idx)
				groups := [][]string{{n.name}}
				if len(rest) > 0 {
					groups = append(groups, rest)
				}
				setViews(groups)
			} else if rng.IntN(3) == 0 {
				n.dead, n.deadAt, n.feeding = true, s.now, false
			}
		case 5: // heuristics
			n.score = rng.IntN(3) * 50
		case 6: // a pill from a quorate node, as the fencer would send it
			var from, to *dnode
			for _, name := range s.order {
				x := s.nodes[name]
				if !x.dead && x.quorate && from == nil {
					from = x
				}
			}
			for _, name := range s.order {
				x := s.nodes[name]
				if from != nil && !x.dead && !strings.Contains(","+strings.Join(from.members, ",")+",", ","+x.name+",") {
					to = x
				}
			}
			if from == nil || to == nil {
				break
			}
			var ds []*Device
			for i, p := range from.paths {
				ds = append(ds, &Device{IO: p, Name: fmt.Sprint("disk", i)})
			}
			hh, _, err := ReadHeaders(ds)
			if err != nil {
				break
			}
			if _, err := Deliver(ds, hh, Mailbox{Type: MsgReset, Nonce: uint64(s.now) | 1, Sender: from.name, Target: to.name}); err == nil {
				s.pills = append(s.pills, pill{target: to.name, node: to, at: s.now, typ: MsgReset})
			}
		default:
		}
	}
	// Liveness: heal every path, restart every dead node, one view. A node
	// may find a pill it never handled (sent while it was down) and obey
	// it once at start: it then starts a second time, and clears it.
	for round := 0; round < 2; round++ {
		for _, name := range s.order {
			n := s.nodes[name]
			for _, p := range n.paths {
				p.SetDown(false)
				p.SetReadOnly(false)
			}
			if n.dead {
				s.nodes[name] = s.newNode(n.name, n.idx)
			}
			s.nodes[name].score = 0
		}
		setViews([][]string{s.order})
		s.run(s.now + 30*time.Second)
	}
	for _, name := range s.order {
		n := s.nodes[name]
		if n.dead || !n.counting || !n.quorate {
			t.Fatalf("after healing, %s: dead=%v counts=%v quorate=%v master=%q", name, n.dead, n.counting, n.quorate, n.last.Master)
		}
	}
}

func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
