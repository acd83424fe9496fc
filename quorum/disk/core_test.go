package disk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// dsim runs several nodes' disk cores over shared in-memory disks in
// logical time, with each node's quorum computed by quorum.Calculator from
// its view and the disk's vote (as the daemon will), a stand-in watchdog
// per node, and poison pills sent through Deliver. After every event it
// checks the safety invariants:
//
//   - at no moment are two different views quorate;
//   - at no moment do two different views count the disk's votes;
//   - msgwait after a pill was delivered, its target is dead: it fenced
//     itself or its watchdog expired, no later than that moment;
//   - a node that fenced itself never feeds its watchdog again.
type dsim struct {
	t       *testing.T
	now     time.Duration
	hdr     Header
	disks   []*MemDisk
	nodes   map[string]*dnode
	order   []string
	cfg     Config
	devVote int
	viewID  uint64
	pills   []pill
	out     []string
}

type pill struct {
	target string
	node   *dnode // the run of the target alive when the pill was sent
	at     time.Duration
	typ    MessageType
	done   bool
}

type dnode struct {
	name     string
	idx      int
	core     *Core
	paths    []*MemPath
	calc     *quorum.Calculator
	view     uint64
	members  []string
	score    int
	held     bool
	next     time.Duration
	dead     bool
	deadAt   time.Duration
	armed    bool
	lastFeed time.Duration
	fenced   bool
	last     Ready
	lastKey  arbitration.Key // the view the last step was about
	quorate  bool
	qstate   string
	qkey     arbitration.Key
	feeding  bool
	counting bool
	inc      uint64
}

func (s *dsim) logf(node, format string, args ...any) {
	s.out = append(s.out, fmt.Sprintf("%s %s: %s", s.now, node, fmt.Sprintf(format, args...)))
}

func (s *dsim) newNode(name string, idx int) *dnode {
	n := &dnode{name: name, idx: idx, next: s.now + time.Duration(idx+1)*100*time.Millisecond, view: 0, members: []string{name}}
	if old := s.nodes[name]; old != nil {
		n.paths, n.inc = old.paths, old.inc
	} else {
		for _, d := range s.disks {
			n.paths = append(n.paths, d.Path())
		}
	}
	n.inc++
	var devs []*Device
	for i, p := range n.paths {
		devs = append(devs, &Device{IO: p, Name: fmt.Sprintf("disk%d", i)})
	}
	cfg := s.cfg
	cfg.Self = name
	cfg.Incarnation = uint64(idx+1)<<32 | n.inc
	c, err := NewCore(cfg, devs)
	if err != nil {
		s.t.Fatal(err)
	}
	n.core = c
	// As disk.Open: palisaded starts only if a majority of the headers is
	// readable, and then arms its watchdog at once.
	var probe []*Device
	for i, p := range n.paths {
		probe = append(probe, &Device{IO: p, Name: fmt.Sprintf("disk%d", i)})
	}
	if _, _, err := ReadHeaders(probe); err != nil {
		n.dead, n.deadAt = true, s.now
		s.logf(name, "does not start: %v", err)
	} else {
		n.armed, n.lastFeed, n.feeding = true, s.now, true
	}
	votes := map[string]int{}
	for _, nd := range cfg.Nodes {
		votes[nd.Name] = nd.Votes
	}
	n.calc, err = quorum.New(quorum.Config{Nodes: votes, Device: quorum.Device{Model: quorum.DeviceDisk, Algorithm: cfg.Algorithm}})
	if err != nil {
		s.t.Fatal(err)
	}
	s.devVote = n.calc.DeviceVotes()
	return n
}

func (n *dnode) key() arbitration.Key { return arbitration.KeyOf(n.view, n.members) }

// stepNode runs one disk loop of n.
func (s *dsim) stepNode(n *dnode) {
	st := n.calc.UpdateWithDevice(n.members, quorum.DeviceVote{Voting: n.counting, Pending: n.last.Vote.Pending}, s.now)
	in := Input{Quorate: st.Quorate, View: n.view, Members: n.members, Score: n.score, Held: n.held}
	r := n.core.Step(s.now, in)
	n.last, n.lastKey = r, n.key()
	for _, e := range r.Events {
		s.logf(n.name, "%s", e)
	}
	if r.Err != nil {
		s.logf(n.name, "refuses to run: %v", r.Err)
		n.dead, n.deadAt = true, s.now
		return
	}
	if r.SelfFence != nil {
		n.fenced, n.dead, n.deadAt, n.feeding = true, true, s.now, false
		s.logf(n.name, "fences itself (%s), stops feeding its watchdog", r.SelfFence.Action)
		return
	}
	if r.Feed {
		if n.fenced {
			s.t.Fatalf("%s: %s feeds its watchdog after fencing itself", s.now, n.name)
		}
		n.armed, n.lastFeed = true, s.now
	}
	if r.Feed != n.feeding && n.armed {
		if r.Feed {
			s.logf(n.name, "feeds its watchdog")
		} else {
			s.logf(n.name, "stops feeding its watchdog (disks %d/%d, quorate=%v)", r.Reached, r.Disks, in.Quorate)
		}
	}
	n.feeding = r.Feed
	n.next = s.now + s.hdr.Timeouts.Loop
}

// counts reports whether n counts the disk's votes at now.
func (s *dsim) counts(n *dnode) bool {
	// A verdict is about the view it was computed for: a new view counts
	// nothing until the next step (the Runner does the same).
	return !n.dead && n.last.Vote.Voting && s.now < n.last.VoteUntil && n.lastKey == n.key()
}

// settle recomputes every node's quorum at now and checks the invariants.
func (s *dsim) settle() {
	var quorate, counting []*dnode
	for _, name := range s.order {
		n := s.nodes[name]
		if n.dead {
			continue
		}
		c := s.counts(n)
		if c != n.counting {
			if c {
				s.logf(n.name, "counts the disk's votes for %s", n.key())
			} else {
				s.logf(n.name, "no longer counts the disk's votes")
			}
			n.counting = c
		}
		pending := n.last.Vote.Pending || n.lastKey != n.key() && !n.dead
		st := n.calc.UpdateWithDevice(n.members, quorum.DeviceVote{Voting: c, Pending: pending}, s.now)
		qs := "inquorate"
		switch {
		case st.Quorate:
			qs = "quorate"
		case st.Pending:
			qs = "undecided"
		}
		if qs != n.qstate || n.key() != n.qkey {
			s.logf(n.name, "%s in %s (%s)", qs, n.key(), st.Reason)
			n.qstate, n.qkey = qs, n.key()
		}
		n.quorate = st.Quorate
		if n.quorate {
			quorate = append(quorate, n)
		}
		if c {
			counting = append(counting, n)
		}
	}
	for _, set := range []struct {
		what  string
		nodes []*dnode
	}{{"quorate", quorate}, {"count the disk's votes", counting}} {
		for _, n := range set.nodes {
			if n.key() != set.nodes[0].key() {
				s.t.Fatalf("%s: two views %s: %s in %s and %s in %s", s.now, set.what, set.nodes[0].name, set.nodes[0].key(), n.name, n.key())
			}
		}
	}
	for i := range s.pills {
		p := &s.pills[i]
		if p.done || s.now < p.at+s.hdr.Timeouts.MsgWait {
			continue
		}
		p.done = true
		n := p.node
		switch {
		case n.dead && n.deadAt <= p.at+s.hdr.Timeouts.MsgWait:
			s.logf("check", "msgwait after the %s pill to %s (sent %s): %s dead since %s", p.typ, n.name, p.at, n.name, n.deadAt)
		default:
			s.t.Fatalf("%s: msgwait after the pill to %s (sent %s) it is still alive", s.now, n.name, p.at)
		}
	}
}

// run advances logical time to until, stepping nodes and firing
// watchdogs in time order.
func (s *dsim) run(until time.Duration) {
	for {
		next, what := until+1, (*dnode)(nil)
		watchdog := false
		for _, name := range s.order {
			n := s.nodes[name]
			if n.dead {
				continue
			}
			if n.next < next {
				next, what, watchdog = n.next, n, false
			}
			if n.armed && !n.feeding {
				if at := n.lastFeed + s.hdr.Timeouts.Watchdog; at < next {
					next, what, watchdog = at, n, true
				}
			}
		}
		for _, p := range s.pills {
			if at := p.at + s.hdr.Timeouts.MsgWait; !p.done && at < next && at > s.now {
				next, what, watchdog = at, nil, false
			}
		}
		if next > until {
			s.now = until
			s.settle()
			return
		}
		s.now = next
		switch {
		case what == nil:
		case watchdog:
			what.dead, what.deadAt, what.feeding = true, s.now, false
			s.logf(what.name, "watchdog fires (last fed at %s): the node resets", what.lastFeed)
		default:
			s.stepNode(what)
		}
		s.settle()
	}
}

// TestScenarios runs testdata/*.txt (datadriven; -rewrite regenerates):
//
//	create disks=1|3 slots=N nodes=a,b [watchdog=5s msgwait=10s loop=1s io=1s dead=6s]
//	cluster nodes=n1,n2 [alg=lms|ffsplit] [evict] [min_score=N] [tb=n1]  starts every node
//	view members=n1,n2                   a new agreed view for those nodes
//	score node=n1 value=N
//	run until=T                          logical time passes; prints what happens
//	cut node=n1 disks=0,1|all [writes]   the node's paths fail (or only their writes)
//	heal node=n1 disks=0,1|all
//	pill to=n2 type=reset|off|test|clear [via=n1]   a message through Deliver, over via's paths
//	kill node=n1 / restart node=n1       a crash (no watchdog involved) / a new run
//	status
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.HasSuffix(path, ".txt") {
			return
		}
		var s *dsim
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			args := map[string]string{}
			for _, a := range d.CmdArgs {
				args[a.Key] = strings.Join(a.Vals, ",")
			}
			dur := func(k string, def time.Duration) time.Duration {
				v, ok := args[k]
				if !ok {
					return def
				}
				x, err := time.ParseDuration(v)
				if err != nil {
					d.Fatalf(t, "%s: %v", k, err)
				}
				return x
			}
			if s != nil {
				s.t, s.out = t, nil
			}
			switch d.Cmd {
			case "create":
				n, _ := strconv.Atoi(args["disks"])
				slots, _ := strconv.Atoi(args["slots"])
				to := DefaultTimeouts
				to = Timeouts{Watchdog: dur("watchdog", to.Watchdog), MsgWait: dur("msgwait", to.MsgWait), Loop: dur("loop", to.Loop), IO: dur("io", to.IO), DeadAfter: dur("dead", to.DeadAfter)}
				h := Header{SectorSize: 512, Slots: slots, Cluster: "sim", Timeouts: to}
				s = &dsim{t: t, hdr: h, nodes: map[string]*dnode{}}
				var devs []*Device
				for i := 0; i < n; i++ {
					md := NewMemDisk(int(h.Size()))
					s.disks = append(s.disks, md)
					devs = append(devs, &Device{IO: md.Path(), Name: fmt.Sprintf("disk%d", i)})
				}
				var nodes []string
				if args["nodes"] != "" {
					nodes = strings.Split(args["nodes"], ",")
				}
				if err := Create(devs, h, nodes); err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("%d disks, %d slots, %s", n, slots, formatTimeouts(to))
			case "cluster":
				s.cfg = Config{Algorithm: quorum.AlgorithmLMS, Evict: d.HasArg("evict"), TieBreaker: args["tb"]}
				if a, ok := args["alg"]; ok {
					s.cfg.Algorithm = quorum.Algorithm(a)
				}
				s.cfg.MinScore, _ = strconv.Atoi(args["min_score"])
				s.order = strings.Split(args["nodes"], ",")
				for _, n := range s.order {
					s.cfg.Nodes = append(s.cfg.Nodes, arbitration.Node{Name: n, Votes: 1})
				}
				votes := map[string]int{}
				for _, n := range s.order {
					votes[n] = 1
				}
				qc, err := quorum.New(quorum.Config{Nodes: votes, Device: quorum.Device{Model: quorum.DeviceDisk, Algorithm: s.cfg.Algorithm}})
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				s.cfg.DeviceVotes = qc.DeviceVotes()
				for i, n := range s.order {
					s.nodes[n] = s.newNode(n, i)
				}
				return fmt.Sprintf("%s, the disk carries %d votes", s.cfg.Algorithm, s.cfg.DeviceVotes)
			case "view":
				members := strings.Split(args["members"], ",")
				s.viewID++
				for _, m := range members {
					n := s.nodes[m]
					n.held = n.quorate
					n.view, n.members = s.viewID, members
				}
				s.settle()
			case "score":
				v, _ := strconv.Atoi(args["value"])
				s.nodes[args["node"]].score = v
			case "run":
				s.run(dur("until", 0))
			case "cut", "heal":
				n := s.nodes[args["node"]]
				for i, p := range n.paths {
					if args["disks"] != "all" && !slices.Contains(strings.Split(args["disks"], ","), strconv.Itoa(i)) {
						continue
					}
					if d.HasArg("writes") {
						p.SetReadOnly(d.Cmd == "cut")
					} else {
						p.SetDown(d.Cmd == "cut")
					}
				}
			case "pill":
				typ, err := ParseMessageType(args["type"])
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				var devs []*Device
				for i, dk := range s.disks {
					var io BlockIO = dk.Path()
					if via, ok := args["via"]; ok {
						io = s.nodes[via].paths[i]
					}
					devs = append(devs, &Device{IO: io, Name: fmt.Sprintf("disk%d", i)})
				}
				h, _, err := ReadHeaders(devs)
				if err != nil {
					return "error: " + err.Error()
				}
				res, err := Deliver(devs, h, Mailbox{Type: typ, Nonce: uint64(s.now) | 1, Sender: "dc", Target: args["to"]})
				if err != nil {
					return "error: " + err.Error()
				}
				if typ.IsPill() {
					s.pills = append(s.pills, pill{target: args["to"], node: s.nodes[args["to"]], at: s.now, typ: typ})
				}
				return fmt.Sprintf("%s message for %s in slot %d, verified on %d of %d disks", typ, args["to"], res.Slot, res.Verified, res.Disks)
			case "kill":
				n := s.nodes[args["node"]]
				n.dead, n.deadAt, n.feeding = true, s.now, false
				s.logf(n.name, "crashes")
			case "restart":
				old := s.nodes[args["node"]]
				n := s.newNode(old.name, old.idx)
				s.nodes[old.name] = n
				s.logf(n.name, "starts again")
			case "status":
				for _, name := range s.order {
					n := s.nodes[name]
					state := "alive"
					if n.dead {
						state = "dead"
					}
					s.out = append(s.out, fmt.Sprintf("%s: %s %s quorate=%v counts=%v feeds=%v master=%q disks=%d/%d", name, state, n.key(), n.quorate, n.counting, n.feeding, n.last.Master, n.last.Reached, n.last.Disks))
				}
			default:
				d.Fatalf(t, "unknown directive %q", d.Cmd)
			}
			if len(s.out) == 0 {
				return ""
			}
			return strings.Join(s.out, "\n") + "\n"
		})
	})
}
