package dc

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
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

// Outgoing is a message to send; To may be this node (the runtime loops it
// back).
type Outgoing struct {
	To  string
	Msg Message
}

// Config sets up a Coordinator.
type Config struct {
	Self  string
	Nodes []string
	// Quorum computes quorum from the view.
	Quorum *quorum.Calculator
	Gate   *recovery.Gate
	// Schedule is called on every change while DC and rebuilt.
	Schedule Scheduler
	// Wall maps the monotonic now to wall time for the scheduler's
	// failure-timeout arithmetic (default time.Now).
	Wall func() time.Time
	// CIB is this node's initial replica (from disk or the config file).
	CIB *CIB
	// SafetyDigest summarizes the settings of this node's own file that
	// every node must share because they decide who may fence and take
	// over (quorum, fencing policy and fence-race delays; see
	// SafetyDigestOf). Nodes report it; the DC alerts on a difference.
	SafetyDigest string
}

// Ready is the work the runtime must perform.
type Ready struct {
	Send   []Outgoing
	Fence  []recovery.FenceRequest
	Alerts []recovery.Alert
	Log    []eventlog.Entry
	// Errors are non-fatal problems to log (scheduler errors...).
	Errors []error
	// ConfigResults answer this node's configuration proposals.
	ConfigResults []ConfigResult
	// Persist is set when the replica's configuration or its (admin_epoch,
	// epoch) changed: store it (state_dir) so a restarted node rejoins
	// with it and the highest version wins.
	Persist *CIB
}

type nodeInfo struct {
	reported  bool
	resources []model.ResourceStatus
	failures  []model.Failure
	// alerted is the safety digest this node was last alerted for.
	alerted string
}

// Coordinator is the pure DC core; it also holds the member-side replica of
// the CIB on every node. Not safe for concurrent use.
type Coordinator struct {
	cfg     Config
	view    uint64
	members []string
	dc      string
	quorate bool

	cib        *CIB
	rebuilding bool
	// lastAsk is when status was last requested while rebuilding.
	lastAsk  time.Duration
	nodes    map[string]*nodeInfo
	inflight map[uint64]Action
	// leaving nodes asked to shut down: standby until they run nothing.
	leaving map[string]bool
	// holdUntil keeps the DC from re-sending to a member that refused an
	// action (its view id has not converged yet) until the time passes.
	holdUntil map[string]time.Duration
	nextID    uint64
	lastPlan  []PlannedAction
	// persisted identifies the last replica handed out in Ready.Persist.
	persisted string

	ready Ready
}

// New returns a Coordinator.
// wall is the configured wall clock (time.Now by default).
func (c Config) wall() time.Time {
	if c.Wall != nil {
		return c.Wall()
	}
	return time.Now()
}

func New(cfg Config) *Coordinator {
	if cfg.Wall == nil {
		cfg.Wall = time.Now
	}
	c := &Coordinator{cfg: cfg, cib: withDigest(cfg.CIB), nodes: map[string]*nodeInfo{}, inflight: map[uint64]Action{}, leaving: map[string]bool{}, holdUntil: map[string]time.Duration{}}
	if c.cib == nil {
		c.cib = &CIB{}
	}
	for _, n := range cfg.Nodes {
		c.nodes[n] = &nodeInfo{}
	}
	return c
}

func (c *Coordinator) isDC() bool { return c.dc == c.cfg.Self }

// DC returns the DC of the current view ("" before the first view).
func (c *Coordinator) DC() string { return c.dc }

// IsDC reports whether this node is the DC of its view.
func (c *Coordinator) IsDC() bool { return c.isDC() }

// View returns the current view id.
func (c *Coordinator) View() uint64 { return c.view }

// CIB returns the local replica.
func (c *Coordinator) CIB() *CIB { return c.cib }

func (c *Coordinator) log(now time.Duration, e eventlog.Entry) {
	e.MonoNS = int64(now)
	e.Writer = c.cfg.Self
	if e.View == 0 {
		e.View = c.view
	}
	c.ready.Log = append(c.ready.Log, e)
}

func (c *Coordinator) send(to string, m Message) {
	m.View, m.From = c.view, c.cfg.Self
	c.ready.Send = append(c.ready.Send, Outgoing{To: to, Msg: m})
}

// SetView is called on every membership view change. dc is the view's
// lowest member (membership decides it).
func (c *Coordinator) SetView(id uint64, members []string, dc string, now time.Duration) {
	members = slices.Sorted(slices.Values(members))
	wasDC := c.isDC()
	for _, m := range members {
		if !slices.Contains(c.members, m) && c.view != 0 {
			// Back (restarted): whatever it announced before is void.
			delete(c.leaving, m)
			if slices.Contains(c.cib.Left, m) {
				cib := *c.cib
				cib.Left = slices.DeleteFunc(slices.Clone(cib.Left), func(n string) bool { return n == m })
				c.cib = &cib
			}
		}
	}
	c.view, c.members, c.dc = id, members, dc
	st := c.cfg.Quorum.Update(members, now)
	c.quorate = st.Quorate
	c.inflight = map[uint64]Action{} // results of the old view are refused anyway
	if c.isDC() {
		if !wasDC {
			c.log(now, eventlog.Entry{Event: eventlog.DCElected, Detail: st.String()})
		}
		// Rebuild: nothing is scheduled until every member reported.
		c.rebuilding = true
		for _, m := range members {
			c.nodes[m].reported = false
		}
		c.askStatus(now)
	}
	c.gate().SetPartition(recovery.Partition{Members: members, Quorate: c.quorate, DC: c.isDC(), View: id, Active: c.activeByNode()}, now)
	c.drainGate()
	c.schedule(now)
}

func (c *Coordinator) gate() *recovery.Gate { return c.cfg.Gate }

func (c *Coordinator) drainGate() {
	rd := c.gate().Ready()
	c.ready.Fence = append(c.ready.Fence, rd.Fence...)
	c.ready.Alerts = append(c.ready.Alerts, rd.Alerts...)
	c.ready.Log = append(c.ready.Log, rd.Log...)
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
	return perNode(c, func(ni *nodeInfo) []model.ResourceStatus { return ni.resources },
		c.cib.Status.Resources, func(r model.ResourceStatus) string { return r.Node })
}

func (c *Coordinator) statusFailures() []model.Failure {
	return perNode(c, func(ni *nodeInfo) []model.Failure { return ni.failures },
		c.cib.Status.Failures, func(f model.Failure) string { return f.Node })
}

// perNode merges status per configured node: what a node reported itself
// since this view began, else the last replicated snapshot's entries for it
// (a node that has not answered yet, or is lost).
func perNode[T any](c *Coordinator, reported func(*nodeInfo) []T, snapshot []T, node func(T) string) []T {
	var out []T
	for _, n := range c.cfg.Nodes {
		if ni := c.nodes[n]; ni.reported {
			out = append(out, reported(ni)...)
			continue
		}
		for _, e := range snapshot {
			if node(e) == n {
				out = append(out, e)
			}
		}
	}
	return out
}

// Step handles one message from node from.
func (c *Coordinator) Step(m Message, now time.Duration) {
	switch m.Kind {
	case KindCIB:
		// Member side: adopt the DC's copy when it is not older.
		if cib := withDigest(m.CIB); m.From == c.dc && !older(cib, c.cib) {
			if err := checkCIB(cib); err != nil {
				c.ready.Errors = append(c.ready.Errors, fmt.Errorf("CIB %s from DC %s refused, keeping %s: %w", cib.Version, m.From, c.cib.Version, err))
				return
			}
			c.cib = cib
			for _, n := range c.cib.Left {
				_ = c.gate().CleanLeave(n, now) // refused for unclean nodes: fine
			}
			c.drainGate()
		}
	case KindLeave:
		if c.isDC() && slices.Contains(c.members, m.From) && !c.leaving[m.From] {
			c.leaving[m.From] = true
			c.log(now, eventlog.Entry{Event: eventlog.NodeLeaving, Target: m.From, Detail: "shutdown requested: moving its resources away"})
			c.schedule(now)
			c.checkLeft(now)
		}
	case KindStatus:
		if !c.isDC() || m.View != c.view {
			return
		}
		ni, ok := c.nodes[m.Status.Node]
		if !ok || m.Status.Node != m.From {
			return
		}
		ni.reported, ni.resources, ni.failures = true, m.Status.Resources, m.Status.Failures
		c.checkSafetyDigest(ni, m.From, m.Status.SafetyDigest, now)
		// Join: the highest version wins (equal versions: the higher
		// digest, so every DC picks the same copy), if it is valid.
		if newer := Newer(c.cib, withDigest(m.Status.CIB)); newer != c.cib {
			if err := checkCIB(newer); err != nil {
				c.ready.Errors = append(c.ready.Errors, fmt.Errorf("CIB %s reported by %s refused, keeping %s: %w", newer.Version, m.From, c.cib.Version, err))
			} else {
				c.cib = &CIB{Version: newer.Version, Config: newer.Config, Digest: newer.Digest, Status: newer.Status, Reported: newer.Reported}
			}
		}
		if c.rebuilding && c.allReported() {
			c.rebuilding = false
			c.publish(now)
		} else if !c.rebuilding && !reflect.DeepEqual(c.buildStatus(), c.cib.Status) {
			// A report that changes the status (a cleanup, an expired
			// failure, a monitor result) reaches every replica, so
			// `palisade status` on any node shows it.
			c.publish(now)
		}
		c.schedule(now)
		c.checkLeft(now)
	case KindActionResult:
		c.onResult(m, now)
	case KindConfigPropose, KindConfigResult:
		c.stepConfig(m, now)
	case KindConfirm:
		if c.isDC() {
			if err := c.Confirm(m.Target, m.Reason+" (via "+m.From+")", now); err != nil {
				c.ready.Errors = append(c.ready.Errors, fmt.Errorf("operator confirmation forwarded by %s: %w", m.From, err))
			}
		}
	case KindFenceRequest:
		if c.isDC() && m.View == c.view {
			if err := c.gate().RequestFence(m.Target, m.Reason, now); err != nil {
				c.ready.Errors = append(c.ready.Errors, err)
			}
			c.drainGate()
			c.schedule(now)
		}
	}
}

func (c *Coordinator) allReported() bool {
	for _, m := range c.members {
		if !c.nodes[m].reported {
			return false
		}
	}
	return true
}

func (c *Coordinator) onResult(m Message, now time.Duration) {
	r := m.Result
	if !c.isDC() || m.View != c.view {
		return
	}
	a, ok := c.inflight[r.ID]
	if !ok {
		return
	}
	delete(c.inflight, r.ID)
	if r.Refused {
		c.log(now, eventlog.Entry{Event: eventlog.ActionRefused, Resource: a.Resource, Node: a.Node, Action: a.Op, Detail: r.Reason})
		c.holdUntil[a.Node] = now + RefusalHold
	}
	ni := c.nodes[a.Node]
	if !r.Refused {
		c.log(now, eventlog.Entry{Event: eventlog.ActionResult, Resource: a.Resource, Node: a.Node, Action: a.Op, OK: eventlog.Bool(r.OK),
			Detail: fmt.Sprintf("rc=%d fail_count=%d", r.RC, r.FailCount)})
		ni.resources = slices.DeleteFunc(ni.resources, func(s model.ResourceStatus) bool { return s.Rsc == a.Resource })
		if r.Active {
			ni.resources = append(ni.resources, model.ResourceStatus{Rsc: a.Resource, Node: a.Node, Failed: r.Failed})
		}
		// The fail count comes with every result; the failed operation and
		// its time only with a failure (a later successful stop must not
		// push failure-timeout back).
		prev := slices.IndexFunc(ni.failures, func(f model.Failure) bool { return f.Rsc == a.Resource })
		switch {
		case r.FailCount <= 0:
			if prev >= 0 {
				ni.failures = slices.Delete(ni.failures, prev, prev+1)
			}
		case r.Failed || prev < 0:
			f := model.Failure{Rsc: a.Resource, Node: a.Node, Op: a.Op, Count: model.Score(r.FailCount), LastFailure: c.cfg.Wall()}
			if prev >= 0 {
				ni.failures[prev] = f
			} else {
				ni.failures = append(ni.failures, f)
			}
		default:
			ni.failures[prev].Count = model.Score(r.FailCount)
		}
		if r.Failed && r.OnFail == "fence" {
			if err := c.gate().RequestFence(a.Node, fmt.Sprintf("%s of %s failed (on-fail=fence)", a.Op, a.Resource), now); err != nil {
				c.ready.Errors = append(c.ready.Errors, err)
			}
			c.drainGate()
		}
	}
	c.publish(now)
	c.schedule(now)
	c.checkLeft(now)
}

// checkLeft lets leaving members that run nothing (and have nothing in
// flight) go: the gate will not fence them when they disappear, and the
// CIB tells every member (and so any future DC).
func (c *Coordinator) checkLeft(now time.Duration) {
	if !c.isDC() || c.rebuilding {
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
		if busy {
			continue
		}
		if err := c.gate().CleanLeave(n, now); err != nil {
			c.ready.Errors = append(c.ready.Errors, err)
			continue
		}
		c.drainGate()
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

// UpdateStatus replaces what the DC knows of one member's resources (a
// member reporting a monitor result outside any action, e.g. a failure).
func (c *Coordinator) UpdateStatus(s NodeStatus, now time.Duration) {
	c.Step(Message{Kind: KindStatus, View: c.view, From: s.Node, Status: &s}, now)
}

// FenceResult feeds a fencer outcome to the gate.
func (c *Coordinator) FenceResult(res recovery.FenceResult, now time.Duration) {
	c.gate().FenceResult(res, now)
	c.drainGate()
	if res.OK && res.VerifiedOff {
		// The node is off: nothing runs there any more.
		c.forget(res.Target)
	}
	c.publish(now)
	c.schedule(now)
}

// Confirm records an operator's confirmation that node is down.
func (c *Coordinator) Confirm(node, by string, now time.Duration) error {
	if !c.isDC() {
		return fmt.Errorf("confirm %s: this node is not the DC (the DC is %s)", node, c.dc)
	}
	if err := c.gate().OperatorConfirm(node, by, now); err != nil {
		return err
	}
	c.drainGate()
	c.forget(node)
	c.publish(now)
	c.schedule(now)
	return nil
}

func (c *Coordinator) forget(node string) {
	// Copy on write: the old CIB may still be referenced by a status
	// report being assembled on another goroutine.
	cib := *c.cib
	cib.Status.Resources = slices.DeleteFunc(slices.Clone(cib.Status.Resources), func(r model.ResourceStatus) bool { return r.Node == node })
	c.cib = &cib
	if ni := c.nodes[node]; ni != nil {
		ni.reported, ni.resources = true, nil // known: nothing runs on a powered-off node
	}
}

// RebuildRetry is how often a rebuilding DC asks silent members again:
// a member whose view id has not converged yet ignores the request.
const RebuildRetry = 200 * time.Millisecond

func (c *Coordinator) askStatus(now time.Duration) {
	c.lastAsk = now
	for _, m := range c.members {
		if !c.nodes[m].reported {
			c.send(m, Message{Kind: KindStatusRequest})
		}
	}
}

// Tick advances time (fence delays and retries, status re-requests).
func (c *Coordinator) Tick(now time.Duration) {
	c.gate().Tick(now)
	c.drainGate()
	if c.isDC() && c.rebuilding && now-c.lastAsk >= RebuildRetry {
		c.askStatus(now)
	}
	for n, until := range c.holdUntil {
		if now >= until {
			delete(c.holdUntil, n)
			c.schedule(now)
		}
	}
}

// RefusalHold is how long the DC waits before sending again to a member
// that refused an action (stale view): views converge within a round trip.
const RefusalHold = 100 * time.Millisecond

// publish bumps num_updates and replicates the CIB to all members.
func (c *Coordinator) publish(now time.Duration) {
	if !c.isDC() || c.rebuilding {
		return
	}
	cib := &CIB{Version: c.cib.Version, Config: c.cib.Config, Digest: c.cib.Digest, Left: c.cib.Left}
	cib.Version.NumUpdates++
	cib.Status = c.buildStatus()
	for _, n := range c.cfg.Nodes {
		if c.nodes[n].reported {
			cib.Reported = append(cib.Reported, n)
		}
	}
	c.cib = cib
	for _, m := range c.members {
		if m != c.cfg.Self {
			c.send(m, Message{Kind: KindCIB, CIB: cib})
		}
	}
}

func (c *Coordinator) buildStatus() model.Status {
	st := model.Status{NoQuorum: !c.quorate, Resources: c.statusResources(), Failures: c.statusFailures()}
	for _, n := range c.cfg.Nodes {
		state := model.NodeOffline
		switch {
		case c.gate().Blocked(n):
			state = model.NodeUnclean
		case c.gate().State(n) == recovery.StateFenced:
			// Powered off even if membership has not noticed yet.
		case slices.Contains(c.members, n):
			state = model.NodeOnline
		}
		st.Nodes = append(st.Nodes, model.NodeState{Name: n, State: state, Standby: c.leaving[n]})
	}
	sort.SliceStable(st.Resources, func(i, j int) bool { return st.Resources[i].Rsc < st.Resources[j].Rsc })
	return st
}

// maybeOn lists nodes where rsc is or may be active: where status says so,
// plus unclean nodes whose status was never known.
func (c *Coordinator) maybeOn(rsc string) []string {
	var out []string
	for _, r := range c.statusResources() {
		if r.Rsc == rsc && !slices.Contains(out, r.Node) {
			out = append(out, r.Node)
		}
	}
	for _, n := range c.cfg.Nodes {
		if c.gate().Blocked(n) && !c.nodes[n].reported && !slices.Contains(c.cib.Reported, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func (c *Coordinator) schedule(now time.Duration) {
	if !c.isDC() || c.rebuilding || c.cib.Config == nil || c.cfg.Schedule == nil {
		return
	}
	plan, err := c.cfg.Schedule(c.cib.Config, c.buildStatus(), c.cfg.Wall())
	if err != nil {
		c.ready.Errors = append(c.ready.Errors, fmt.Errorf("schedule (view %d): %w", c.view, err))
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
			if err := c.gate().RequestFence(a.Node, "scheduler: node unclean", now); err != nil {
				c.ready.Errors = append(c.ready.Errors, err)
			}
			c.drainGate()
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
				c.drainGate()
				continue
			}
			c.drainGate()
		}
		c.nextID++
		act := Action{ID: c.nextID, Op: a.Op, Resource: a.Resource, Node: a.Node, Interval: a.Interval}
		c.inflight[act.ID] = act
		busy[a.Resource] = true
		c.log(now, eventlog.Entry{Event: eventlog.ActionSent, Resource: a.Resource, Node: a.Node, Action: a.Op})
		c.send(a.Node, Message{Kind: KindAction, Action: &act})
	}
}

// Ready returns and clears the pending work.
func (c *Coordinator) Ready() Ready {
	if c.cib.Config != nil {
		v := c.cib.Version
		if key := fmt.Sprintf("%d.%d/%s", v.AdminEpoch, v.Epoch, c.cib.Digest); key != c.persisted {
			c.persisted = key
			c.ready.Persist = c.cib
		}
	}
	rd := c.ready
	c.ready = Ready{}
	return rd
}

// Snapshot is the DC's view for the status socket.
type Snapshot struct {
	Self     string                `json:"self"`
	View     uint64                `json:"view"`
	DC       string                `json:"dc"`
	Quorate  bool                  `json:"quorate"`
	Members  []string              `json:"members"`
	CIB      Version               `json:"cib_version"`
	Digest   string                `json:"cib_digest,omitempty"`
	Status   model.Status          `json:"status"`
	Fencing  []recovery.NodeStatus `json:"fencing"`
	Inflight []Action              `json:"inflight,omitempty"`
	// Standby lists the nodes the configuration puts in standby.
	Standby []string `json:"standby,omitempty"`
}

// Snapshot reports the coordinator's state.
func (c *Coordinator) Snapshot() Snapshot {
	// Copies: the snapshot is encoded on other goroutines (control socket).
	st := c.cib.Status
	st.Nodes, st.Resources, st.Failures = slices.Clone(st.Nodes), slices.Clone(st.Resources), slices.Clone(st.Failures)
	s := Snapshot{Self: c.cfg.Self, View: c.view, DC: c.dc, Quorate: c.quorate, Members: slices.Clone(c.members), CIB: c.cib.Version, Digest: c.cib.Digest,
		Status: st, Fencing: c.gate().Status()}
	if c.isDC() {
		s.Status = c.buildStatus()
	}
	for _, a := range c.inflight {
		s.Inflight = append(s.Inflight, a)
	}
	if c.cib.Config != nil {
		for _, n := range c.cib.Config.Nodes {
			if n.Standby {
				s.Standby = append(s.Standby, n.Name)
			}
		}
	}
	sort.Slice(s.Inflight, func(i, j int) bool { return s.Inflight[i].ID < s.Inflight[j].ID })
	return s
}

// checkSafetyDigest alerts (once per node and digest) when a node runs with
// quorum or fencing settings that differ from the DC's: with two_node on
// one side only, or fence-race delays that disagree, both halves of a split
// could believe they may fence and take over.
func (c *Coordinator) checkSafetyDigest(ni *nodeInfo, node, digest string, now time.Duration) {
	if digest == "" || c.cfg.SafetyDigest == "" || digest == c.cfg.SafetyDigest || ni.alerted == digest {
		return
	}
	ni.alerted = digest
	msg := fmt.Sprintf("%s runs with quorum/fencing settings that differ from the DC %s (digest %.12s, DC %.12s): make the quorum: and fencing: sections of cluster.yaml identical on every node and restart it", node, c.cfg.Self, digest, c.cfg.SafetyDigest)
	c.log(now, eventlog.Entry{Event: eventlog.Alert, Target: node, Detail: msg})
	c.ready.Alerts = append(c.ready.Alerts, recovery.Alert{Target: node, Message: msg})
}
