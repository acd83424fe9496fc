package engine

import (
	"strings"
	"testing"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/quorum"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// toySchedule is a stand-in scheduler for these tests: every resource stays
// where it runs on an online node, else starts on the lowest online node;
// resources on unclean nodes get a fence action that their start waits for.
func toySchedule(cfg *model.Config, st model.Status, _ time.Time) ([]dc.PlannedAction, error) {
	state := map[string]string{}
	var online []string
	for _, n := range st.Nodes {
		state[n.Name] = n.State
		if n.State == model.NodeOnline {
			online = append(online, n.Name)
		}
	}
	var out []dc.PlannedAction
	for _, p := range replica.Primitives(cfg) {
		var where []string
		failed := false
		for _, r := range st.Resources {
			if r.Rsc == p.ID {
				where = append(where, r.Node)
				failed = failed || r.Failed
			}
		}
		var after []string
		ok := false
		for _, n := range where {
			switch state[n] {
			case model.NodeUnclean:
				out = append(out, dc.PlannedAction{ID: "fence-" + n, Op: "fence", Node: n})
				after = append(after, "fence-"+n)
			case model.NodeOnline:
				ok = !failed
				if failed {
					out = append(out, dc.PlannedAction{ID: "stop-" + p.ID, Op: "stop", Resource: p.ID, Node: n})
					after = append(after, "stop-"+p.ID)
				}
			}
		}
		if !ok && len(online) > 0 && !st.NoQuorum {
			out = append(out, dc.PlannedAction{ID: "start-" + p.ID, Op: "start", Resource: p.ID, Node: online[0], After: after})
		}
	}
	return out, nil
}

type sim struct {
	t     *testing.T
	now   time.Duration
	nodes map[string]*Engine
	log   []eventlog.Entry
	fence []FenceExec
	// fenceBy is the node whose engine asked for each fence (by ref).
	fenceBy map[uint64]string
	// actions a member ran, by node
	actions map[string][]dcmsg.Action
	// running: resource → node, as the members see it
	running map[string]string
	up      map[string]bool
	// configuration changes (config_test.go)
	cfgs cfgSim
	// operator answers
	answers []dcmsg.OpAnswer
	// ops every node's executor ran, in order (the "ran" command)
	ops map[string][]executor.Op
}

func testEngine(t *testing.T, n string, names []string, sched dc.Scheduler, cib *replica.CIB) *Engine {
	return testEngineWith(t, n, names, sched, cib, "")
}

// testEngineWith is testEngine with the node's safety digest set.
func testEngineWith(t *testing.T, n string, names []string, sched dc.Scheduler, cib *replica.CIB, safetyDigest string) *Engine {
	votes := map[string]int{}
	for _, n := range names {
		votes[n] = 1
	}
	q, err := quorum.New(quorum.Config{Nodes: votes})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Executor: true, Coordinator: dc.Config{Self: n, Nodes: names, Quorum: q,
		Gate:     recovery.New(recovery.Config{Self: n, Nodes: names}),
		Schedule: sched, Wall: func() time.Time { return time.Unix(0, 0) }, CIB: cib, SafetyDigest: safetyDigest}})
}

func newSim(t *testing.T, names ...string) *sim {
	s := &sim{t: t, nodes: map[string]*Engine{}, actions: map[string][]dcmsg.Action{}, running: map[string]string{}, up: map[string]bool{}, fenceBy: map[uint64]string{},
		ops: map[string][]executor.Op{}}
	cfg := &model.Config{Resources: []*model.Resource{{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{
		{ID: "vip", Class: "palisade", Type: "vip"}, {ID: "dummy", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}}}}
	for _, n := range names {
		s.nodes[n] = testEngine(t, n, names, toySchedule, &replica.CIB{Version: replica.Version{Epoch: 1}, Config: cfg})
		s.up[n] = true
	}
	return s
}

// view delivers an agreed view to the given members.
func (s *sim) view(id uint64, members ...string) {
	for _, m := range members {
		s.nodes[m].SetView(dcmsg.SimpleView(id, members...), s.now)
	}
	s.pump()
}

// setView delivers a view to one node only.
func (s *sim) setView(node string, id uint64, members ...string) {
	s.nodes[node].SetView(dcmsg.SimpleView(id, members...), s.now)
}

// pump delivers messages until quiet; members execute actions at once.
func (s *sim) pump() {
	for range 200 {
		busy := false
		for _, name := range s.names() {
			e := s.nodes[name]
			rd := e.Ready()
			s.log = append(s.log, rd.Log...)
			for _, f := range rd.Fence {
				s.fence = append(s.fence, f)
				s.fenceBy[f.Ref] = name
			}
			s.cfgs.results = append(s.cfgs.results, rd.ConfigResults...)
			s.answers = append(s.answers, rd.Answers...)
			if rd.Persist != nil {
				s.persist(name, rd.Persist)
			}
			for _, x := range rd.Exec {
				busy = true
				if s.up[name] {
					e.ExecDone(x.Ref, s.exec(name, x.Op), s.now)
				}
			}
			for _, o := range rd.Send {
				busy = true
				if !s.up[o.To] || !s.up[name] {
					continue
				}
				s.deliver(o.To, o.Msg)
			}
		}
		if !busy {
			return
		}
	}
	s.t.Fatal("messages never settled")
}

// exec is the members' executor: starts and stops take effect at once.
func (s *sim) exec(node string, op executor.Op) executor.Event {
	id := op.Instance.ID
	s.ops[node] = append(s.ops[node], op)
	ev := executor.Event{Node: node, Resource: id, Action: op.Action, Probe: op.Probe, Result: agent.Result{RC: agent.OK, Status: agent.StatusDone}}
	// What the executor records about the parameters (Dummy can reload
	// everything but its state file, the others cannot reload).
	rec := model.NewParamRecord(op.Instance.Params, false, nil, nil)
	if op.Instance.Type == "Dummy" {
		rec = model.NewParamRecord(op.Instance.Params, true, []string{"state"}, nil)
	}
	switch op.Action {
	case agent.Start, agent.ReloadAgent:
		ev.Ran = rec
	case agent.Monitor:
		if s.running[id] == node {
			ev.Ran = rec
		}
	}
	switch op.Action {
	case agent.ReloadAgent:
		s.actions[node] = append(s.actions[node], dcmsg.Action{Op: "reload-agent", Resource: id, Node: node})
	case agent.Start:
		s.actions[node] = append(s.actions[node], dcmsg.Action{Op: "start", Resource: id, Node: node})
		s.running[id] = node
	case agent.Stop:
		s.actions[node] = append(s.actions[node], dcmsg.Action{Op: "stop", Resource: id, Node: node})
		if s.running[id] == node {
			delete(s.running, id)
		}
	case agent.Monitor:
		if s.running[id] != node {
			ev.Result.RC = agent.NotRunning
		}
	}
	return ev
}

func (s *sim) deliver(to string, m dcmsg.Message) {
	// Round-trip through JSON like the wire does.
	b, err := dcmsg.Encode(m)
	if err != nil {
		s.t.Fatal(err)
	}
	m, err = dcmsg.Decode(m.From, b)
	if err != nil {
		s.t.Fatal(err)
	}
	s.nodes[to].Deliver(m, s.now)
}

// fenceResult answers the last fence of target with ok or a failure.
func (s *sim) fenceResult(target string, ok bool) {
	for i := len(s.fence) - 1; i >= 0; i-- {
		if f := s.fence[i]; f.Target == target {
			out := FenceOutcome{Confirmed: ok, Devices: "bmc-" + target}
			if !ok {
				out.Err = "BMC did not answer"
			}
			s.nodes[s.fenceBy[f.Ref]].FenceDone(f.Ref, out, s.now)
			s.pump()
			return
		}
	}
	s.t.Fatalf("no fence request for %s", target)
}

func (s *sim) tick() {
	for _, n := range s.names() {
		if s.up[n] {
			s.nodes[n].Tick(s.now)
		}
	}
	s.pump()
}

func (s *sim) where(rsc string) string { return s.running[rsc] }

func TestFailoverWaitsForFence(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	// n2 already runs the group when the cluster forms.
	s.running["vip"], s.running["dummy"] = "n2", "n2"
	s.view(1, "n1", "n2", "n3")
	if s.where("vip") != "n2" || len(s.actions["n1"]) != 0 {
		t.Fatalf("group moved without cause: %v %v", s.running, s.actions)
	}
	// Every member has the DC's CIB with the status of n2.
	if v := s.nodes["n3"].c.CIB().Version; v.NumUpdates == 0 {
		t.Fatalf("n3 never got a CIB update: %v", v)
	}
	// n2 dies.
	s.up["n2"] = false
	s.now = time.Second
	s.view(2, "n1", "n3")
	if len(s.fence) != 1 || s.fence[0].Target != "n2" {
		t.Fatalf("fence requests %v, want n2", s.fence)
	}
	if len(s.actions["n1"]) != 0 {
		t.Fatalf("started before the fence: %v", s.actions["n1"])
	}
	// Fence fails: still nothing.
	s.now = 2 * time.Second
	s.fenceResult("n2", false)
	if len(s.actions["n1"]) != 0 {
		t.Fatal("started after a failed fence")
	}
	s.now = 3 * time.Second
	s.tick()
	if len(s.fence) != 2 {
		t.Fatalf("no retry: %v", s.fence)
	}
	s.fenceResult("n2", true)
	if s.where("vip") != "n1" || s.where("dummy") != "n1" {
		t.Fatalf("after fence: running %v", s.running)
	}
	if vs := recovery.Verify(s.log); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
}

func TestNewDCKnowsLostDCResources(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.running["vip"], s.running["dummy"] = "n1", "n1"
	s.view(1, "n1", "n2", "n3")
	// The DC itself dies; n2 becomes DC and must know n1 ran the group.
	s.up["n1"] = false
	s.now = time.Second
	s.view(2, "n2", "n3")
	if len(s.fence) != 1 || s.fence[0].Target != "n1" {
		t.Fatalf("fence %v, want n1", s.fence)
	}
	if len(s.actions["n2"]) != 0 {
		t.Fatalf("new DC started before fencing the old one: %v", s.actions["n2"])
	}
	if err := s.nodes["n2"].c.Confirm("n1", "alice", s.now); err != nil {
		t.Fatal(err)
	}
	s.pump()
	if s.where("vip") != "n2" {
		t.Fatalf("running %v", s.running)
	}
	if vs := recovery.Verify(s.log); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
}

func TestStaleViewActionRefused(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.view(1, "n1", "n2", "n3")
	// n3 moves on to view 2 before n1's action (view 1) arrives.
	s.setView("n3", 2, "n1", "n2", "n3")
	s.nodes["n3"].Ready()
	s.nodes["n3"].Deliver(dcmsg.Message{Kind: dcmsg.KindAction, View: 1, From: "n1", Action: &dcmsg.Action{ID: 99, Op: "start", Resource: "vip", Node: "n3"}}, s.now)
	rd := s.nodes["n3"].Ready()
	if len(rd.Exec) != 0 || len(rd.Send) != 1 || rd.Send[0].Msg.Result == nil || !rd.Send[0].Msg.Result.Refused ||
		!strings.Contains(rd.Send[0].Msg.Result.Reason, "view 1 refused") {
		t.Fatalf("an action of an old view was not refused: %+v", rd)
	}
}

func TestInquorateNeverActs(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.running["vip"] = "n1"
	s.view(1, "n1", "n2", "n3")
	s.up["n1"], s.up["n2"] = false, false
	s.view(2, "n3")
	if len(s.fence) != 0 || len(s.actions["n3"]) != 0 {
		t.Fatalf("inquorate partition acted: fence %v actions %v", s.fence, s.actions["n3"])
	}
	if vs := recovery.Verify(s.log); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
}

func TestCIBHighestVersionWins(t *testing.T) {
	a := &replica.CIB{Version: replica.Version{AdminEpoch: 0, Epoch: 5, NumUpdates: 9}}
	b := &replica.CIB{Version: replica.Version{AdminEpoch: 1, Epoch: 0, NumUpdates: 0}}
	if replica.Newer(a, b) != b || replica.Newer(b, a) != b || replica.Newer(a, nil) != a {
		t.Fatal("admin_epoch must dominate")
	}
	c := &replica.CIB{Version: replica.Version{Epoch: 5, NumUpdates: 10}}
	if replica.Newer(a, c) != c {
		t.Fatal("num_updates breaks ties")
	}
}

func TestRefusedActionIsHeldBack(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.running["vip"], s.running["dummy"] = "n2", "n2"
	s.view(1, "n1", "n2", "n3")
	// From now on the scheduler wants a stop of dummy on n2, which n2
	// refuses while it believes it is in view 7.
	s.nodes["n1"].c.SetScheduler(func(_ *model.Config, st model.Status, _ time.Time) ([]dc.PlannedAction, error) {
		for _, r := range st.Resources {
			if r.Rsc == "dummy" && r.Node == "n2" {
				return []dc.PlannedAction{{ID: "1", Op: "stop", Resource: "dummy", Node: "n2"}}, nil
			}
		}
		return nil, nil
	})
	s.setView("n2", 7, "n1", "n2", "n3")
	s.nodes["n2"].Ready()
	s.nodes["n1"].Deliver(dcmsg.Message{Kind: dcmsg.KindStatus, View: 1, From: "n3", Status: &dcmsg.NodeStatus{Node: "n3"}}, s.now) // any event that reschedules
	s.pump()
	count := func() int {
		n := 0
		for _, e := range s.log {
			if e.Event == eventlog.ActionSent && e.Resource == "dummy" {
				n++
			}
		}
		return n
	}
	if got := count(); got != 1 {
		t.Fatalf("%d stop actions sent, want 1 (then hold back)", got)
	}
	s.now += dc.RefusalHold / 2
	s.nodes["n1"].Tick(s.now)
	s.pump()
	if got := count(); got != 1 {
		t.Fatalf("resent during the hold: %d", got)
	}
	s.now += dc.RefusalHold
	s.setView("n2", 1, "n1", "n2", "n3") // converged
	s.nodes["n2"].Ready()
	s.nodes["n1"].Tick(s.now)
	s.pump()
	if got := count(); got != 2 || s.where("dummy") != "" {
		t.Fatalf("after the hold: %d sends, dummy on %q; want a second send that stops it", got, s.where("dummy"))
	}
}
