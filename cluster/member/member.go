package member

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/eventlog"
	"palisade/cluster/replica"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// failRecord is this node's failure history of one resource, as reported
// to the DC: the scheduler needs the time of the last failure for
// failure-timeout, and the operation for its on-fail handling.
type failRecord struct {
	count int
	last  time.Time
	op    string
}

// execKind says why the member asked the executor for an operation.
type execKind int

const (
	execAction  execKind = iota + 1 // an action of the DC
	execProbe                       // a probe before the first status report
	execReprobe                     // a probe after an operator's cleanup
)

type execOp struct {
	kind   execKind
	view   uint64
	dc     string
	action dcmsg.Action
	prim   *model.Resource
	// prev is the definition the node knew before this action's (a
	// reload replaces the monitors it started).
	prev *model.Resource
}

type reportReq struct {
	view uint64
	to   string
}

// Member is the member half of the per-node core (see engine.Engine): it runs
// the DC's actions through the executor (asynchronously: ExecRequest out,
// ExecDone in), probes before its first report, keeps what runs here and
// the fail counts, and reports to the DC. Pure: no goroutines, no clock.
type Member struct {
	c  *dc.Coordinator
	rd *dc.Ready
	// hasExecutor: resource actions can run on this node.
	hasExecutor bool

	active map[string]bool
	// role is the role of an active resource here (Promoted after a
	// promote or a probe answering 8; "" Started); ran what it runs with
	// (parameter digests), both reported to the DC.
	role  map[string]string
	ran   map[string]model.ParamRecord
	fatal map[string]bool
	fails map[string]failRecord
	// known keeps the definition of every primitive this node ran or
	// probed, so it can still stop one that a configuration change
	// removed (the DC stops orphans after replicating the configuration).
	known   map[string]*model.Resource
	probed  bool
	probing int
	waiting []reportReq
	// pendingStart counts starts/promotes running here per resource: the
	// resource may be active, so reports list it as pending until they end.
	pendingStart map[string]int
	ops          map[uint64]execOp
	nextRef      uint64
	// attrs are this node's transient attributes (SetAttribute).
	attrs map[string]string
}

func New(c *dc.Coordinator, rd *dc.Ready, hasExecutor bool) *Member {
	return &Member{c: c, rd: rd, hasExecutor: hasExecutor, active: map[string]bool{}, role: map[string]string{}, ran: map[string]model.ParamRecord{},
		fatal: map[string]bool{}, fails: map[string]failRecord{},
		known: map[string]*model.Resource{}, pendingStart: map[string]int{}, ops: map[uint64]execOp{}, attrs: map[string]string{}}
}

func (m *Member) self() string { return m.c.Self() }

// onView reports at once to a new DC: it may have asked while this
// node's view id was still converging, and it only accepts reports of
// its view.
func (m *Member) OnView(v dcmsg.View) {
	if v.Agreed && v.DC != "" && v.DC != m.self() {
		m.Report(v.ID, v.DC)
	}
}

// report sends this node's status to a DC. The first report after
// start-up waits for a probe of every configured resource, so a new DC
// learns what really runs here; and the probe waits for the cluster's
// configuration: until the DC sent it (KindConfigSync), the node only
// sends its replica (an Unprobed report, for the join), because its own
// copy may be outdated (it was down while the configuration changed) and a
// probe with outdated parameters misreads what runs here.
func (m *Member) Report(view uint64, to string) {
	if !m.probed && m.hasExecutor {
		if !slices.Contains(m.waiting, reportReq{view, to}) {
			m.waiting = append(m.waiting, reportReq{view, to})
		}
		if m.probing == 0 {
			st := dcmsg.NodeStatus{Node: m.self(), CIB: m.c.CIB(), SafetyDigest: m.c.SafetyDigest(), Unprobed: true}
			m.rd.Send = append(m.rd.Send, dcmsg.Outgoing{To: to, Msg: dcmsg.Message{Kind: dcmsg.KindStatus, View: view, From: m.self(), Status: &st}})
		}
		return
	}
	m.sendStatus(view, to, "")
}

// onConfigSync probes with the configuration the DC sent, once per start.
func (m *Member) OnConfigSync(msg dcmsg.Message) {
	if msg.From != m.c.DC() || msg.View != m.c.View() || m.probed || m.probing > 0 || !m.hasExecutor {
		return
	}
	if !slices.Contains(m.waiting, reportReq{msg.View, msg.From}) {
		m.waiting = append(m.waiting, reportReq{msg.View, msg.From})
	}
	m.probe(replica.Primitives(msg.CIB.Config), execProbe)
	if m.probing == 0 { // nothing to probe
		m.probed = true
		m.flushWaiting()
	}
}

func (m *Member) flushWaiting() {
	w := m.waiting
	m.waiting = nil
	for _, r := range w {
		if r.view == m.c.View() {
			m.sendStatus(r.view, r.to, "")
		}
	}
}

// sendStatus sends the report; failed names a resource whose monitor just
// failed.
func (m *Member) sendStatus(view uint64, to, failed string) {
	if to == "" {
		return
	}
	st := m.Status(failed)
	m.rd.Send = append(m.rd.Send, dcmsg.Outgoing{To: to, Msg: dcmsg.Message{Kind: dcmsg.KindStatus, View: view, From: m.self(), Status: &st}})
}

// sendStatusToDC reports to the current DC.
func (m *Member) SendStatusToDC() { m.sendStatus(m.c.View(), m.c.DC(), "") }

// status is this node's report: the resources active here (or with a
// start running: they may be), its fail counts, and what is unusable.
func (m *Member) Status(failed string) dcmsg.NodeStatus {
	st := dcmsg.NodeStatus{Node: m.self(), Failures: m.failures(), CIB: m.c.CIB(), SafetyDigest: m.c.SafetyDigest(), Attributes: maps.Clone(m.attrs)}
	var rscs []string
	for rsc, on := range m.active {
		if on {
			rscs = append(rscs, rsc)
		}
	}
	slices.Sort(rscs)
	for _, rsc := range rscs {
		rs := model.ResourceStatus{Rsc: rsc, Node: m.self(), Failed: rsc == failed, Role: m.role[rsc]}
		m.ran[rsc].Apply(&rs)
		st.Resources = append(st.Resources, rs)
	}
	for rsc, n := range m.pendingStart {
		if n > 0 {
			st.Pending = append(st.Pending, rsc)
		}
	}
	slices.Sort(st.Pending)
	for rsc, f := range m.fatal {
		if f {
			st.Fatal = append(st.Fatal, rsc)
		}
	}
	slices.Sort(st.Fatal)
	return st
}

func (m *Member) failures() []model.Failure {
	var out []model.Failure
	for rsc, f := range m.fails {
		out = append(out, model.Failure{Rsc: rsc, Node: m.self(), Op: f.op, Count: model.Score(f.count), LastFailure: f.last})
	}
	slices.SortFunc(out, func(a, b model.Failure) int { return strings.Compare(a.Rsc, b.Rsc) })
	return out
}

// setFail records the executor's fail count after an operation. A failed
// operation also moves the last-failure time.
func (m *Member) setFail(rsc, op string, count int, failed bool) {
	if count <= 0 {
		delete(m.fails, rsc)
		return
	}
	rec := m.fails[rsc]
	rec.count = count
	if failed || rec.last.IsZero() {
		rec.last, rec.op = m.c.Wall(), op
	}
	m.fails[rsc] = rec
}

// probe asks the executor for a one-shot monitor of each primitive.
func (m *Member) probe(prims []*model.Resource, kind execKind) {
	if !m.hasExecutor {
		return
	}
	for _, p := range prims {
		m.known[p.ID] = p
		m.exec(execOp{kind: kind, prim: p}, executor.Op{Instance: replica.Instance(p, "monitor", 0), Action: agent.Monitor, Probe: true})
		if kind == execProbe {
			m.probing++
		}
	}
}

func (m *Member) exec(o execOp, op executor.Op) {
	m.nextRef++
	m.ops[m.nextRef] = o
	op.Ref = fmt.Sprintf("%d", m.nextRef)
	if o.kind == execAction {
		op.Ref = fmt.Sprintf("view%d:%d", o.view, o.action.ID)
	}
	m.rd.Exec = append(m.rd.Exec, dc.ExecRequest{Ref: m.nextRef, Op: op, StartFailureIsFatal: m.c.CIB().Config.StartFailureIsFatal()})
}

// onAction runs an action the DC sent, if it was sent in this node's view.
func (m *Member) OnAction(msg dcmsg.Message, now time.Duration) {
	a := *msg.Action
	refuse := func(why string) {
		m.c.Log(now, eventlog.Entry{Event: eventlog.ActionRefused, Resource: a.Resource, Node: m.self(), Action: a.Op, View: msg.View, Detail: why})
		// The answer carries the action's view: that is the one the DC
		// waits in (this node's own may differ, which is why it refuses).
		m.rd.Send = append(m.rd.Send, dcmsg.Outgoing{To: msg.From, Msg: dcmsg.Message{Kind: dcmsg.KindActionResult, View: msg.View, From: m.self(),
			Result: &dcmsg.ActionResult{ID: a.ID, Op: a.Op, Resource: a.Resource, Node: m.self(), Refused: true, Reason: why}}})
	}
	if err := dcmsg.CheckView(msg.View, m.c.View()); err != nil {
		refuse(err.Error())
		return
	}
	if msg.From != m.c.DC() {
		refuse(fmt.Sprintf("action from %s refused: the DC of view %d is %s", msg.From, m.c.View(), m.c.DC()))
		return
	}
	p := a.Primitive
	if p == nil {
		p = replica.FindPrimitive(m.c.CIB().Config, a.Resource)
	}
	prev := m.known[a.Resource]
	if p != nil {
		m.known[a.Resource] = p
	} else if a.Op == "stop" || a.Op == "demote" || a.Op == "monitor" {
		// Removed from the configuration: still stoppable here.
		p = m.known[a.Resource]
	}
	if p == nil || !m.hasExecutor {
		refuse(fmt.Sprintf("resource %s is not in this node's configuration", a.Resource))
		return
	}
	op := executor.Op{Instance: replica.Instance(p, a.Op, a.Interval), Action: agent.Action(a.Op), Interval: a.Interval,
		OnFail: executor.OnFail(replica.OnFailOf(p, a.Op, a.Interval))}
	if a.Op == "monitor" {
		op.Probe = true
	}
	if a.Op == "start" || a.Op == "promote" {
		m.pendingStart[a.Resource]++
	}
	if a.Op == "stop" || a.Op == "demote" {
		m.cancelMonitors(p)
	}
	m.exec(execOp{kind: execAction, view: msg.View, dc: msg.From, action: a, prim: p, prev: prev}, op)
}

// probedActive reads a probe as Pacemaker does: running (also promoted)
// is active; not running, not installed (5: banned here) and not
// configured (6: banned everywhere) are not; any other failure leaves the
// resource in an unknown state, which counts as active so the scheduler
// stops it before starting it anywhere.
func probedActive(ev executor.Event) bool {
	switch ev.Result.RC {
	case agent.OK, agent.RunningPromoted:
		return ev.Result.Status == agent.StatusDone
	case agent.NotRunning, agent.ErrInstalled, agent.ErrConfigured:
		if ev.Result.Status == agent.StatusDone {
			return false
		}
	}
	return ev.Failed()
}

// probedRole is the role a probe found: 8 is running promoted.
func probedRole(ev executor.Event) string {
	if ev.Result.Status == agent.StatusDone && ev.Result.RC == agent.RunningPromoted {
		return model.RolePromoted
	}
	return ""
}

// setActive records whether rsc is active here, its role and what it runs
// with (the event's parameter record, when it carries one: a start, a
// reload, a probe that found it running).
func (m *Member) setActive(rsc string, active bool, role string, ev executor.Event) {
	m.active[rsc] = active
	if !active {
		delete(m.role, rsc)
		delete(m.ran, rsc)
		return
	}
	if role == "" {
		delete(m.role, rsc)
	} else {
		m.role[rsc] = role
	}
	if ev.Ran.Digest != "" {
		m.ran[rsc] = ev.Ran
	}
}

// refusedToRun: the agent answered that it cannot run here at all
// (invalid arguments, not installed, not configured), so the operation
// did nothing.
func refusedToRun(ev executor.Event) bool {
	if ev.Result.Status != agent.StatusDone {
		return false
	}
	switch ev.Result.RC {
	case agent.ErrArgs, agent.ErrInstalled, agent.ErrConfigured:
		return true
	}
	return false
}

// execDone takes an executor result.
func (m *Member) ExecDone(ref uint64, ev executor.Event, now time.Duration) {
	o, ok := m.ops[ref]
	if !ok {
		return
	}
	delete(m.ops, ref)
	if ev.Result.Status == agent.StatusCancelled {
		if o.kind == execAction && (o.action.Op == "start" || o.action.Op == "promote") {
			m.pendingStart[o.action.Resource]--
		}
		return
	}
	switch o.kind {
	case execProbe, execReprobe:
		m.setActive(ev.Resource, probedActive(ev), probedRole(ev), ev)
		m.c.Log(now, eventlog.Entry{Event: eventlog.Probed, Resource: ev.Resource, Node: m.self(), OK: eventlog.Bool(m.active[ev.Resource]),
			Detail: fmt.Sprintf("rc=%d", ev.Result.RC)})
		m.fatal[ev.Resource] = ev.Result.Status == agent.StatusDone && ev.Result.RC == agent.ErrConfigured
		m.setFail(ev.Resource, "probe", ev.FailCount, ev.Failed())
		if o.kind == execProbe {
			m.probing--
			if m.probing == 0 {
				m.probed = true
				m.flushWaiting()
			}
		} else if m.reprobesDone() {
			m.SendStatusToDC()
		}
	case execAction:
		m.actionDone(o, ev, now)
	}
}

func (m *Member) reprobesDone() bool {
	for _, o := range m.ops {
		if o.kind == execReprobe {
			return false
		}
	}
	return true
}

func (m *Member) actionDone(o execOp, ev executor.Event, now time.Duration) {
	a := o.action
	if a.Op == "start" || a.Op == "promote" {
		m.pendingStart[a.Resource]--
	}
	res := dcmsg.ActionResult{ID: a.ID, Op: a.Op, Resource: a.Resource, Node: m.self(),
		RC: int(ev.Result.RC), OK: !ev.Failed(), Failed: ev.Failed(), OnFail: string(ev.OnFail), FailCount: ev.FailCount}
	wasActive := m.active[a.Resource]
	if a.Op == "stop" && ev.Failed() && !wasActive && (refusedToRun(ev) || ev.Result.Status == agent.StatusDone && ev.Result.RC == agent.NotRunning) {
		// Not running here (never started, or probed as not running):
		// an agent that cannot even parse its parameters has nothing to
		// stop. That is no reason to fence this node.
		m.c.Log(now, eventlog.Entry{Event: eventlog.ActionResult, Resource: a.Resource, Node: m.self(), Action: "stop", OK: eventlog.Bool(true),
			Detail: fmt.Sprintf("rc=%d on a resource not running here: counted as stopped", ev.Result.RC)})
		m.rd.ClearFailures = append(m.rd.ClearFailures, a.Resource)
		res.OK, res.Failed, res.OnFail, res.FailCount = true, false, "", 0
		ev.FailCount = 0
		if ev.Result.RC == agent.ErrConfigured {
			m.fatal[a.Resource], res.Fatal = true, true
		}
	}
	switch {
	case (a.Op == "start" || a.Op == "promote") && refusedToRun(ev):
		res.Active = wasActive // the agent refused its parameters or is missing: it started nothing
	case a.Op == "start" || a.Op == "promote":
		res.Active = true // a failed start may have left it half running: the scheduler stops it
	case a.Op == "stop":
		res.Active = res.Failed
	case a.Op == "monitor":
		res.Active = probedActive(ev)
	default:
		res.Active = wasActive
	}
	if ev.Result.Status == agent.StatusDone && ev.Result.RC == agent.ErrConfigured {
		m.fatal[a.Resource], res.Fatal = true, true
	}
	role := m.role[a.Resource]
	switch {
	case a.Op == "promote" && !res.Failed:
		role = model.RolePromoted
	case a.Op == "promote" || a.Op == "demote" && !res.Failed:
		role = model.RoleUnpromoted
	case a.Op == "start":
		role = ""
	case a.Op == "monitor":
		role = probedRole(ev)
	}
	m.setActive(a.Resource, res.Active, role, ev)
	if res.Active {
		res.Role = m.role[a.Resource]
		if rec, ok := m.ran[a.Resource]; ok {
			res.Ran = &rec
		}
	}
	m.setFail(a.Resource, a.Op, ev.FailCount, res.Failed)
	// The executing node's own record of every result: the timeline and
	// recovery.Verify read it even when the DC that asked is gone.
	m.c.Log(now, eventlog.Entry{Event: eventlog.ActionResult, Resource: a.Resource, Node: m.self(), Action: a.Op, View: o.view, OK: eventlog.Bool(res.OK)})
	if a.Op == "start" && res.OK {
		m.startMonitors(o.prim)
	}
	if a.Op == string(agent.ReloadAgent) && res.OK {
		// The monitors run again with the reloaded definition.
		if o.prev != nil && o.prev != o.prim {
			m.cancelMonitors(o.prev)
		}
		m.cancelMonitors(o.prim)
		m.startMonitors(o.prim)
	}
	m.rd.Send = append(m.rd.Send, dcmsg.Outgoing{To: o.dc, Msg: dcmsg.Message{Kind: dcmsg.KindActionResult, View: o.view, From: m.self(), Result: &res}})
	if o.view != m.c.View() || o.dc != m.c.DC() {
		// The view changed while it ran: the DC that asked cannot take
		// the result any more; the current one learns it from a report.
		m.SendStatusToDC()
	}
}

func (m *Member) startMonitors(p *model.Resource) {
	for _, o := range p.Ops {
		if o.Name == "monitor" && o.Interval > 0 {
			iv := time.Duration(o.Interval)
			m.rd.Monitors = append(m.rd.Monitors, dc.MonitorRequest{Start: true,
				Op: executor.Op{Instance: replica.Instance(p, "monitor", iv), Action: agent.Monitor, Interval: iv, OnFail: executor.OnFail(o.OnFail)}})
		}
	}
}

func (m *Member) cancelMonitors(p *model.Resource) {
	for _, o := range p.Ops {
		if o.Name == "monitor" && o.Interval > 0 {
			iv := time.Duration(o.Interval)
			m.rd.Monitors = append(m.rd.Monitors, dc.MonitorRequest{Op: executor.Op{Instance: replica.Instance(p, "monitor", iv), Action: agent.Monitor, Interval: iv}})
		}
	}
}

// monitorEvent takes a recurring monitor's reported result (a change).
func (m *Member) MonitorEvent(ev executor.Event, now time.Duration) {
	failed := ""
	if ev.Failed() {
		m.setFail(ev.Resource, "monitor", ev.FailCount, true)
		// Still "active" for the scheduler even when the agent says it is
		// not running: Pacemaker recovers a failed monitor with a stop
		// (harmless if it is gone) and restarts what depends on it.
		failed = ev.Resource
	}
	dc := m.c.DC()
	if dc == "" {
		return
	}
	if ev.Failed() && ev.OnFail == executor.OnFailFence {
		m.rd.Send = append(m.rd.Send, dcmsg.Outgoing{To: dc, Msg: dcmsg.Message{Kind: dcmsg.KindFenceRequest, View: m.c.View(), From: m.self(), Target: m.self(),
			Reason: fmt.Sprintf("monitor of %s failed (on-fail=fence)", ev.Resource)}})
	}
	m.sendStatus(m.c.View(), dc, failed)
}

// onCleanup runs an operator's cleanup on this node: the fail counts go,
// then the resource is probed again and the DC told.
func (m *Member) OnCleanup(msg dcmsg.Message, now time.Duration) {
	prims := replica.PrimitivesOf(m.c.CIB().Config, msg.Resource)
	if len(prims) == 0 {
		m.c.Errorf("cleanup of unknown resource %s from %s ignored", msg.Resource, msg.From)
		return
	}
	for _, p := range prims {
		m.clearFailures(p.ID, "operator cleanup by "+msg.Reason, now)
		delete(m.fatal, p.ID)
	}
	m.probe(prims, execReprobe)
	if !m.hasExecutor {
		m.SendStatusToDC()
	}
}

// clearFailures resets rsc's fail count here and says so in the event log.
func (m *Member) clearFailures(rsc, why string, now time.Duration) {
	m.rd.ClearFailures = append(m.rd.ClearFailures, rsc)
	f, had := m.fails[rsc]
	delete(m.fails, rsc)
	detail := why
	if had {
		detail = fmt.Sprintf("%s (fail count was %d)", why, f.count)
	}
	m.c.Log(now, eventlog.Entry{Event: eventlog.FailuresCleared, Resource: rsc, Node: m.self(), Detail: detail})
}

// expireFailures clears the fail counts whose failure-timeout has passed,
// as Pacemaker clears an expired fail count: otherwise the next failure
// would add to the old ones and ban the resource at once. The DC hears of
// it through a status report and reschedules.
func (m *Member) ExpireFailures(now time.Duration) {
	if len(m.fails) == 0 {
		return
	}
	cfg := m.c.CIB().Config
	wall := m.c.Wall()
	var expired []string
	for rsc, f := range m.fails {
		timeout := replica.FailureTimeout(cfg, rsc)
		if timeout > 0 && !f.last.IsZero() && wall.Sub(f.last) >= timeout {
			expired = append(expired, rsc)
		}
	}
	if len(expired) == 0 {
		return
	}
	slices.Sort(expired)
	for _, rsc := range expired {
		m.clearFailures(rsc, "failure-timeout expired", now)
	}
	m.SendStatusToDC()
}

// SetAttribute sets (value "") clears) one of this node's transient
// attributes and reports the change to the DC once this node reports at
// all (probed, or nothing to probe).
func (m *Member) SetAttribute(name, value string) {
	if m.attrs[name] == value {
		return
	}
	if value == "" {
		delete(m.attrs, name)
	} else {
		m.attrs[name] = value
	}
	v := m.c.Current()
	if v.Agreed && v.DC != "" && (m.probed || m.c.CIB().Config == nil || !m.hasExecutor) {
		m.SendStatusToDC()
	}
}

// Attributes returns this node's transient attributes.
func (m *Member) Attributes() map[string]string { return maps.Clone(m.attrs) }

// Runs reports whether any resource is, or may be, active here (running,
// or a start or promote still in progress).
func (m *Member) Runs() bool {
	for _, on := range m.active {
		if on {
			return true
		}
	}
	for _, k := range m.pendingStart {
		if k > 0 {
			return true
		}
	}
	return false
}
