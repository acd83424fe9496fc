package dc

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"palisade/cluster/dcmsg"
	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/cluster/reports"
	"palisade/fence"
	"palisade/fence/topology"
	"palisade/quorum"
	"palisade/resources/model"
)

// PlannedAction is one action of a transition as the DC consumes it.
type PlannedAction struct {
	ID       string
	Op       string // start, stop, promote, demote, monitor, fence
	Resource string // "" for fence
	Node     string // where it runs; the target for fence
	Interval time.Duration
	// After lists IDs of actions of the same transition that must finish
	// first.
	After []string
}

// Scheduler computes a transition; it must be pure (resources/scheduler
// through an adapter in production, a fake in tests).
type Scheduler func(cfg *model.Config, st model.Status, now time.Time) ([]PlannedAction, error)

// Config sets up a Coordinator.
type Config struct {
	Self  string
	Nodes []string
	// Quorum computes quorum from the view.
	Quorum *quorum.Calculator
	Gate   *recovery.Gate
	// Schedule is called on every change while DC and rebuilt.
	Schedule Scheduler
	// Wall is the wall clock for the scheduler's failure-timeout
	// arithmetic and for failure times. Required (tests and the simulator
	// give a logical one).
	Wall func() time.Time
	// CIB is this node's initial replica (from disk or the config file).
	CIB *replica.CIB
	// SafetyDigest summarizes the settings of this node's own file that
	// every node must share because they decide who may fence and take
	// over (quorum, fencing policy and fence-race delays; see
	// SafetyDigestOf). Nodes report it; the DC alerts on a difference.
	SafetyDigest string
	// StaleAfter bounds how old the last membership tick may be for this
	// node to act: a process that was paused (SIGSTOP, a VM freeze) must
	// not decide on the view it had before the pause. 0: never stale.
	StaleAfter time.Duration
	// NoQuorumPolicy, when set (the quorum section names one), is the
	// no-quorum-policy the scheduler applies, whatever the resources'
	// option says; suicide schedules like stop (see device.go).
	NoQuorumPolicy quorum.NoQuorumPolicy
}

// Coordinator is the DC half of the pure per-node core (see engine.Engine): the
// DC's decisions when this node is DC, and the replica of the CIB on every
// node. Not safe for concurrent use.
type Coordinator struct {
	cfg  Config
	view dcmsg.View
	// members is view.Names().
	members []string
	// lastTick is the time of the last membership tick, heardAt the time
	// the least recently heard member of the view was heard (freshness).
	lastTick, heardAt time.Duration
	fresh             bool

	// q is the quorum of the view with the device's verdict.
	q *quorum.Tracker

	cib        *replica.CIB
	rebuilding bool
	// lastAsk is when status was last requested while rebuilding.
	lastAsk  time.Duration
	nodes    *reports.Table
	inflight map[uint64]dcmsg.Action
	sentAt   map[uint64]time.Duration
	// held are start/promote actions decided but not sent: they wait
	// until every member acknowledged the CIB version (heldFor) that
	// records them as pending, so a successor DC knows of them.
	held    []dcmsg.Action
	heldFor replica.Version
	acked   map[string]replica.Version
	// leaving nodes asked to shut down: standby until they run nothing.
	leaving map[string]bool
	// holdUntil keeps the DC from re-sending to a member that refused an
	// action (its view id has not converged yet) until the time passes.
	holdUntil map[string]time.Duration
	nextID    uint64
	lastPlan  []PlannedAction
	// persisted is the last replica handed out in Ready.Persist.
	persisted *replica.CIB
	// delegated are fences of this node handed to a peer, by attempt.
	delegated map[int]delegation
	// synced: the configuration to probe with went out in this view
	// (KindConfigSync).
	synced bool

	ready *Ready
	// fenceOrders are the gate's fence decisions for the Engine to
	// execute, withdrawn the decisions it withdrew, selfFenceFailed the
	// fences of this node no peer could take (TakeFenceWork).
	fenceOrders     []FenceOrder
	withdrawn       []recovery.FenceRequest
	selfFenceFailed []recovery.FenceRequest
}

// FenceOrder is a fence the gate decided, in the view it decided it in.
type FenceOrder struct {
	Req  recovery.FenceRequest
	View uint64
}

// TakeFenceWork returns and clears the gate's fence decisions since the
// last call: orders to execute, orders withdrawn, and fences of this node
// that no other member can execute (they count as failed).
func (c *Coordinator) TakeFenceWork() (orders []FenceOrder, withdrawn, selfFailed []recovery.FenceRequest) {
	orders, withdrawn, selfFailed = c.fenceOrders, c.withdrawn, c.selfFenceFailed
	c.fenceOrders, c.withdrawn, c.selfFenceFailed = nil, nil, nil
	return orders, withdrawn, selfFailed
}

// TakePersist returns the replica when it changed since the last call
// (copy-on-write: a new pointer is a change) and holds something worth
// keeping (a configuration or fence records), else nil.
func (c *Coordinator) TakePersist() *replica.CIB {
	if (c.cib.Config == nil && len(c.cib.Fencing) == 0) || c.cib == c.persisted {
		return nil
	}
	c.persisted = c.cib
	return c.cib
}

// Advance re-checks freshness and the quorum device's verdict at now:
// called before any input is acted on, so a process resumed after a pause
// notices first.
func (c *Coordinator) Advance(now time.Duration) {
	c.checkFresh(now)
	c.checkDevice(now)
}

// Current is the current view.
func (c *Coordinator) Current() dcmsg.View { return c.view }

// QuorateNow reports whether this node's membership is fresh and its view
// holds quorum at now (with the device's vote as it stands at now).
func (c *Coordinator) QuorateNow(now time.Duration) bool { return c.fresh && c.q.At(now).Quorate }

// Send queues m for node to (this node: looped back), stamped with this
// node's name and view.
func (c *Coordinator) Send(to string, m dcmsg.Message) { c.send(to, m) }

// RecordHistory adds an entry to this replica's fence history (the DC
// replicates it with its next publish).
func (c *Coordinator) RecordHistory(e topology.HistoryEntry) { c.recordHistory(e) }

// New returns a Coordinator writing its work into rd (shared with the
// member side, see cluster/engine).
func New(cfg Config, rd *Ready) *Coordinator {
	if cfg.Wall == nil {
		cfg.Wall = time.Now
	}
	c := &Coordinator{cfg: cfg, cib: replica.WithDigest(cfg.CIB), nodes: reports.New(cfg.Nodes), inflight: map[uint64]dcmsg.Action{}, sentAt: map[uint64]time.Duration{},
		leaving: map[string]bool{}, holdUntil: map[string]time.Duration{}, acked: map[string]replica.Version{},
		delegated: map[int]delegation{}, ready: rd, fresh: true, q: quorum.NewTracker(cfg.Quorum)}
	if c.cib == nil {
		c.cib = &replica.CIB{}
	}
	if len(c.cib.Fencing) > 0 {
		// Persisted lifecycle records: what this node knew before it
		// restarted (a new DC confirms or redoes every pending fence).
		cfg.Gate.Adopt(c.cib.Fencing, false, 0)
	}
	return c
}

// acting: the view is agreed and this node's membership is fresh, so it
// may take decisions.
func (c *Coordinator) acting() bool { return c.view.Agreed && c.fresh }

// isDC reports whether this node is the DC of an agreed, fresh view.
func (c *Coordinator) isDC() bool { return c.view.DC == c.cfg.Self && c.acting() }

// viewDC: this node is the DC of its current view, agreed or not: it
// keeps the bookkeeping (results, reports, acks) that arrives while the
// view is briefly not agreed, and decides again once it is.
func (c *Coordinator) viewDC() bool { return c.view.DC == c.cfg.Self }

// gateDC: the gate may decide (fence, allow starts) once the DC has
// rebuilt status, and so adopted the newest replicated fence records.
func (c *Coordinator) gateDC() bool { return c.isDC() && !c.rebuilding }

// DC returns the DC of the current view ("" before the first view).
func (c *Coordinator) DC() string { return c.view.DC }

// IsDC reports whether this node is the DC of an agreed view.
func (c *Coordinator) IsDC() bool { return c.isDC() }

// View returns the current view id.
func (c *Coordinator) View() uint64 { return c.view.ID }

// Acting reports whether this node may take decisions now: its view is
// agreed and its membership was evaluated recently.
func (c *Coordinator) Acting() bool { return c.acting() }

// Quorate reports whether this node's agreed view holds quorum (false for
// a transitional or stale view).
func (c *Coordinator) Quorate() bool { return c.q.Quorate() }

// Members returns the current view's members, sorted.
func (c *Coordinator) Members() []string { return slices.Clone(c.members) }

// Rebuilding reports whether this DC is still collecting status.
func (c *Coordinator) Rebuilding() bool { return c.rebuilding }

// Waiting lists the members a rebuilding DC still waits for.
func (c *Coordinator) Waiting() []string {
	var out []string
	for _, m := range c.members {
		if !c.nodes.Node(m).Reported && c.gate().State(m) != recovery.StateFenced {
			out = append(out, m)
		}
	}
	return out
}

// Busy reports whether this DC has actions out or held.
func (c *Coordinator) Busy() bool { return len(c.inflight) > 0 || len(c.held) > 0 }

// Gate exposes the recovery gate (read-only use).
func (c *Coordinator) Gate() *recovery.Gate { return c.gate() }

// CIB returns the local replica.
func (c *Coordinator) CIB() *replica.CIB { return c.cib }

// Scheduler is the scheduler the DC runs (Config.Schedule).
func (c *Coordinator) Scheduler() Scheduler { return c.cfg.Schedule }

// SetScheduler replaces the scheduler (tests swap a fake for the real one,
// or the reverse, on a running cluster).
func (c *Coordinator) SetScheduler(s Scheduler) { c.cfg.Schedule = s }

// Self is this node's name.
func (c *Coordinator) Self() string { return c.cfg.Self }

// SafetyDigest is this node's digest of its quorum and fencing settings
// (Config.SafetyDigest).
func (c *Coordinator) SafetyDigest() string { return c.cfg.SafetyDigest }

// Wall is the wall clock the core runs on (Config.Wall).
func (c *Coordinator) Wall() time.Time { return c.cfg.Wall() }

// Log records an event of this node (its name, the time and, unless set,
// the current view filled in) for Ready.Log.
func (c *Coordinator) Log(now time.Duration, e eventlog.Entry) { c.log(now, e) }

// Errorf records a non-fatal problem for Ready.Errors.
func (c *Coordinator) Errorf(format string, args ...any) { c.errorf(format, args...) }

func (c *Coordinator) log(now time.Duration, e eventlog.Entry) {
	e.MonoNS = int64(now)
	e.Writer = c.cfg.Self
	if e.View == 0 {
		e.View = c.view.ID
	}
	c.ready.Log = append(c.ready.Log, e)
}

func (c *Coordinator) send(to string, m dcmsg.Message) {
	m.View, m.From = c.view.ID, c.cfg.Self
	c.ready.Send = append(c.ready.Send, dcmsg.Outgoing{To: to, Msg: m})
}

func (c *Coordinator) errorf(format string, args ...any) {
	c.ready.Errors = append(c.ready.Errors, fmt.Errorf(format, args...))
}

// SetView is called on every membership change, agreed or not.
func (c *Coordinator) SetView(v dcmsg.View, now time.Duration) {
	v.Members = slices.Clone(v.Members)
	slices.SortFunc(v.Members, func(a, b dcmsg.Member) int { return strings.Compare(a.Name, b.Name) })
	wasDC := c.isDC()
	oldMembers := c.members
	members := v.Names()
	for _, m := range members {
		if !slices.Contains(oldMembers, m) && c.view.ID != 0 {
			// Back (restarted): whatever it announced before is void.
			delete(c.leaving, m)
			if slices.Contains(c.cib.Left, m) {
				cib := *c.cib
				cib.Left = slices.DeleteFunc(slices.Clone(cib.Left), func(n string) bool { return n == m })
				c.cib = &cib
			}
		}
	}
	sameView := v.ID == c.view.ID && slices.Equal(v.Members, c.view.Members) && v.DC == c.view.DC
	c.view, c.members = v, members
	c.q.SetView(v.ID, members)
	if !sameView {
		// Results of the old view are refused anyway, and whatever was
		// decided in it is decided again.
		c.inflight, c.sentAt = map[uint64]dcmsg.Action{}, map[uint64]time.Duration{}
		c.held, c.acked = nil, map[string]replica.Version{}
		// What any node runs is known again only from its own report in
		// this view; until then (and for nodes outside the view) the
		// replicated snapshot says what they last ran.
		c.nodes.Reset()
		c.synced = false
	}
	c.evaluate(now, wasDC, !sameView)
}

// evaluate recomputes quorum and the DC role after the view, its
// agreement or this node's freshness changed, and starts a rebuild when
// this node becomes (or stays) DC of a new agreed view.
func (c *Coordinator) evaluate(now time.Duration, wasDC, newView bool) {
	wasQuorate, wasPending := c.q.Quorate(), c.q.Pending()
	st, deviceChanged := c.q.Evaluate(now, c.acting())
	if deviceChanged {
		c.log(now, eventlog.Entry{Event: EventQuorumDevice, Detail: st.String()})
	}
	c.dropHeld(wasQuorate, wasPending, now)
	if c.isDC() {
		if !wasDC {
			c.log(now, eventlog.Entry{Event: eventlog.DCElected, Detail: st.String()})
		}
		if !wasDC || newView {
			// Rebuild: nothing is scheduled until every member reported.
			c.rebuilding = true
			c.synced = false
			for _, m := range c.members {
				c.nodes.Node(m).Reported = false
			}
			c.askStatus(now)
		}
	} else {
		c.rebuilding = false
	}
	c.setPartition(now)
	c.schedule(now)
}

// setPartition tells the gate what it may do now.
func (c *Coordinator) setPartition(now time.Duration) {
	c.gate().SetPartition(recovery.Partition{Members: c.members, Quorate: c.q.Quorate(), DC: c.isDC(), Rebuilding: c.rebuilding, View: c.view.ID,
		Active: c.activeByNode(), Gens: c.view.Gens()}, now)
	c.drainGate(now)
}

// MembershipTick records that membership was evaluated at now, and that
// the member of the view heard least recently was heard quiet ago. A node
// whose last tick, or whose least recently heard member, is older than
// Config.StaleAfter takes no decision: a paused process must not act on
// the view it had before the pause, and an isolated one must stop acting
// (at half a deadtime) before its peers can declare it dead (at a
// deadtime) and act themselves.
func (c *Coordinator) MembershipTick(now, quiet time.Duration) {
	c.lastTick = now
	c.heardAt = now - quiet
	c.checkFresh(now)
}

func (c *Coordinator) checkFresh(now time.Duration) {
	fresh := c.cfg.StaleAfter <= 0 || (now-c.lastTick <= c.cfg.StaleAfter && now-c.heardAt <= c.cfg.StaleAfter)
	if fresh == c.fresh {
		return
	}
	wasDC := c.isDC()
	c.fresh = fresh
	if !fresh {
		detail := fmt.Sprintf("membership not evaluated for %s: no decisions until it is", now-c.lastTick)
		if now-c.heardAt > c.cfg.StaleAfter {
			detail = fmt.Sprintf("a member of the view not heard for %s: no decisions until it is heard or the view changes", now-c.heardAt)
		}
		c.log(now, eventlog.Entry{Event: eventlog.ViewStale, Detail: detail})
	}
	c.evaluate(now, wasDC, false)
}

func (c *Coordinator) gate() *recovery.Gate { return c.cfg.Gate }

func (c *Coordinator) drainGate(now time.Duration) {
	rd := c.gate().Ready()
	c.ready.Alerts = append(c.ready.Alerts, rd.Alerts...)
	c.ready.Log = append(c.ready.Log, rd.Log...)
	for _, fr := range rd.Fence {
		if fr.Target == c.cfg.Self {
			c.delegateSelfFence(fr, now)
			continue
		}
		c.fenceOrders = append(c.fenceOrders, FenceOrder{Req: fr, View: c.view.ID})
	}
	c.withdrawn = append(c.withdrawn, rd.Withdraw...)
	if len(rd.Fence) > 0 || len(rd.Withdraw) > 0 {
		c.publish(now)
	}
}

// delegateSelfFence hands the fence of this node (the DC: a stop of its
// own failed) to the first other member, which executes it and tells
// every member the outcome. The records published just before tell every
// member that a fence of the DC is out.
func (c *Coordinator) delegateSelfFence(fr recovery.FenceRequest, now time.Duration) {
	var peer string
	for _, m := range c.members {
		if m != c.cfg.Self {
			peer = m
			break
		}
	}
	if peer == "" {
		c.ready.Alerts = append(c.ready.Alerts, recovery.Alert{Target: c.cfg.Self,
			Message: fmt.Sprintf("%s must be fenced (%s) but no other member can do it; its resources stay blocked", c.cfg.Self, fr.Reason)})
		c.selfFenceFailed = append(c.selfFenceFailed, fr)
		return
	}
	c.delegated[fr.Attempt] = delegation{req: fr, peer: peer, at: now}
	c.publish(now)
	c.send(peer, dcmsg.Message{Kind: dcmsg.KindFenceExec, Fence: &fr})
	c.log(now, eventlog.Entry{Event: eventlog.FenceDelegated, Target: c.cfg.Self, Node: peer, Attempt: fr.Attempt,
		Detail: "the DC is fenced by a peer: " + fr.Reason})
}

// delegation is a fence of the DC itself handed to a peer.
type delegation struct {
	req  recovery.FenceRequest
	peer string
	at   time.Duration
}

// DelegationTimeout bounds the wait for a peer's answer to the fence of
// the DC: past it the attempt counts as failed and is retried (through
// another peer if the first is gone).
const DelegationTimeout = 90 * time.Second

// expireDelegations fails the fences of this node whose peer never
// answered (the order or its result was lost with a view change).
func (c *Coordinator) expireDelegations(now time.Duration) {
	var late []int
	for a, d := range c.delegated {
		if now-d.at >= DelegationTimeout || !slices.Contains(c.members, d.peer) {
			late = append(late, a)
		}
	}
	slices.Sort(late)
	for _, a := range late {
		d := c.delegated[a]
		delete(c.delegated, a)
		c.gate().FenceResult(recovery.FenceResult{Target: d.req.Target, Attempt: d.req.Attempt, Gen: d.req.Gen,
			Err: fmt.Sprintf("no answer from %s, asked to fence this DC, within %v", d.peer, DelegationTimeout)}, now)
		c.drainGate(now)
	}
}

// activeByNode is the resources last known active per node: live reports
// for members, the replicated snapshot for the others.
func (c *Coordinator) activeByNode() map[string][]string {
	out := map[string][]string{}
	for _, r := range c.statusResources() {
		out[r.Node] = append(out[r.Node], r.Rsc)
	}
	return out
}

func (c *Coordinator) statusResources() []model.ResourceStatus {
	return c.nodes.Resources(c.cib.Status.Resources)
}

// Step handles one message from another node (or this one, looped back).
func (c *Coordinator) Step(m dcmsg.Message, now time.Duration) {
	switch m.Kind {
	case dcmsg.KindCIB:
		c.adoptCIB(m, now)
	case dcmsg.KindCIBAck:
		if c.viewDC() && m.View == c.view.ID && slices.Contains(c.members, m.From) {
			if c.acked[m.From].Less(*m.Ack) {
				c.acked[m.From] = *m.Ack
			}
			c.releaseHeld(now)
		}
	case dcmsg.KindLeave:
		if c.viewDC() && slices.Contains(c.members, m.From) && !c.leaving[m.From] {
			c.leaving[m.From] = true
			c.log(now, eventlog.Entry{Event: eventlog.NodeLeaving, Target: m.From, Detail: "shutdown requested: moving its resources away"})
			c.schedule(now)
			c.checkLeft(now)
		}
	case dcmsg.KindStatus:
		c.onStatus(m, now)
	case dcmsg.KindActionResult:
		c.onResult(m, now)
	case dcmsg.KindConfigPropose, dcmsg.KindConfigResult:
		c.stepConfig(m, now)
	case dcmsg.KindFenceRequest:
		if c.gateDC() && m.View == c.view.ID {
			if err := c.requestFence(m.Target, m.Reason, now); err != nil {
				c.ready.Errors = append(c.ready.Errors, err)
			}
			c.drainGate(now)
			c.schedule(now)
		}
	case dcmsg.KindFenceResult:
		if m.History != nil {
			c.recordHistory(*m.History)
		}
		res := *m.FenceResult
		if d, ok := c.delegated[res.Attempt]; ok && res.Target == c.cfg.Self && d.peer == m.From {
			delete(c.delegated, res.Attempt)
		}
		c.gate().FenceResult(res, now)
		c.drainGate(now)
		if res.OK && res.VerifiedOff && c.gate().State(res.Target) == recovery.StateFenced {
			c.forget(res.Target)
		}
		c.publish(now)
		c.schedule(now)
	case dcmsg.KindRequest:
		c.onRequest(m, now)
	}
}

// adoptCIB is the member side of replication: take the DC's copy of the
// current view when it is not older, with its fence records, and
// acknowledge it.
func (c *Coordinator) adoptCIB(m dcmsg.Message, now time.Duration) {
	cib := replica.WithDigest(m.CIB)
	if m.From != c.view.DC || m.View != c.view.ID || replica.Older(cib, c.cib) {
		return
	}
	if err := replica.CheckCIB(cib); err != nil {
		c.errorf("CIB %s from DC %s refused, keeping %s: %w", cib.Version, m.From, c.cib.Version, err)
		return
	}
	if lacks(cib.History, c.cib.History) {
		// An entry this member heard first hand (a fence it executed
		// for the DC) and the DC's copy lacks yet: keep it, so the next
		// DC collects it.
		cp := *cib
		cp.History = topology.MergeHistory(cib.History, c.cib.History, topology.HistoryLimit)
		cib = &cp
	}
	c.cib = cib
	c.gate().Adopt(cib.Fencing, false, now)
	for _, n := range c.cib.Left {
		_ = c.gate().CleanLeave(n, now) // refused for unclean nodes: fine
	}
	c.drainGate(now)
	v := cib.Version
	c.send(m.From, dcmsg.Message{Kind: dcmsg.KindCIBAck, Ack: &v})
}

func (c *Coordinator) onStatus(m dcmsg.Message, now time.Duration) {
	if !c.viewDC() || m.View != c.view.ID {
		return
	}
	if m.Status.Node != m.From || !slices.Contains(c.members, m.From) || c.gate().State(m.From) == recovery.StateFenced {
		// A fenced node is off: a report of it still in flight is old.
		return
	}
	if !c.nodes.Report(m.Status) {
		return
	}
	c.checkSafetyDigest(c.nodes.Node(m.From), m.From, m.Status.SafetyDigest, now)
	// Join: the configuration of the highest version wins (equal
	// versions: the higher digest, so every DC picks the same copy), if it
	// is valid; each node's status comes from the copy that heard from it
	// last.
	if theirs := replica.WithDigest(m.Status.CIB); theirs != nil {
		merged := replica.MergeStatus(c.cib, theirs)
		if newer := replica.Newer(c.cib, theirs); newer != c.cib {
			if err := replica.CheckCIB(newer); err != nil {
				c.errorf("CIB %s reported by %s refused, keeping %s: %w", newer.Version, m.From, c.cib.Version, err)
			} else {
				merged.Version, merged.Config, merged.Digest, merged.Left, merged.Operator = newer.Version, newer.Config, newer.Digest, newer.Left, newer.Operator
			}
		}
		merged.History = topology.MergeHistory(c.cib.History, theirs.History, topology.HistoryLimit)
		c.cib = merged
	}
	if c.rebuilding && m.Status.CIB != nil && len(m.Status.CIB.Fencing) > 0 {
		// The newest fence records of any member: the previous DC's
		// decisions (the gate keeps the newest of each node's record).
		c.gate().Adopt(m.Status.CIB.Fencing, true, now)
		c.drainGate(now)
	}
	if m.Status.Unprobed {
		// A node that just started or rejoined sent its replica: once
		// every member's is in, it probes with the winner.
		c.syncConfig(m.From)
		return
	}
	c.syncConfig("")
	if c.rebuilding && c.allReported() {
		c.rebuilding = false
		c.setPartition(now)
		c.publish(now)
	} else if !c.rebuilding && !reflect.DeepEqual(c.buildStatus(), c.cib.Status) {
		// A report that changes the status (a cleanup, an expired
		// failure, a monitor result) reaches every replica, so
		// `palisade status` on any node shows it.
		c.publish(now)
	}
	c.schedule(now)
	c.checkLeft(now)
}

// syncConfig sends the configuration to probe with to the members that
// have not probed yet (from: the one that just asked again), once every
// member sent its replica: the highest version (then digest) has won by
// then, so no node probes with a configuration the cluster will not run
// (Pacemaker's join likewise syncs the CIB before the nodes' resource
// history counts).
func (c *Coordinator) syncConfig(from string) {
	if !c.isDC() {
		return
	}
	if c.rebuilding {
		for _, m := range c.members {
			if !c.nodes.Node(m).Joined && c.gate().State(m) != recovery.StateFenced {
				return
			}
		}
	}
	if c.synced && from == "" {
		return
	}
	// The first time to every member that waits for it; afterwards to a
	// member asking again (it missed it, or the DC re-asked meanwhile).
	all := !c.synced
	c.synced = true
	sync := &replica.CIB{Version: c.cib.Version, Config: c.cib.Config, Digest: c.cib.Digest}
	for _, m := range c.members {
		if ni := c.nodes.Node(m); !ni.Reported && ni.Joined && (all || m == from) {
			c.send(m, dcmsg.Message{Kind: dcmsg.KindConfigSync, CIB: sync})
		}
	}
}

func (c *Coordinator) allReported() bool {
	for _, m := range c.members {
		// A node confirmed fenced is off, whatever membership still
		// says: its report will not come.
		if !c.nodes.Node(m).Reported && c.gate().State(m) != recovery.StateFenced {
			return false
		}
	}
	return true
}

func (c *Coordinator) sortedInflight() []dcmsg.Action {
	out := make([]dcmsg.Action, 0, len(c.inflight))
	for _, a := range c.inflight {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (c *Coordinator) onResult(m dcmsg.Message, now time.Duration) {
	r := m.Result
	if !c.viewDC() || m.View != c.view.ID {
		return
	}
	a, ok := c.inflight[r.ID]
	if !ok {
		return
	}
	delete(c.inflight, r.ID)
	delete(c.sentAt, r.ID)
	c.nodes.Answered(a)
	if r.Refused {
		c.log(now, eventlog.Entry{Event: eventlog.ActionRefused, Resource: a.Resource, Node: a.Node, Action: a.Op, Detail: r.Reason})
		c.holdUntil[a.Node] = now + RefusalHold
	} else {
		c.log(now, eventlog.Entry{Event: eventlog.ActionResult, Resource: a.Resource, Node: a.Node, Action: a.Op, OK: eventlog.Bool(r.OK),
			Detail: fmt.Sprintf("rc=%d fail_count=%d", r.RC, r.FailCount)})
		c.nodes.Result(a, r, c.cfg.Wall())
		if r.Failed && r.OnFail == "fence" {
			if err := c.requestFence(a.Node, fmt.Sprintf("%s of %s failed (on-fail=fence)", a.Op, a.Resource), now); err != nil {
				c.ready.Errors = append(c.ready.Errors, err)
			}
			c.drainGate(now)
		}
	}
	c.publish(now)
	c.schedule(now)
	c.checkLeft(now)
}

// requestFence asks the gate to fence n, with what n runs now.
func (c *Coordinator) requestFence(n, reason string, now time.Duration) error {
	c.gate().SetActive(c.activeByNode())
	return c.gate().RequestFence(n, reason, now)
}

// checkLeft lets leaving members that run nothing (and have nothing in
// flight) go: the gate will not fence them when they disappear, and the
// CIB tells every member (and so any future DC).
func (c *Coordinator) checkLeft(now time.Duration) {
	if !c.gateDC() {
		return
	}
	changed := false
	for _, n := range slices.Sorted(func(y func(string) bool) {
		for k := range c.leaving {
			if !y(k) {
				return
			}
		}
	}) {
		if slices.Contains(c.cib.Left, n) || !slices.Contains(c.members, n) {
			continue
		}
		busy := false
		for _, r := range c.statusResources() {
			busy = busy || r.Node == n
		}
		for _, a := range c.inflight {
			busy = busy || a.Node == n
		}
		for _, r := range c.pendingStarts() {
			busy = busy || r.Node == n
		}
		if busy {
			continue
		}
		if err := c.gate().CleanLeave(n, now); err != nil {
			c.ready.Errors = append(c.ready.Errors, err)
			continue
		}
		c.drainGate(now)
		cib := *c.cib
		cib.Left = append(slices.Clone(cib.Left), n)
		c.cib = &cib
		changed = true
	}
	if changed {
		c.publish(now)
	}
}

// Left reports whether the DC has let node leave (its replica says so).
func (c *Coordinator) Left(node string) bool { return slices.Contains(c.cib.Left, node) }

// FenceResult feeds the outcome of a fence this node executed for itself
// (as DC) to the gate.
func (c *Coordinator) FenceResult(res recovery.FenceResult, now time.Duration) {
	c.gate().FenceResult(res, now)
	c.drainGate(now)
	if res.OK && res.VerifiedOff && c.gate().State(res.Target) == recovery.StateFenced {
		// The node is off: nothing runs there any more.
		c.forget(res.Target)
	}
	c.publish(now)
	c.schedule(now)
}

// Confirm records an operator's confirmation that node is down.
func (c *Coordinator) Confirm(node, by string, now time.Duration) error {
	if !c.gateDC() {
		return fmt.Errorf("confirm %s: %w", node, c.notDCError())
	}
	if err := c.gate().OperatorConfirm(node, by, now); err != nil {
		return err
	}
	wall := c.cfg.Wall()
	c.recordHistory(topology.HistoryEntry{ID: topology.HistoryID(c.cfg.Self, node, 0, wall), Target: node, Action: topology.ActionConfirm,
		Devices: "operator", Origin: "operator:" + by, Reason: "manual confirmation by operator", Executor: c.cfg.Self,
		Start: wall, End: wall, Result: fence.ClassOK})
	c.drainGate(now)
	c.forget(node)
	c.publish(now)
	c.schedule(now)
	return nil
}

// recordHistory adds an entry to this replica's fence history (the DC
// replicates it with its next publish).
func (c *Coordinator) recordHistory(e topology.HistoryEntry) {
	cib := *c.cib
	cib.History = topology.MergeHistory(c.cib.History, []topology.HistoryEntry{e}, topology.HistoryLimit)
	c.cib = &cib
}

// lacks reports whether mine has an entry that theirs does not.
func lacks(theirs, mine []topology.HistoryEntry) bool {
	ids := make(map[string]bool, len(theirs))
	for _, e := range theirs {
		ids[e.ID] = true
	}
	for _, e := range mine {
		if !ids[e.ID] {
			return true
		}
	}
	return false
}

// History is the replicated fence history, oldest first.
func (c *Coordinator) History() []topology.HistoryEntry { return slices.Clone(c.cib.History) }

// notDCError says why this node cannot decide.
func (c *Coordinator) notDCError() error {
	switch {
	case c.view.DC == "":
		return fmt.Errorf("this node is in no membership view yet: %w", dcmsg.ErrNoDC)
	case !c.acting():
		return fmt.Errorf("the membership view is not agreed yet: %w", dcmsg.ErrRetry)
	case c.view.DC != c.cfg.Self:
		return fmt.Errorf("this node is not the DC (the DC is %s): %w", c.view.DC, dcmsg.ErrNotDC)
	case c.rebuilding:
		return fmt.Errorf("the DC %s is collecting status after a membership change: %w", c.cfg.Self, dcmsg.ErrRetry)
	}
	return nil
}

func (c *Coordinator) forget(node string) {
	c.q.NoteOff(node)
	// Copy on write: the old CIB may still be referenced by a status
	// report being assembled elsewhere.
	cib := *c.cib
	cib.Status.Resources = slices.DeleteFunc(slices.Clone(cib.Status.Resources), func(r model.ResourceStatus) bool { return r.Node == node })
	c.cib = &cib
	c.nodes.Off(node) // known: nothing runs on a powered-off node
}

// RebuildRetry is how often a rebuilding DC asks silent members again:
// a member whose view id has not converged yet ignores the request.
const RebuildRetry = 200 * time.Millisecond

func (c *Coordinator) askStatus(now time.Duration) {
	c.lastAsk = now
	for _, m := range c.members {
		if !c.nodes.Node(m).Reported {
			c.send(m, dcmsg.Message{Kind: dcmsg.KindStatusRequest})
		}
	}
}

// Tick advances time (fence delays and retries, status re-requests).
func (c *Coordinator) Tick(now time.Duration) {
	c.checkFresh(now)
	c.checkDevice(now)
	c.expireDelegations(now)
	c.gate().Tick(now)
	c.drainGate(now)
	if c.isDC() && c.rebuilding && now-c.lastAsk >= RebuildRetry {
		c.askStatus(now)
	}
	c.expireInflight(now)
	var due []string
	for n, until := range c.holdUntil {
		if now >= until {
			due = append(due, n)
		}
	}
	if len(due) > 0 {
		for _, n := range due {
			delete(c.holdUntil, n)
		}
		c.schedule(now)
	}
}

// ActionLost is how long after an action's own timeout the DC waits for
// its result before it asks the node what runs there instead (the result
// can be lost with a reliable stream the membership reset).
const ActionLost = 10 * time.Second

// expireInflight gives up on results that did not come: the node's next
// report (it lists starts still running as pending) says what happened.
func (c *Coordinator) expireInflight(now time.Duration) {
	if !c.viewDC() {
		return
	}
	for _, a := range c.sortedInflight() {
		limit := ActionLost
		if p := replica.FindPrimitive(c.cib.Config, a.Resource); p != nil {
			limit += replica.Instance(p, a.Op, a.Interval).Timeout
		}
		if now-c.sentAt[a.ID] < limit {
			continue
		}
		delete(c.inflight, a.ID)
		delete(c.sentAt, a.ID)
		c.errorf("no result for %s of %s on %s after %v: asking %s what runs there", a.Op, a.Resource, a.Node, limit, a.Node)
		c.nodes.Node(a.Node).Reported = false
		c.send(a.Node, dcmsg.Message{Kind: dcmsg.KindStatusRequest})
	}
}

// RefusalHold is how long the DC waits before sending again to a member
// that refused an action (stale view): views converge within a round trip.
const RefusalHold = 100 * time.Millisecond

// publish bumps num_updates and replicates the CIB (status and fence
// records) to all members.
func (c *Coordinator) publish(now time.Duration) {
	if !c.isDC() || c.rebuilding {
		return
	}
	cib := &replica.CIB{Version: c.cib.Version, Config: c.cib.Config, Digest: c.cib.Digest, Left: c.cib.Left, Operator: c.cib.Operator, History: c.cib.History}
	cib.Version.NumUpdates++
	cib.Status = c.buildStatus()
	cib.Pending = c.pendingStarts()
	// What this DC's gate knows now, quorate or not: each record carries
	// the view it was last changed in and the generation it is about, and
	// the newest per node wins where it is adopted. (An inquorate DC only
	// adds caution: it never fences, so its records are losses and
	// rejoins, which the next quorate DC reconciles with its own view.)
	cib.Fencing = c.gate().Records()
	cib.ReportedIn = maps.Clone(c.cib.ReportedIn)
	if cib.ReportedIn == nil {
		cib.ReportedIn = map[string]uint64{}
	}
	for _, n := range c.cfg.Nodes {
		// Known: reported in this view, or in an earlier one (the
		// snapshot keeps what it said).
		if c.nodes.Node(n).Reported || slices.Contains(c.cib.Reported, n) {
			cib.Reported = append(cib.Reported, n)
		}
		if c.nodes.Node(n).Reported {
			cib.ReportedIn[n] = c.view.ID
		}
	}
	c.cib = cib
	for _, m := range c.members {
		if m != c.cfg.Self {
			c.send(m, dcmsg.Message{Kind: dcmsg.KindCIB, CIB: cib})
		}
	}
}

func (c *Coordinator) buildStatus() model.Status {
	return c.nodes.Status(c.cib.Status, !c.q.Quorate(), func(n string) model.NodeState {
		state := model.NodeOffline
		switch {
		case c.gate().Blocked(n):
			state = model.NodeUnclean
		case c.gate().State(n) == recovery.StateFenced:
			// Powered off even if membership has not noticed yet.
		case slices.Contains(c.members, n):
			state = model.NodeOnline
		}
		return model.NodeState{Name: n, State: state, Standby: c.leaving[n]}
	})
}

// pendingStarts are the starts (and promotes) that may have taken effect
// without a result yet: held or sent by this DC, reported running by a
// member, or — for nodes that did not report in this view — replicated as
// pending by an earlier DC. The scheduler does not see them as active (an
// action ordered after one must wait for its result); recovery treats them
// as maybe active.
func (c *Coordinator) pendingStarts() []model.ResourceStatus {
	var out []model.ResourceStatus
	add := func(rsc, node string) {
		if !slices.ContainsFunc(out, func(r model.ResourceStatus) bool { return r.Rsc == rsc && r.Node == node }) {
			out = append(out, model.ResourceStatus{Rsc: rsc, Node: node})
		}
	}
	for _, a := range c.held {
		add(a.Resource, a.Node)
	}
	for _, a := range c.sortedInflight() {
		if a.Op == "start" || a.Op == "promote" {
			add(a.Resource, a.Node)
		}
	}
	for _, r := range c.nodes.Pending(c.cib.Pending) {
		add(r.Rsc, r.Node)
	}
	return out
}

// maybeOn lists nodes where rsc is or may be active: where status says so
// (including starts sent and not answered), plus unclean nodes whose
// status was never known.
func (c *Coordinator) maybeOn(rsc string) []string {
	var out []string
	for _, r := range c.statusResources() {
		if r.Rsc == rsc && !slices.Contains(out, r.Node) {
			out = append(out, r.Node)
		}
	}
	for _, r := range c.pendingStarts() {
		if r.Rsc == rsc && !slices.Contains(out, r.Node) {
			out = append(out, r.Node)
		}
	}
	for _, n := range c.cfg.Nodes {
		if (c.gate().Blocked(n) && !c.nodes.Node(n).Reported && !slices.Contains(c.cib.Reported, n) || c.q.Suspect(n)) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func (c *Coordinator) schedule(now time.Duration) {
	// An undecided view (the quorum device has not answered yet) is
	// neither quorate nor inquorate: nothing starts, nothing is stopped
	// by the no-quorum-policy, until the device answers.
	if !c.gateDC() || c.q.Pending() || c.cib.Config == nil || c.cfg.Schedule == nil {
		return
	}
	c.fenceSuspects(now) // device.go
	plan, err := c.cfg.Schedule(c.scheduled(c.cib.Config), c.buildStatus(), c.cfg.Wall())
	if err != nil {
		c.errorf("schedule (view %d): %w", c.view.ID, err)
		return
	}
	c.lastPlan = plan
	ids := map[string]bool{}
	for _, a := range plan {
		ids[a.ID] = true
	}
	busy := map[string]bool{}
	for _, a := range c.inflight {
		busy[a.Resource] = true
	}
	for _, r := range c.pendingStarts() {
		busy[r.Rsc] = true
	}
	var starts []dcmsg.Action
	for _, a := range plan {
		blocked := false
		for _, dep := range a.After {
			if ids[dep] {
				blocked = true // its prerequisite is still part of the plan
			}
		}
		if blocked {
			continue
		}
		switch a.Op {
		case "fence":
			if err := c.requestFence(a.Node, "scheduler: node unclean", now); err != nil {
				c.ready.Errors = append(c.ready.Errors, err)
			}
			c.drainGate(now)
			continue
		case "monitor":
			if a.Interval > 0 {
				continue // members run the configured recurring monitors themselves
			}
		}
		if a.Resource == "" || busy[a.Resource] || !slices.Contains(c.members, a.Node) || now < c.holdUntil[a.Node] {
			continue
		}
		if a.Op == "start" || a.Op == "promote" {
			if d := c.gate().AllowStart(a.Resource, a.Node, c.maybeOn(a.Resource), now); !d.Allowed {
				c.drainGate(now)
				continue
			}
			c.drainGate(now)
		}
		c.nextID++
		act := dcmsg.Action{ID: c.nextID, Op: a.Op, Resource: a.Resource, Node: a.Node, Interval: a.Interval, Primitive: replica.FindPrimitive(c.cib.Config, a.Resource)}
		busy[a.Resource] = true
		if a.Op == "start" || a.Op == "promote" {
			starts = append(starts, act)
			continue
		}
		c.dispatch(act, now)
	}
	if len(starts) > 0 {
		c.hold(starts, now)
	}
}

// hold records starts as pending on their nodes, replicates that, and
// sends them once every member acknowledged the replica (releaseHeld).
func (c *Coordinator) hold(starts []dcmsg.Action, now time.Duration) {
	c.held = append(c.held, starts...)
	c.publish(now)
	c.heldFor = c.cib.Version
	c.releaseHeld(now)
}

// releaseHeld sends the held starts once every other member acknowledged
// the CIB version that records them.
func (c *Coordinator) releaseHeld(now time.Duration) {
	if len(c.held) == 0 || !c.gateDC() {
		return
	}
	for _, m := range c.members {
		if m != c.cfg.Self && c.acked[m].Less(c.heldFor) {
			return
		}
	}
	held := c.held
	c.held = nil
	for _, a := range held {
		c.dispatch(a, now)
	}
}

func (c *Coordinator) dispatch(act dcmsg.Action, now time.Duration) {
	c.inflight[act.ID] = act
	c.sentAt[act.ID] = now
	c.log(now, eventlog.Entry{Event: eventlog.ActionSent, Resource: act.Resource, Node: act.Node, Action: act.Op})
	c.send(act.Node, dcmsg.Message{Kind: dcmsg.KindAction, Action: &act})
}

// Status is the status as this node knows it: the DC's live one, the
// replicated snapshot elsewhere (a copy: it is encoded on other
// goroutines).
func (c *Coordinator) Status() model.Status {
	if c.isDC() {
		return c.buildStatus()
	}
	st := c.cib.Status
	st.Nodes, st.Resources, st.Failures = slices.Clone(st.Nodes), slices.Clone(st.Resources), slices.Clone(st.Failures)
	return st
}

// Inflight lists the actions sent and not answered yet, by id.
func (c *Coordinator) Inflight() []dcmsg.Action { return c.sortedInflight() }

// checkSafetyDigest alerts (once per node and digest) when a node runs with
// quorum or fencing settings that differ from the DC's: with two_node on
// one side only, or fence-race delays that disagree, both halves of a split
// could believe they may fence and take over.
func (c *Coordinator) checkSafetyDigest(ni *reports.Node, node, digest string, now time.Duration) {
	if digest == "" || c.cfg.SafetyDigest == "" || digest == c.cfg.SafetyDigest || ni.Alerted == digest {
		return
	}
	ni.Alerted = digest
	msg := fmt.Sprintf("%s runs with quorum/fencing settings that differ from the DC %s (digest %.12s, DC %.12s): make the quorum: and fencing: sections of cluster.yaml identical on every node and restart it", node, c.cfg.Self, digest, c.cfg.SafetyDigest)
	c.log(now, eventlog.Entry{Event: eventlog.Alert, Target: node, Detail: msg})
	c.ready.Alerts = append(c.ready.Alerts, recovery.Alert{Target: node, Message: msg})
}
