package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/eventlog"
	"palisade/cluster/member"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/fence"
	"palisade/fence/topology"
	"palisade/quorum"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// FenceExec asks the caller to fence Target through this node's fence
// topology and to report with FenceDone(Ref, ...). It is either this DC's
// own decision or an order of the DC to fence the DC itself.
type FenceExec struct {
	Ref     uint64
	Target  string
	Attempt int
	Gen     uint64
	Reason  string
	// For is the node whose gate decided it (this node, or the DC that
	// delegated the fence of itself).
	For  string
	View uint64
}

// FenceStep is one device's result within a fence attempt.
type FenceStep struct {
	Level       int
	Device      string
	OK          bool
	VerifiedOff bool
	Err         string
	// Result classifies it (fence.Class); Delay is what it waited before
	// using the device and Elapsed what the device took.
	Result  fence.Class
	Delay   time.Duration
	Elapsed time.Duration
	Note    string
}

// FenceOutcome is what the fencer reports for a FenceExec.
type FenceOutcome struct {
	// Confirmed: a whole topology level succeeded with OFF read back.
	Confirmed bool
	Devices   string
	Steps     []FenceStep
	Err       string
	// For the fence history: the action, the level that fenced (or the
	// last one tried), what the attempt came to, and when it ran on the
	// executor's wall clock (zero: the engine's Wall at FenceDone).
	Action     string
	Level      int
	Result     fence.Class
	Start, End time.Time
}

// Ready is the work the caller must perform after stepping the Engine.
type Ready struct {
	dc.Ready
	Fence []FenceExec
	// CancelFence lists FenceExec refs to abort (where the device
	// protocol still allows it); their FenceDone is still expected.
	CancelFence []uint64
	// Persist is set when the replica changed in a way worth keeping
	// (configuration, version, fence records): store it (state_dir) so a
	// restarted node rejoins with it.
	Persist *replica.CIB
}

// Config sets up an Engine.
type Config struct {
	Coordinator dc.Config
	// Executor: resource operations can run on this node (a node without
	// resource agents refuses actions).
	Executor bool
}

// Engine is the pure per-node core of the DC layer: the dc.Coordinator (the
// DC's decisions and the CIB replica) and the member side (the actions
// this node runs and its reports). It is stepped by membership views,
// messages, executor and fencer results and time, and returns the work to
// perform in Ready: no goroutines, no clock, no I/O, so a whole cluster
// of Engines runs in one process in logical time (cluster/sim), and the
// daemon's Runtime only performs what Ready says.
type Engine struct {
	c      *dc.Coordinator
	m      *member.Member
	rd     Ready
	now    time.Duration
	fences map[uint64]FenceExec
	next   uint64
	// requests this node forwarded to the DC, by id.
	requests map[string]dcmsg.OpRequest
}

// New returns an Engine.
func New(cfg Config) *Engine {
	e := &Engine{fences: map[uint64]FenceExec{}, requests: map[string]dcmsg.OpRequest{}}
	e.c = dc.New(cfg.Coordinator, &e.rd.Ready)
	e.m = member.New(e.c, &e.rd.Ready, cfg.Executor)
	return e
}

// Coordinator exposes the DC half (read-only use: CIB, View, DC...).
func (e *Engine) Coordinator() *dc.Coordinator { return e.c }

// at moves the engine's time and re-checks freshness before any input is
// acted on: a process resumed after a pause must notice first.
func (e *Engine) at(now time.Duration) {
	if now > e.now {
		e.now = now
	}
	e.c.Advance(now)
}

// SetView feeds a membership view (every change, agreed or not).
func (e *Engine) SetView(v dcmsg.View, now time.Duration) {
	e.at(now)
	prev := e.c.Current()
	e.c.SetView(v, now)
	if v.ID != prev.ID || !slices.Equal(v.Members, prev.Members) {
		// Delegated fences were ordered in the old view: its DC decides
		// again (or the next one does, from the records).
		for _, ref := range e.fenceRefs() {
			if f := e.fences[ref]; f.For != e.c.Self() {
				e.rd.CancelFence = append(e.rd.CancelFence, ref)
			}
		}
	}
	if v.Agreed && !(prev.Agreed && prev.ID == v.ID) {
		e.m.OnView(v)
	}
}

// MembershipTick records that membership was evaluated at now and that the
// least recently heard member of the view was heard quiet ago (see
// dc.Coordinator.MembershipTick).
func (e *Engine) MembershipTick(now, quiet time.Duration) {
	if now > e.now {
		e.now = now
	}
	e.c.MembershipTick(now, quiet)
}

// Deliver handles one message (decoded, sender checked).
func (e *Engine) Deliver(m dcmsg.Message, now time.Duration) {
	e.at(now)
	switch m.Kind {
	case dcmsg.KindStatusRequest:
		if m.View == e.c.View() {
			e.m.Report(m.View, m.From)
		}
	case dcmsg.KindAction:
		e.m.OnAction(m, now)
	case dcmsg.KindCleanup:
		if m.Target == e.c.Self() && m.From == e.c.DC() {
			e.m.OnCleanup(m, now)
		}
	case dcmsg.KindFenceExec:
		e.onFenceExec(m, now)
	case dcmsg.KindConfigSync:
		e.m.OnConfigSync(m)
	case dcmsg.KindAnswer:
		if _, ok := e.requests[m.Answer.ID]; ok {
			delete(e.requests, m.Answer.ID)
			e.rd.Answers = append(e.rd.Answers, *m.Answer)
		}
	default:
		e.c.Step(m, now)
	}
}

// onFenceExec: the DC orders this node to fence the DC itself.
func (e *Engine) onFenceExec(m dcmsg.Message, now time.Duration) {
	f := m.Fence
	// The DC agreed on this very view (same id: same members) and holds
	// quorum in it; this node may not have heard every member advertise
	// it yet, which is no reason to refuse.
	if m.From != e.c.DC() || m.View != e.c.View() || f.Target != m.From || !e.c.QuorateNow(now) {
		why := fmt.Sprintf("fence order from %s (view %d) refused by %s (view %d): only the DC of the current quorate view may ask, and only for itself",
			m.From, m.View, e.c.Self(), e.c.View())
		e.c.Log(now, eventlog.Entry{Event: eventlog.FenceDevice, Target: f.Target, Attempt: f.Attempt, OK: eventlog.Bool(false), Detail: why})
		// Answer, so the DC retries (perhaps through another peer)
		// instead of waiting.
		res := recovery.FenceResult{Target: f.Target, Attempt: f.Attempt, Gen: f.Gen, View: m.View, Err: why}
		wall := e.c.Wall()
		h := topology.HistoryEntry{ID: topology.HistoryID(e.c.Self(), f.Target, f.Attempt, wall), Target: f.Target, Action: topology.ActionRefuse,
			Origin: m.From, Reason: topology.Clip(f.Reason), Executor: e.c.Self(), Attempt: f.Attempt, Start: wall, End: wall,
			Result: fence.ClassRefused, Error: topology.Clip(why)}
		e.rd.Send = append(e.rd.Send, dcmsg.Outgoing{To: m.From, Msg: dcmsg.Message{Kind: dcmsg.KindFenceResult, View: e.c.View(), From: e.c.Self(), FenceResult: &res, History: &h}})
		return
	}
	e.startFence(FenceExec{Target: f.Target, Attempt: f.Attempt, Gen: f.Gen, Reason: f.Reason, For: m.From, View: m.View}, now)
}

func (e *Engine) startFence(f FenceExec, now time.Duration) {
	e.next++
	f.Ref = e.next
	e.fences[f.Ref] = f
	e.rd.Fence = append(e.rd.Fence, f)
}

// ExecDone hands back the executor's event for an ExecRequest.
func (e *Engine) ExecDone(ref uint64, ev executor.Event, now time.Duration) {
	e.at(now)
	e.m.ExecDone(ref, ev, now)
}

// MonitorEvent hands a recurring monitor's reported result.
func (e *Engine) MonitorEvent(ev executor.Event, now time.Duration) {
	e.at(now)
	if ev.Interval == 0 {
		return
	}
	e.m.MonitorEvent(ev, now)
}

// FenceDone hands back the outcome of a FenceExec.
func (e *Engine) FenceDone(ref uint64, out FenceOutcome, now time.Duration) {
	e.at(now)
	f, ok := e.fences[ref]
	if !ok {
		return
	}
	delete(e.fences, ref)
	for _, s := range out.Steps {
		e.c.Log(now, eventlog.Entry{Event: eventlog.FenceDevice, Target: f.Target, Attempt: f.Attempt, Device: s.Device,
			OK: eventlog.Bool(s.OK && s.VerifiedOff), Detail: strings.TrimSpace(fmt.Sprintf("level %d %s verified_off=%v %s", s.Level, s.Result, s.VerifiedOff, s.Err))})
	}
	res := recovery.FenceResult{Target: f.Target, Attempt: f.Attempt, Gen: f.Gen, View: f.View, OK: out.Confirmed, VerifiedOff: out.Confirmed,
		Device: out.Devices, Err: out.Err}
	h := e.historyEntry(f, out)
	if f.For == e.c.Self() {
		e.c.RecordHistory(h)
		e.c.FenceResult(res, now)
		return
	}
	// Executed for the DC (it fenced itself through us): every member
	// learns the outcome, so whoever is DC next knows.
	for _, m := range e.c.Members() {
		if m != e.c.Self() {
			e.c.Send(m, dcmsg.Message{Kind: dcmsg.KindFenceResult, FenceResult: &res, History: &h})
		}
	}
	if !slices.Contains(e.c.Members(), f.For) {
		e.c.Send(f.For, dcmsg.Message{Kind: dcmsg.KindFenceResult, FenceResult: &res, History: &h})
	}
	e.c.Step(dcmsg.Message{Kind: dcmsg.KindFenceResult, View: e.c.View(), From: e.c.Self(), FenceResult: &res, History: &h}, now)
}

// historyEntry is the fence history entry of a FenceExec this node ran.
func (e *Engine) historyEntry(f FenceExec, out FenceOutcome) topology.HistoryEntry {
	start, end := out.Start, out.End
	if start.IsZero() {
		start = e.c.Wall()
		end = start
	}
	result := out.Result
	switch {
	case result != "":
	case out.Confirmed:
		result = fence.ClassOK
	default:
		result = fence.ClassError
	}
	h := topology.HistoryEntry{ID: topology.HistoryID(e.c.Self(), f.Target, f.Attempt, start), Target: f.Target, Action: out.Action,
		Level: out.Level, Devices: out.Devices, Origin: f.For, Reason: topology.Clip(f.Reason), Executor: e.c.Self(), Attempt: f.Attempt,
		Start: start, End: end, Result: result, Error: topology.Clip(out.Err)}
	for _, s := range out.Steps {
		h.Steps = append(h.Steps, topology.HistoryStep{Level: s.Level, Device: s.Device, Result: s.Result, Error: topology.Clip(s.Err), Delay: s.Delay, Elapsed: s.Elapsed,
			Note: topology.Clip(s.Note)})
	}
	return h
}

// Tick advances time: fence delays and retries, status re-requests,
// failure-timeout expiry, freshness.
func (e *Engine) Tick(now time.Duration) {
	e.at(now)
	e.c.Tick(now)
	e.m.ExpireFailures(now)
}

// Propose submits a configuration change (see dc.Coordinator.Propose).
func (e *Engine) Propose(p dcmsg.Proposal, now time.Duration) {
	e.at(now)
	e.c.Propose(p, now)
}

// Leave asks the DC to move this node's resources away (clean shutdown);
// call it again until Left.
func (e *Engine) Leave(now time.Duration) {
	e.at(now)
	if dc := e.c.DC(); dc != "" {
		e.c.Send(dc, dcmsg.Message{Kind: dcmsg.KindLeave})
	}
}

// Left reports whether the DC let this node leave.
func (e *Engine) Left() bool { return e.c.Left(e.c.Self()) }

// Snapshot is the DC's view for the status socket.
type Snapshot struct {
	Self     string                `json:"self"`
	View     uint64                `json:"view"`
	Agreed   bool                  `json:"agreed"`
	DC       string                `json:"dc"`
	Quorate  bool                  `json:"quorate"`
	Members  []string              `json:"members"`
	CIB      replica.Version       `json:"cib_version"`
	Digest   string                `json:"cib_digest,omitempty"`
	Status   model.Status          `json:"status"`
	Fencing  []recovery.NodeStatus `json:"fencing"`
	Inflight []dcmsg.Action        `json:"inflight,omitempty"`
	// Standby lists the nodes the configuration puts in standby.
	Standby []string `json:"standby,omitempty"`
	// History is the replicated fence history (CIB.History).
	History []topology.HistoryEntry `json:"history,omitempty"`
	// Acting: the view is agreed and this node's membership fresh.
	Acting bool `json:"acting"`
	// Quorum is the verdict of the view (votes, the device's part).
	Quorum quorum.Info `json:"quorum"`
	// Local lists the resources active on this node (the member side),
	// Attributes this node's transient attributes.
	Local      []string          `json:"local,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Config is the replicated configuration (read-only: it is shared).
	Config *model.Config `json:"-"`
	// Left lists the nodes that left cleanly.
	Left []string `json:"left,omitempty"`
	// Now is the wall clock the scheduler's failure-timeout arithmetic
	// uses at the snapshot.
	Now time.Time `json:"now"`
}

// Snapshot reports the state for `palisade status`.
func (e *Engine) Snapshot() Snapshot {
	c := e.c
	v, cib := c.Current(), c.CIB()
	s := Snapshot{Self: c.Self(), View: v.ID, Agreed: v.Agreed, DC: v.DC, Quorate: c.Quorate(), Members: c.Members(),
		CIB: cib.Version, Digest: cib.Digest, Status: c.Status(), Fencing: c.Gate().Status(), Inflight: c.Inflight(),
		History: c.History(), Acting: c.Acting(), Quorum: c.Quorum(), Config: cib.Config, Left: slices.Clone(cib.Left), Now: c.Wall(),
		Local: e.m.Status("").Names(), Attributes: e.Attributes()}
	if cib.Config != nil {
		for _, n := range cib.Config.Nodes {
			if n.Standby {
				s.Standby = append(s.Standby, n.Name)
			}
		}
	}
	return s
}

// Status is this node's own report (what runs here, fail counts).
func (e *Engine) Status() dcmsg.NodeStatus { return e.m.Status("") }

func (e *Engine) fenceRefs() []uint64 {
	refs := make([]uint64, 0, len(e.fences))
	for r := range e.fences {
		refs = append(refs, r)
	}
	slices.Sort(refs)
	return refs
}

// Ready returns and clears the pending work. Messages to this node itself
// are delivered here, in order, so the caller only sees other nodes'.
func (e *Engine) Ready() Ready {
	for range 1000 {
		var self []dcmsg.Message
		var out []dcmsg.Outgoing
		for _, o := range e.rd.Send {
			if o.To == e.c.Self() {
				self = append(self, o.Msg)
			} else {
				out = append(out, o)
			}
		}
		e.rd.Send = out
		e.convertFences()
		if len(self) == 0 {
			break
		}
		for _, m := range self {
			if m.From == "" {
				m.From = e.c.Self()
			}
			e.Deliver(m, e.now)
		}
	}
	// Every change of the replica is persisted (status and pending starts
	// too, not only the configuration): a member acknowledges a version
	// only once it is on disk (the caller persists before it sends), so a
	// start the DC released is known to survive the crash of every node
	// that knew of it.
	// The replica is copy-on-write: a new pointer is a change.
	if p := e.c.TakePersist(); p != nil {
		e.rd.Persist = p
	}
	rd := e.rd
	e.rd = Ready{}
	return rd
}

// convertFences turns the gate's decisions into fence executions and
// cancellations.
func (e *Engine) convertFences() {
	orders, withdrawn, selfFailed := e.c.TakeFenceWork()
	for _, o := range orders {
		e.startFence(FenceExec{Target: o.Req.Target, Attempt: o.Req.Attempt, Gen: o.Req.Gen, Reason: o.Req.Reason, For: e.c.Self(), View: o.View}, e.now)
	}
	for _, w := range withdrawn {
		for _, ref := range e.fenceRefs() {
			if f := e.fences[ref]; f.For == e.c.Self() && f.Target == w.Target && f.Attempt == w.Attempt {
				e.rd.CancelFence = append(e.rd.CancelFence, ref)
			}
		}
	}
	for _, fr := range selfFailed {
		e.c.FenceResult(recovery.FenceResult{Target: fr.Target, Attempt: fr.Attempt, Gen: fr.Gen, Err: "no other member to fence the DC"}, e.now)
	}
}

// Request submits an operator command: decided here when this node is
// the DC, else forwarded to the DC; the answer appears in Ready.Answers.
func (e *Engine) Request(req dcmsg.OpRequest, now time.Duration) {
	e.at(now)
	if a, forward := e.c.Request(req, now); !forward {
		e.rd.Answers = append(e.rd.Answers, a)
		return
	}
	e.requests[req.ID] = req
	e.c.Send(e.c.DC(), dcmsg.Message{Kind: dcmsg.KindRequest, Request: &req})
}

// Forget drops a request the caller stopped waiting for.
func (e *Engine) Forget(id string) { delete(e.requests, id) }

// FenceOutcomeOf converts a topology outcome for the engine.
func FenceOutcomeOf(o topology.Outcome) FenceOutcome {
	out := FenceOutcome{Confirmed: o.Confirmed(), Devices: o.Devices, Action: string(o.Action), Level: o.Level, Result: o.Result,
		Start: o.Start, End: o.End}
	if out.Level == 0 {
		out.Level = o.LastLevel
	}
	for _, s := range o.Steps {
		out.Steps = append(out.Steps, FenceStep{Level: s.Level, Device: s.Device, OK: s.OK, VerifiedOff: s.VerifiedOff, Err: s.Err,
			Result: s.Result, Delay: s.Delay, Elapsed: s.Elapsed, Note: s.Note})
	}
	if o.Err != nil {
		out.Err = o.Err.Error()
	}
	return out
}

// SetDeviceVote feeds the quorum device's current verdict (see quorum.ViewVote).
// A change of what counts re-evaluates quorum at once.
func (e *Engine) SetDeviceVote(v quorum.ViewVote, now time.Duration) {
	e.c.SetDeviceVote(v)
	e.at(now) // re-checks the device (and freshness) with the new verdict
}

// SetAttribute sets (value != "") or removes (value == "") one of this
// node's transient attributes (a ping score, pingd-style), which the DC's
// scheduler sees in the node's state for location rules. A change is
// reported to the DC at once.
func (e *Engine) SetAttribute(name, value string, now time.Duration) {
	e.at(now)
	e.m.SetAttribute(name, value)
}

// Attributes returns this node's transient attributes.
func (e *Engine) Attributes() map[string]string { return e.m.Attributes() }

// Runs reports whether this node runs (or may be starting) any resource:
// the "held" flag a quorum device ranks partitions with.
func (e *Engine) Runs() bool { return e.m.Runs() }
