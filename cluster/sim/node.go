package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/engine"
	"palisade/cluster/eventlog"
	"palisade/cluster/membership"
	"palisade/cluster/recovery"
	"palisade/cluster/reliable"
	"palisade/cluster/replica"
	"palisade/cluster/wire"
	"palisade/fence/topology"
	"palisade/quorum"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

var quiet = slog.New(slog.DiscardHandler)

// node is one simulated machine: its power, its palisaded process (the
// production cores) and what it persisted.
type node struct {
	w    *World
	idx  int
	name string
	id   membership.NodeID

	powered, alive, paused bool
	// epoch changes whenever the process dies or starts: events of an
	// older epoch are dropped.
	epoch int
	gen   uint64
	// persisted survives crashes (state_dir/cib.json).
	persisted *replica.Persisted

	mem    *membership.Membership
	rel    *reliable.Endpoint
	eng    *engine.Engine
	exec   *executor.Executor
	fencer *topology.Fencer

	// dev is the daemon's side of the quorum device (device.go).
	dev *nodeDevice

	// views is this node's recent membership views (member sets and
	// since when), for the ground-truth agreement check.
	views []viewRec

	tasks     []*task
	deferred  []func()
	monitors  map[monKey]*simMonitor
	fences    map[uint64]*simFence
	busyUntil map[string]time.Duration
	// stopsEnding: resources whose stop succeeded and ends at the given
	// time (the world deactivates them then).
	reqSeq int
}

type monKey struct {
	rsc      string
	interval time.Duration
}

type simMonitor struct {
	op    executor.Op
	state executor.MonitorState
	live  bool
}

type simFence struct {
	f         engine.FenceExec
	cancelled bool
}

// task is a periodic timer of the process (heartbeat, ticks). A paused
// process misses ticks; like a Go ticker it fires once when it resumes.
type task struct {
	period time.Duration
	fn     func()
	missed bool
}

func newNode(w *World, i int) *node {
	name := fmt.Sprintf("n%d", i+1)
	return &node{w: w, idx: i, name: name, id: membership.NodeID(i + 1)}
}

func (n *node) running() bool { return n.powered && n.alive && !n.paused }

// later schedules fn on this process after d: dropped if the process died
// meanwhile, held while it is paused.
func (n *node) later(d time.Duration, fn func()) {
	epoch := n.epoch
	n.w.after(d, func() {
		if n.epoch != epoch || !n.alive {
			return
		}
		if n.paused {
			n.deferred = append(n.deferred, fn)
			return
		}
		fn()
	})
}

func (n *node) every(period time.Duration, fn func()) {
	t := &task{period: period, fn: fn}
	n.tasks = append(n.tasks, t)
	n.schedule(t, period)
}

func (n *node) schedule(t *task, d time.Duration) {
	epoch := n.epoch
	n.w.after(d, func() {
		if n.epoch != epoch || !n.alive {
			return
		}
		if n.paused {
			t.missed = true
			return
		}
		t.fn()
		n.schedule(t, t.period)
	})
}

// powerOn switches the machine on; the daemon starts after boot (at once
// for the first start of the run).
func (n *node) powerOn(boot time.Duration) {
	if n.powered {
		return
	}
	n.powered = true
	n.w.trace("%s powered on", n.name)
	epoch := n.epoch
	n.w.after(boot, func() {
		if n.powered && n.epoch == epoch && !n.alive {
			n.start()
		}
	})
}

// powerOff is what a fence device does: the machine stops at once, and
// everything that ran on it with it.
func (n *node) powerOff() {
	if !n.powered {
		return
	}
	n.w.trace("%s powered OFF", n.name)
	n.powered, n.alive, n.paused = false, false, false
	n.die()
	for _, rsc := range sortedKeys(n.w.active) {
		n.w.setActive(rsc, n.name, false)
	}
	n.w.res.Fences++
	if !n.w.faultsOn && n.w.healedAt > 0 || n.w.opts.Faults == 0 {
		// After the faults: the operator powers a fenced machine on again
		// (with fencing action off it would stay down for inspection).
		n.w.after(time.Second, func() { n.powerOn(n.w.opts.Boot) })
	}
}

// crash kills the daemon (kill -9): its resources keep running.
func (n *node) crash() {
	if !n.alive {
		return
	}
	n.w.trace("%s palisaded killed", n.name)
	n.alive, n.paused = false, false
	n.die()
}

func (n *node) die() {
	if n.w.dev != nil {
		n.w.dev.stop(n)
	}
	n.epoch++
	n.deferred, n.tasks = nil, nil
	if n.exec != nil {
		n.exec.Close()
	}
	n.mem, n.rel, n.eng, n.exec, n.fencer = nil, nil, nil, nil, nil
	n.w.disturb(n.name)
}

// restart starts the daemon again on a powered machine.
func (n *node) restart() {
	if n.powered && !n.alive {
		n.start()
	}
}

func (n *node) pause() {
	if n.running() {
		n.w.trace("%s palisaded paused (SIGSTOP)", n.name)
		n.paused = true
		n.w.disturb(n.name)
	}
}

// resume continues a paused process: what queued while it was stopped
// (datagrams, one tick of each timer) runs in an order the seed picks, as
// the Go scheduler might.
func (n *node) resume() {
	if !n.paused || !n.alive {
		return
	}
	n.w.trace("%s palisaded resumed (SIGCONT)", n.name)
	n.paused = false
	n.w.disturb(n.name)
	work := n.deferred
	n.deferred = nil
	for _, t := range n.tasks {
		if t.missed {
			t.missed = false
			work = append(work, t.fn)
			n.schedule(t, t.period)
		}
	}
	n.w.rng.Shuffle(len(work), func(i, j int) { work[i], work[j] = work[j], work[i] })
	epoch := n.epoch
	for _, f := range work {
		if n.epoch != epoch || !n.alive || n.paused {
			return
		}
		f()
	}
}

// start runs palisaded: a new generation, the cores built from the
// persisted state, the timers.
func (n *node) start() {
	w := n.w
	n.epoch++
	n.alive, n.paused = true, false
	n.gen++
	n.deferred, n.tasks = nil, nil
	n.monitors, n.fences, n.busyUntil = map[monKey]*simMonitor{}, map[uint64]*simFence{}, map[string]time.Duration{}
	w.disturb(n.name)
	w.trace("%s palisaded starts, generation %d", n.name, n.gen)
	w.appendLog(n.name, []eventlog.Entry{{Event: eventlog.DaemonStarted, Detail: fmt.Sprintf("generation %d", n.gen)}})
	names := w.names()
	ids := make([]membership.NodeID, len(names))
	votes := map[string]int{}
	for i, nm := range names {
		ids[i] = nodeID(nm)
		votes[nm] = 1
	}
	mem, err := membership.New(membership.Config{Self: n.id, Generation: n.gen, Nodes: ids, Links: w.opts.Links,
		Timing: membership.Timing{Keepalive: Keepalive, Warntime: Warntime, Deadtime: Deadtime, Initdead: Initdead}, Start: w.now})
	if err != nil {
		panic(err)
	}
	if n.persisted != nil {
		mem.RaiseViewFloor(n.persisted.View)
	}
	rel, err := reliable.New(reliable.Config{Self: uint32(n.id), Generation: n.gen})
	if err != nil {
		panic(err)
	}
	qc := quorum.Config{Nodes: votes, TwoNode: len(names) == 2}
	if w.dev != nil {
		qc = w.dev.quorumConfig(votes) // a device breaks ties, not two_node
	}
	q, err := quorum.New(qc)
	if err != nil {
		panic(err)
	}
	gate := recovery.New(recovery.Config{Self: n.name, Nodes: names, StaticDelay: recovery.DefaultStaticDelays(names, 0),
		RetryInitial: 500 * time.Millisecond, RetryMax: 4 * time.Second, StartupFencing: true, NoQuorumPolicy: quorum.PolicyStop})
	cib, _, _ := replica.StartCIB(n.persisted, baseConfig(), 0)
	n.mem, n.rel = mem, rel
	n.eng = engine.New(engine.Config{Executor: true, Coordinator: dc.Config{Self: n.name, Nodes: names, Quorum: q, Gate: gate,
		Schedule: engine.PackageScheduler, Wall: w.wall, CIB: cib, StaleAfter: staleAfter}})
	n.exec = executor.New(executor.Config{Node: n.name, Agent: simAgent{n}, Fencing: true, StartFailureIsFatal: true, Logger: quiet, Now: w.wall})
	n.fencer = newFencer(w, names)
	n.eng.MembershipTick(w.now, 0)
	if w.dev != nil {
		w.dev.start(n)
	}
	n.every(Keepalive, n.sendHeartbeat)
	n.every(memTick, n.tick)
	n.every(engineTick, func() {
		n.eng.Tick(n.w.now)
		n.pump()
	})
	n.sendHeartbeat()
}

func (n *node) tick() {
	n.mem.Tick(n.w.now)
	n.afterMembership()
	n.eng.MembershipTick(n.w.now, n.mem.Quiet(n.w.now))
	n.rel.Tick()
	n.pump()
}

func (n *node) sendHeartbeat() {
	adv := n.mem.Advert()
	for _, p := range n.w.nodes {
		if p == n {
			continue
		}
		for l := range n.w.opts.Links {
			n.w.net.send(packet{from: n.idx, to: p.idx, link: l, gen: n.gen, heartbeat: true, advert: adv})
		}
	}
}

// receive takes one datagram: dropped by a dead machine or process,
// queued (up to the socket buffer) by a paused one.
func (n *node) receive(p packet) {
	if !n.powered || !n.alive {
		return
	}
	if n.paused {
		if len(n.deferred) < socketQueue {
			n.deferred = append(n.deferred, func() { n.handle(p) })
		}
		return
	}
	n.handle(p)
}

func (n *node) handle(p packet) {
	from := membership.NodeID(p.from + 1)
	hb := membership.Heartbeat{From: from, Link: p.link, Generation: p.gen, At: n.w.now}
	if p.heartbeat {
		hb.Advert = p.advert
		n.rel.Observe(uint32(from), p.gen)
	} else {
		// Any authentic packet proves liveness; the peer's last advert
		// stands (as node.poll does).
		for _, ps := range n.mem.Peers() {
			if ps.ID == from {
				hb.Advert = ps.Advert
			}
		}
		_ = n.rel.Step(uint32(from), p.gen, p.typ, p.payload)
	}
	_ = n.mem.Step(hb) // refusals (old generation) are counted by the real node; nothing else to do
	n.afterMembership()
	n.pump()
}

// afterMembership hands membership's events to the DC engine, as the
// daemon does (node.flush and the attach glue).
func (n *node) afterMembership() {
	evs := n.mem.Ready()
	if len(evs) == 0 {
		return
	}
	viewChanged := false
	for _, ev := range evs {
		if ev.Kind == membership.EventNode && ev.To == membership.StateDead {
			n.rel.Forget(uint32(ev.Node))
		}
		if ev.Kind == membership.EventView {
			viewChanged = true
		}
	}
	if v := n.mem.View(); v.ID != 0 {
		n.noteView(v)
		n.eng.SetView(dcmsg.FromMembership(v, nodeName), n.w.now)
	}
	if viewChanged {
		n.sendHeartbeat()
	}
}

// pump performs the engine's and the reliable layer's work until both are
// quiet, and checks the invariants that depend on this node's state.
func (n *node) pump() {
	w := n.w
	for range 100 {
		if !n.alive || n.paused {
			return
		}
		if n.dev != nil {
			w.dev.sync(n)
		}
		rd := n.eng.Ready()
		w.appendLog(n.name, rd.Log)
		for _, err := range rd.Errors {
			w.trace("%s error: %v", n.name, err)
		}
		for _, a := range rd.Alerts {
			w.trace("%s ALERT %s: %s", n.name, a.Target, firstLine(a.Message))
		}
		for _, o := range rd.Send {
			b, err := dcmsg.Encode(o.Msg)
			if err == nil {
				err = n.rel.Send(uint32(nodeID(o.To)), b)
			}
			if err != nil {
				w.trace("%s send %s to %s: %v", n.name, o.Msg.Kind, o.To, err)
			}
		}
		for _, rsc := range rd.ClearFailures {
			n.exec.ClearFailures(rsc)
		}
		for _, m := range rd.Monitors {
			n.monitor(m)
		}
		for _, x := range rd.Exec {
			n.execOp(x)
		}
		for _, f := range rd.Fence {
			n.fence(f)
		}
		for _, ref := range rd.CancelFence {
			if f := n.fences[ref]; f != nil && !f.cancelled {
				f.cancelled = true
				w.trace("%s withdraws fence of %s (attempt %d)", n.name, f.f.Target, f.f.Attempt)
			}
		}
		for _, r := range rd.ConfigResults {
			w.trace("%s config %s: accepted=%v unchanged=%v %s", n.name, r.ID, r.Accepted, r.Unchanged, firstLine(r.Error))
		}
		for _, a := range rd.Answers {
			w.trace("%s answer %s: %s%s", n.name, a.ID, a.Result, a.Error)
			w.answers = append(w.answers, Answer{At: w.now, Node: n.name, Result: a.Result, Error: a.Error})
		}
		if rd.Persist != nil {
			n.persist(rd.Persist)
		}
		rr := n.rel.Ready()
		for _, f := range rr.Frames {
			for l := range w.opts.Links {
				w.net.send(packet{from: n.idx, to: int(f.To) - 1, link: l, gen: n.gen, typ: f.Type, payload: f.Payload})
			}
		}
		for _, d := range rr.Delivered {
			m, err := dcmsg.Decode(nodeName(membership.NodeID(d.From)), d.Payload)
			if err != nil {
				w.trace("%s undecodable message: %v", n.name, err)
				continue
			}
			n.eng.Deliver(m, w.now)
		}
		w.checkQuorum(n)
		if len(rd.Send) == 0 && len(rd.Exec) == 0 && len(rd.Fence) == 0 && len(rd.Log) == 0 && len(rr.Delivered) == 0 && len(rd.Monitors) == 0 {
			return
		}
	}
}

func (n *node) persist(cib *replica.CIB) {
	b, err := json.Marshal(replica.Persisted{Version: cib.Version, Digest: cib.Digest, Config: cib.Config, View: n.eng.Coordinator().View(),
		Status: cib.Status, Reported: cib.Reported, Left: cib.Left, Fencing: cib.Fencing, Pending: cib.Pending, ReportedIn: cib.ReportedIn})
	if err != nil {
		panic(err)
	}
	var p replica.Persisted
	if err := json.Unmarshal(b, &p); err != nil {
		panic(err)
	}
	n.persisted = &p
}

// execOp runs a resource operation: after the resource's earlier ones,
// for an agent-dependent time; effects on the world happen as the agent
// runs, the result reaches the engine when it ends.
func (n *node) execOp(x dc.ExecRequest) {
	w := n.w
	rsc := x.Op.Instance.ID
	start := max(w.now, n.busyUntil[rsc])
	d := opDuration(w.rng, n.name, rsc, x.Op.Action, w.agentFaults)
	n.busyUntil[rsc] = start + d
	n.later(start-w.now, func() {
		n.exec.SetStartFailureIsFatal(x.StartFailureIsFatal)
		ev := n.exec.Exec(context.Background(), x.Op)
		stopped := x.Op.Action == agent.Stop && !ev.Failed()
		n.later(d, func() {
			if stopped {
				w.setActive(rsc, n.name, false)
			}
			if x.Op.Action == agent.Stop {
				n.cancelMonitors(rsc)
			}
			n.eng.ExecDone(x.Ref, ev, w.now)
			n.pump()
		})
	})
}

func (n *node) cancelMonitors(rsc string) {
	for k, m := range n.monitors {
		if k.rsc == rsc {
			m.live = false
			delete(n.monitors, k)
		}
	}
}

func (n *node) monitor(mr dc.MonitorRequest) {
	k := monKey{mr.Op.Instance.ID, mr.Op.Interval}
	if old := n.monitors[k]; old != nil {
		old.live = false
		delete(n.monitors, k)
	}
	if !mr.Start {
		return
	}
	m := &simMonitor{op: mr.Op, live: true}
	n.monitors[k] = m
	var run func()
	run = func() {
		if !m.live {
			return
		}
		ev, reported := n.exec.MonitorOnce(context.Background(), m.op, &m.state)
		if reported {
			n.eng.MonitorEvent(ev, n.w.now)
			n.pump()
		}
		n.later(m.op.Interval, run)
	}
	n.later(0, run)
}

// fence executes a FenceExec: the device acts after the BMC's latency
// (if the request was not withdrawn and this process still lives), the
// result reaches the engine after a further delay (late answers).
func (n *node) fence(f engine.FenceExec) {
	w := n.w
	w.checkFenceRequest(n, f, "requested")
	sf := &simFence{f: f}
	n.fences[f.Ref] = sf
	lat, late := w.bmcLatency(f.Target)
	n.later(lat, func() {
		out := engine.FenceOutcome{Err: "aborted: the request was withdrawn before the device acted"}
		if !sf.cancelled {
			w.checkFenceRequest(n, f, "executed")
			w.checkHealthyTarget(n, f)
			ctx := context.Background()
			out = engine.FenceOutcomeOf(n.fencer.Fence(ctx, f.Target))
			w.trace("%s fence %s attempt %d: confirmed=%v %s", n.name, f.Target, f.Attempt, out.Confirmed, firstLine(out.Err))
		}
		n.later(late, func() {
			delete(n.fences, f.Ref)
			n.eng.FenceDone(f.Ref, out, w.now)
			n.pump()
		})
	})
}

// push proposes a configuration (config push) on this node.
func (n *node) push(cfg *model.Config, what string) {
	if !n.running() {
		return
	}
	n.reqSeq++
	n.eng.Propose(dcmsg.Proposal{ID: fmt.Sprintf("%s/p%d", n.name, n.reqSeq), Config: cfg, Source: what}, n.w.now)
	n.pump()
}

// request types an operator command on this node.
func (n *node) request(op, target, rsc string) {
	if !n.running() {
		return
	}
	n.reqSeq++
	n.eng.Request(dcmsg.OpRequest{ID: fmt.Sprintf("%s/o%d", n.name, n.reqSeq), Op: op, Node: target, Resource: rsc, By: "sim"}, n.w.now)
	n.pump()
}

func opDuration(rng *rand.Rand, node, rsc string, a agent.Action, faults map[agentKey]agentFault) time.Duration {
	d := time.Duration(1+rng.IntN(20)) * time.Millisecond
	if f, ok := faults[agentKey{node, rsc, a}]; ok && f == faultHang {
		d = opTimeout
	}
	return d
}

var _ = wire.TypeHeartbeat

type viewRec struct {
	since   time.Duration
	members string
}

func membersKey(v membership.View) string {
	var b []byte
	for _, m := range v.Members {
		b = fmt.Appendf(b, "%d:%d,", m.ID, m.Generation)
	}
	return string(b)
}

func (n *node) noteView(v membership.View) {
	k := membersKey(v)
	if len(n.views) > 0 && n.views[len(n.views)-1].members == k {
		return
	}
	n.views = append(n.views, viewRec{since: n.w.now, members: k})
	n.w.trace("%s view %d %s agreed=%v dc=%d", n.name, v.ID, k, v.Agreed, v.DC)
	if len(n.views) > 8 {
		n.views = n.views[1:]
	}
}

// heldSupersets reports whether every member set this node held during
// [from, now] contained all of v's members (same generations).
func (n *node) heldSupersets(v membership.View, from time.Duration) bool {
	held := false
	for i, r := range n.views {
		until := n.w.now
		if i+1 < len(n.views) {
			until = n.views[i+1].since
		}
		if until < from {
			continue
		}
		if i == 0 && r.since > from {
			return false // the record does not reach back far enough
		}
		for _, m := range v.Members {
			if !strings.Contains(","+r.members, fmt.Sprintf(",%d:%d,", m.ID, m.Generation)) {
				return false
			}
		}
		held = true
	}
	return held
}

// heldView reports whether this node's member set was k at some time in
// [from, now].
func (n *node) heldView(k string, from time.Duration) bool {
	for i, v := range n.views {
		until := n.w.now
		if i+1 < len(n.views) {
			until = n.views[i+1].since
		}
		if v.members == k && until >= from {
			return true
		}
	}
	return false
}
