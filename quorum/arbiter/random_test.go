package arbiter

import (
	"container/heap"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"palisade/quorum/arbitration"
)

var randomRuns = flag.Int("arbiter.runs", 200, "seeds for TestRandomPartitions")

// TestRandomPartitions drives one arbiter core and the sessions of a 3-5
// node cluster through random splits, heals, message delays, losses,
// disconnections and arbiter restarts, in logical time. After every event
// it checks that no two views of the cluster count the vote at the same
// moment; at the end it heals everything and checks that the vote
// returns (liveness). A failing seed is printed and replays exactly.
func TestRandomPartitions(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*randomRuns); seed++ {
		if err := runRandom(seed, 400); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

type event struct {
	at   time.Duration
	seq  int
	kind int
	node int
	msg  Message
	conn ClientID
}

const (
	evToServer = iota
	evToClient
	evReport
	evTick
	evChaos
)

type events []*event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if e[i].at != e[j].at {
		return e[i].at < e[j].at
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int)  { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)    { *e = append(*e, x.(*event)) }
func (e *events) Pop() any      { old := *e; x := old[len(old)-1]; *e = old[:len(old)-1]; return x }
func (e *events) add(ev *event) { heap.Push(e, ev) }

type rnode struct {
	name  string
	sess  *Session
	conn  ClientID // 0: disconnected
	cutTo bool     // link to the arbiter down
	view  uint64
}

func runRandom(seed uint64, steps int) error {
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	const lease, interval = 2 * time.Second, 500 * time.Millisecond
	n := 3 + rng.IntN(3)
	alg := []string{"ffsplit", "lms"}[rng.IntN(2)]
	core := NewCore(CoreConfig{Lease: lease, ServerID: "r"})
	hello := &Hello{Cluster: "c", Algorithm: alg}
	var nodes []*rnode
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("n%d", i+1)
		nodes = append(nodes, &rnode{name: name, sess: NewSession(lease)})
		hello.Nodes = append(hello.Nodes, NodeVotes{Name: name, Votes: 1})
	}
	var q events
	now, seqNo := time.Duration(0), 0
	var nextConn ClientID
	push := func(at time.Duration, kind, node int, m Message, conn ClientID) {
		seqNo++
		q.add(&event{at: at, seq: seqNo, kind: kind, node: node, msg: m, conn: conn})
	}
	delay := func() time.Duration { return time.Duration(rng.IntN(150)) * time.Millisecond }
	toServer := func(i int, m Message) {
		nd := nodes[i]
		if nd.conn == 0 || nd.cutTo || rng.IntN(20) == 0 {
			return // lost
		}
		push(now+delay(), evToServer, i, m, nd.conn)
	}
	handle := func(outs []Output) {
		for _, o := range outs {
			if o.To == 0 {
				continue
			}
			for i, nd := range nodes {
				if nd.conn != o.To {
					continue
				}
				if o.Msg != nil && !nd.cutTo && rng.IntN(20) != 0 {
					push(now+delay(), evToClient, i, o.Msg, o.To)
				}
				if o.Close {
					nd.conn = 0
				}
			}
		}
	}
	connect := func(i int) {
		nextConn++
		nodes[i].conn = nextConn
		nodes[i].sess.Reconnected()
		h := *hello
		h.Node = nodes[i].name
		toServer(i, &h)
	}
	// Views: a random partition of the nodes; each node installs its new
	// view after its own random lag (the membership layer's detection).
	viewID := uint64(1)
	setViews := func(groups [][]string) {
		viewID++
		for _, g := range groups {
			for _, m := range g {
				i := slices.IndexFunc(nodes, func(nd *rnode) bool { return nd.name == m })
				lag := time.Duration(rng.IntN(1500)) * time.Millisecond
				push(now+lag, evChaos, i, &Report{View: viewID, Members: slices.Clone(g)}, 0)
			}
		}
	}
	all := func() []string {
		var s []string
		for _, nd := range nodes {
			s = append(s, nd.name)
		}
		return s
	}
	for i := range nodes {
		connect(i)
	}
	setViews([][]string{all()})
	for i := range nodes {
		push(time.Duration(i)*37*time.Millisecond, evReport, i, nil, 0)
	}
	push(100*time.Millisecond, evTick, -1, nil, 0)
	nextChaos := time.Second

	check := func() error {
		var key *arbitration.Key
		for _, nd := range nodes {
			if nd.sess.Voting(now) {
				if key != nil && *key != nd.sess.view {
					return fmt.Errorf("at %s two views count the vote: %s and %s (%s)", now, *key, nd.sess.view, alg)
				}
				k := nd.sess.view
				key = &k
			}
		}
		return nil
	}
	end := time.Duration(steps) * 100 * time.Millisecond
	healAt := end - 6*lease
	healed := false
	for q.Len() > 0 {
		ev := heap.Pop(&q).(*event)
		now = ev.at
		if now > end {
			break
		}
		if !healed && now >= healAt {
			healed = true
			for _, nd := range nodes {
				nd.cutTo = false
			}
			setViews([][]string{all()})
		}
		if !healed && now >= nextChaos {
			nextChaos = now + time.Duration(500+rng.IntN(2500))*time.Millisecond
			switch rng.IntN(6) {
			case 0, 1, 2: // split into random groups
				perm := rng.Perm(n)
				k := 1 + rng.IntN(n)
				groups := make([][]string, k)
				for j, p := range perm {
					groups[j%k] = append(groups[j%k], nodes[p].name)
				}
				setViews(groups)
			case 3: // cut or heal a node's path to the arbiter
				i := rng.IntN(n)
				nodes[i].cutTo = !nodes[i].cutTo
			case 4: // close a connection
				i := rng.IntN(n)
				if nodes[i].conn != 0 {
					handle(core.Disconnect(nodes[i].conn, now))
					nodes[i].conn = 0
				}
			case 5: // the arbiter restarts
				core = NewCore(CoreConfig{Lease: lease, ServerID: fmt.Sprintf("r%d", now)})
				for _, nd := range nodes {
					nd.conn = 0
				}
			}
		}
		switch ev.kind {
		case evToServer:
			if nodes[ev.node].conn != ev.conn {
				break // that connection is gone
			}
			switch m := ev.msg.(type) {
			case *Hello:
				handle(core.Hello(ev.conn, "c", m, now))
			case *Report:
				handle(core.Report(ev.conn, m, now))
			case *Release:
				handle(core.Release(ev.conn, m, now))
			}
		case evToClient:
			nd := nodes[ev.node]
			if nd.conn != ev.conn {
				break
			}
			switch m := ev.msg.(type) {
			case *Welcome:
				nd.sess.SetLease(time.Duration(m.LeaseMS) * time.Millisecond)
				if r := nd.sess.NextReport(now); r != nil {
					toServer(ev.node, r)
				}
			case *Vote:
				if rel := nd.sess.OnVote(m, now); rel != nil {
					toServer(ev.node, rel)
				}
			}
		case evReport:
			nd := nodes[ev.node]
			if nd.conn == 0 && rng.IntN(3) == 0 {
				connect(ev.node)
			} else if r := nd.sess.NextReport(now); r != nil && nd.conn != 0 {
				toServer(ev.node, r)
			}
			push(now+interval, evReport, ev.node, nil, 0)
		case evTick:
			handle(core.Tick(now))
			push(now+100*time.Millisecond, evTick, -1, nil, 0)
		case evChaos: // a delayed view installation
			r := ev.msg.(*Report)
			nd := nodes[ev.node]
			if r.View > nd.view {
				nd.view = r.View
				if nd.sess.SetView(r.View, r.Members, 0, false, now) {
					if rep := nd.sess.NextReport(now); rep != nil {
						toServer(ev.node, rep)
					}
				}
			}
		}
		if err := check(); err != nil {
			return err
		}
	}
	// Liveness: everything healed for several leases, one view: it must
	// count the vote on every node.
	for _, nd := range nodes {
		if !nd.sess.Voting(now) {
			v, why := nd.sess.Verdict()
			return fmt.Errorf("after healing, %s does not count the vote at %s (%s: %s; %d nodes, %s)", nd.name, now, v, why, n, alg)
		}
	}
	return nil
}
