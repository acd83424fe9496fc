package recovery

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"palisade/cluster/eventlog"
)

// Errors of the gate's operator-facing calls, wrapped with the details.
var (
	ErrUnknownNode = errors.New("not a configured node")
	ErrMember      = errors.New("node is a member of this partition")
	ErrNotActive   = errors.New("this partition cannot decide now")
)

// RejoinedDetail starts the detail of the node_returned entry that
// un-blocks a node which rejoined before its fence request went out.
const RejoinedDetail = "rejoined before fencing started"

// NodeState is the gate's view of one node.
type NodeState string

const (
	// StateUnknown: configured, not seen since the gate started.
	StateUnknown NodeState = "unknown"
	// StateMember: in this partition, clean.
	StateMember NodeState = "member"
	// StateDown: not in the partition, known to run nothing (never seen and
	// startup fencing off).
	StateDown NodeState = "down"
	// StateUnclean: must be fenced before its resources may move.
	StateUnclean NodeState = "unclean"
	// StateFencing: a fence request is out.
	StateFencing NodeState = "fencing"
	// StateFenced: confirmed off (device verified OFF or operator).
	StateFenced NodeState = "fenced"
)

// Partition is what the DC loop knows about the current membership.
type Partition struct {
	// Members are the nodes in this partition, this node included.
	Members []string
	Quorate bool
	// DC is true when this node is the DC of the partition's agreed view:
	// only the DC fences, and only its log entries bind.
	DC bool
	// Rebuilding: the DC is still collecting status (and the newest fence
	// records) from the members; it decides nothing until it has.
	Rebuilding bool
	// View is the membership view id (logged).
	View uint64
	// Active lists, per node, the resources last known active there; it
	// goes into node_lost log entries so Verify can check the rule.
	Active map[string][]string
	// Gens is the generation (incarnation) of each member. A member whose
	// generation changed restarted: if it had been fenced, it rebooted and
	// is whole again even though membership never saw it leave.
	Gens map[string]uint64
}

// FenceRequest asks the fencer to fence Target. Attempt identifies the
// request; the result must carry it back.
type FenceRequest struct {
	Target  string
	Attempt int
	Reason  string
	// Gen is the target's generation when it was last seen (0: never
	// seen); the result carries it back, so a late result about an old
	// incarnation never marks a rebooted node fenced.
	Gen uint64
}

// FenceResult is the fencer's answer to a FenceRequest.
type FenceResult struct {
	Target  string
	Attempt int
	// Gen is FenceRequest.Gen.
	Gen uint64
	// View is the view of the DC that ordered the fence (recorded with a
	// confirmation, so a replicated record of an older view does not undo
	// it).
	View uint64
	// OK: the device (or topology level) reported success.
	OK bool
	// VerifiedOff: a status read after the action showed OFF. Power
	// fencing is only confirmed with OK && VerifiedOff.
	VerifiedOff bool
	// Device names what fenced (for the log and fence history).
	Device string
	// Err describes the failure; never contains secrets.
	Err string
}

// Alert is something an operator must see (a fence keeps failing).
type Alert struct {
	Target  string
	Message string
}

// Ready is the work the caller must perform after stepping the gate.
type Ready struct {
	Fence []FenceRequest
	// Withdraw lists requests handed out earlier that must be aborted
	// (where the device protocol still allows it): this partition lost
	// quorum, agreement or the DC role before they completed.
	Withdraw []FenceRequest
	Alerts   []Alert
	Log      []eventlog.Entry
}

// Decision is the answer to AllowStart.
type Decision struct {
	Allowed bool
	Reason  string
}

type nodeRec struct {
	state     NodeState
	member    bool
	reason    string
	scheduled bool
	due       time.Duration
	attempt   int
	failures  int
	resources []string
	by        string
	// gen is the node's generation as last seen in a partition; fencedGen
	// the generation it had when it was confirmed fenced, uncleanGen when
	// it became unclean.
	gen, fencedGen, uncleanGen uint64
	// byMembership: unclean only because membership lost it (not a
	// failed stop), so it may be cleared if it rejoins before fencing.
	byMembership bool
	// cleanLeave: the node stopped everything and announced it leaves;
	// its disappearance needs no fencing.
	cleanLeave bool
	// mine: the request out (StateFencing) was handed out by this gate;
	// a fencing state adopted from another DC's record is re-requested
	// when this gate becomes active.
	mine bool
	// view is the view of the DC decision this record last came from
	// (0: local membership bookkeeping only).
	view uint64
}

// Gate is the RecoveryGate. It is not safe for concurrent use; the DC loop
// owns it.
type Gate struct {
	cfg      Config
	nodes    map[string]*nodeRec
	order    []string
	part     Partition
	started  bool
	ready    Ready
	lastDeci map[string]string
}

// New returns a gate for cfg.
func New(cfg Config) *Gate {
	cfg.fill()
	g := &Gate{cfg: cfg, nodes: map[string]*nodeRec{}, lastDeci: map[string]string{}}
	for _, n := range cfg.Nodes {
		g.nodes[n] = &nodeRec{state: StateUnknown}
	}
	g.order = slices.Sorted(func(yield func(string) bool) {
		for n := range g.nodes {
			if !yield(n) {
				return
			}
		}
	})
	return g
}

// active: this gate may decide (fence, allow starts). The caller only sets
// Quorate and DC for a view every member agrees on (see package dc), so an
// active gate always speaks for an agreed quorate partition.
func (g *Gate) active() bool { return g.part.Quorate && g.part.DC && !g.part.Rebuilding }

func (g *Gate) log(now time.Duration, e eventlog.Entry) {
	e.MonoNS = int64(now)
	if e.Writer == "" {
		e.Writer = g.cfg.Self
	}
	if e.View == 0 {
		e.View = g.part.View
	}
	g.ready.Log = append(g.ready.Log, e)
}

// SetPartition tells the gate the current membership and quorum. It is
// level-triggered: every call re-derives each node's state from whether
// it is in the partition, so a record adopted from another DC (see Adopt)
// is reconciled with this node's own view the next time it is called.
func (g *Gate) SetPartition(p Partition, now time.Duration) {
	wasActive, wasQuorate, wasDC := g.active(), g.part.Quorate, g.part.DC && !g.part.Rebuilding
	first := !g.started
	g.started = true
	g.part = p
	if first || wasQuorate != p.Quorate {
		q := "inquorate"
		if p.Quorate {
			q = "quorate"
		}
		g.log(now, eventlog.Entry{Event: eventlog.QuorumChanged, Detail: q, Members: slices.Clone(p.Members)})
	}
	before := map[string]bool{} // unclean before this change
	for _, n := range g.order {
		if r := g.nodes[n]; r.state == StateUnclean || r.state == StateFencing {
			before[n] = true
		}
	}
	in := map[string]bool{}
	for _, m := range p.Members {
		in[m] = true
	}
	for _, n := range g.order {
		r := g.nodes[n]
		gen, genKnown := p.Gens[n]
		restarted := in[n] && r.member && genKnown && r.gen != 0 && gen != r.gen
		// Fenced (or recorded so by a DC) and now present with another
		// generation than the one fenced: it booted again.
		back := in[n] && r.member && r.state == StateFenced && genKnown && gen != 0 && gen != r.fencedGen
		oldGen := r.gen
		if in[n] && genKnown {
			r.gen = gen
		}
		switch {
		case in[n] && !r.member:
			r.member, r.cleanLeave = true, false
			g.rejoin(n, r, "", now)
		case restarted || back:
			g.rejoin(n, r, fmt.Sprintf(" (generation %d → %d)", oldGen, gen), now)
		case !in[n]:
			r.member = false
			switch {
			case r.state == StateMember && r.cleanLeave:
				// Logged whether or not this node is the DC right now: a
				// clean leave blocks nothing, and the next DC may only form
				// once the view agrees without the node.
				r.state, r.cleanLeave = StateDown, false
				g.log(now, eventlog.Entry{Event: eventlog.NodeLeft, Target: n, Detail: "left cleanly after stopping its resources: no fencing"})
			case r.state == StateMember:
				r.resources = slices.Clone(p.Active[n])
				g.logDC(now, eventlog.Entry{Event: eventlog.NodeLost, Target: n, Resources: r.resources})
				g.markUnclean(n, "node lost", now)
				r.byMembership = true
			case r.state == StateUnknown && first:
				if g.cfg.StartupFencing {
					r.resources = slices.Clone(p.Active[n])
					g.logDC(now, eventlog.Entry{Event: eventlog.NodeLost, Target: n, Resources: r.resources, Detail: "not seen at start-up"})
					g.markUnclean(n, "not seen at start-up", now)
					r.byMembership = true
				} else {
					r.state = StateDown
				}
			}
		}
	}
	switch nowActive := g.active(); {
	case nowActive && !wasActive:
		for _, n := range g.order {
			r := g.nodes[n]
			if (r.state == StateUnclean || r.state == StateFencing) && before[n] && !wasDC {
				// A new DC takes over the decisions about nodes it already
				// knew were unclean, with what it knows now (after
				// collecting every member's status) that they run: the
				// log only DCs write binds, so it says so.
				r.resources = slices.Clone(p.Active[n])
				g.log(now, eventlog.Entry{Event: eventlog.FenceNeeded, Target: n, Resources: r.resources, Detail: r.reason + " (seen before this node became DC)"})
			}
			if r.state == StateFencing && !r.mine {
				// Another DC handed this request out and is gone or
				// deposed: nobody may be executing it any more.
				r.state = StateUnclean
				g.log(now, eventlog.Entry{Event: eventlog.FenceNeeded, Target: n, Resources: r.resources, Detail: "fence request of a previous DC not confirmed: requesting again"})
				g.whole(n, r, now)
			}
			if r.state == StateUnclean && !r.scheduled {
				g.schedule(n, g.delay(n), "fence race delay", now)
			}
		}
	case !nowActive && wasActive:
		g.withdraw(now)
	}
}

// rejoin handles a node that is in the partition again (it came back, or
// it restarted with a new generation without membership losing it).
func (g *Gate) rejoin(n string, r *nodeRec, how string, now time.Duration) {
	// Stamped with this view, so the record of what the node is now
	// supersedes older ones (a "fenced" record of an earlier incarnation
	// must never mask the incarnation that came back) wherever the
	// records are replicated.
	r.view = max(r.view, g.part.View)
	switch r.state {
	case StateUnknown, StateDown:
		r.state = StateMember
	case StateFenced:
		r.state = StateMember
		g.log(now, eventlog.Entry{Event: eventlog.NodeReturned, Target: n, Detail: "rejoined after fencing" + how})
	case StateUnclean:
		if restarted := r.uncleanGen != 0 && r.gen != 0 && r.gen != r.uncleanGen; r.byMembership || restarted {
			// Nothing of it was started elsewhere (the gate blocked it) and
			// no request is out: it is whole again.
			r.state, r.scheduled, r.failures, r.byMembership = StateMember, false, 0, false
			g.log(now, eventlog.Entry{Event: eventlog.NodeReturned, Target: n, Detail: RejoinedDetail + ": fence cancelled, none of its resources had moved" + how})
		} else {
			g.log(now, eventlog.Entry{Event: eventlog.NodeReturned, Target: n, Detail: "still unclean (" + r.reason + "): fencing continues" + how})
		}
	case StateFencing:
		g.log(now, eventlog.Entry{Event: eventlog.NodeReturned, Target: n, Detail: "fence request already out: fencing continues" + how})
	}
}

// whole makes a node that was unclean only because membership lost it,
// and that is a member again, whole once no request for it is out: none
// of its resources moved meanwhile (the gate blocked them), and it reports
// what it runs like any member. Fencing it now would shoot a healthy node.
//
// The same holds for a node that became unclean for another reason (a
// failed stop) and is back with a new generation: its daemon restarted
// and probed, so its report says what runs there, and the DC deals with
// that like with any member's resources (a stop that fails again asks for
// fencing again).
func (g *Gate) whole(n string, r *nodeRec, now time.Duration) {
	restarted := r.uncleanGen != 0 && r.gen != 0 && r.gen != r.uncleanGen
	if r.state == StateUnclean && (r.byMembership || restarted) && r.member {
		r.state, r.scheduled, r.failures, r.byMembership = StateMember, false, 0, false
		g.log(now, eventlog.Entry{Event: eventlog.NodeReturned, Target: n, Detail: RejoinedDetail + ": fence cancelled, none of its resources had moved"})
	}
}

// withdraw runs when the gate stops being active (quorum, agreement or the
// DC role lost): nothing scheduled may fire, and requests already handed
// out are withdrawn so the caller aborts them where the device protocol
// still allows. The nodes stay unclean; a future active gate (here or on
// the next DC) requests again.
func (g *Gate) withdraw(now time.Duration) {
	for _, n := range g.order {
		r := g.nodes[n]
		if r.scheduled {
			r.scheduled = false
			g.log(now, eventlog.Entry{Event: eventlog.FenceScheduled, Target: n, Detail: "cancelled: partition lost quorum, agreement or DC role"})
		}
		if r.state == StateFencing && r.mine {
			r.state, r.mine = StateUnclean, false
			g.ready.Withdraw = append(g.ready.Withdraw, FenceRequest{Target: n, Attempt: r.attempt, Reason: r.reason, Gen: r.gen})
			g.log(now, eventlog.Entry{Event: eventlog.FenceWithdrawn, Target: n, Attempt: r.attempt, Detail: "partition lost quorum, agreement or DC role"})
			g.whole(n, r, now)
		}
	}
}

func (g *Gate) delay(n string) time.Duration {
	d := g.cfg.StaticDelay[n]
	if g.cfg.Rand != nil && g.cfg.RandomDelayMax > 0 {
		d += g.cfg.Rand(g.cfg.RandomDelayMax)
	}
	return d
}

// logDC logs membership-derived entries only on the DC: other members'
// gates keep state (for when they become DC) but decide nothing, and a
// late "lost" entry from a member that learned of a loss after the DC
// fenced it must not look like a pending loss in the merged log.
func (g *Gate) logDC(now time.Duration, e eventlog.Entry) {
	if g.part.DC {
		g.log(now, e)
	}
}

func (g *Gate) markUnclean(n, reason string, now time.Duration) {
	r := g.nodes[n]
	r.state, r.reason, r.failures, r.cleanLeave, r.mine = StateUnclean, reason, 0, false, false
	r.uncleanGen = r.gen
	if g.active() {
		r.view = g.part.View
	}
	g.logDC(now, eventlog.Entry{Event: eventlog.FenceNeeded, Target: n, Resources: r.resources, Detail: reason})
	if g.active() {
		g.schedule(n, g.delay(n), "fence race delay", now)
	}
}

func (g *Gate) schedule(n string, d time.Duration, why string, now time.Duration) {
	r := g.nodes[n]
	r.scheduled, r.due = true, now+d
	g.log(now, eventlog.Entry{Event: eventlog.FenceScheduled, Target: n, DelayMS: d.Milliseconds(), Detail: why})
	if d == 0 {
		g.Tick(now)
	}
}

// CleanLeave records that n stopped all its resources and is shutting
// down: when membership loses it next, it is down, not unclean. It is
// refused for a node that is not a clean member. A node that rejoins
// loses the mark.
func (g *Gate) CleanLeave(n string, now time.Duration) error {
	r, ok := g.nodes[n]
	if !ok {
		return fmt.Errorf("clean leave of %s: not a configured node", n)
	}
	if r.state != StateMember || !r.member {
		return fmt.Errorf("clean leave of %s: node is %s, not a clean member", n, r.state)
	}
	if !r.cleanLeave {
		r.cleanLeave = true
		g.logDC(now, eventlog.Entry{Event: eventlog.NodeLeaving, Target: n, Detail: "stopped everything; leaving without fencing"})
	}
	return nil
}

// SetActive updates what each node is known to run (between partition
// changes, as results come in), so a node that becomes unclean is logged
// with what it runs now.
func (g *Gate) SetActive(active map[string][]string) { g.part.Active = active }

// RequestFence marks n unclean for reason (e.g. a failed stop): its
// resources are blocked until it is confirmed fenced.
func (g *Gate) RequestFence(n, reason string, now time.Duration) error {
	r, ok := g.nodes[n]
	if !ok {
		return fmt.Errorf("fence %s: not a configured node", n)
	}
	if r.state == StateUnclean || r.state == StateFencing {
		return nil
	}
	if r.state == StateMember {
		r.resources = slices.Clone(g.part.Active[n])
	}
	g.markUnclean(n, reason, now)
	r.byMembership = false
	return nil
}

// othersPending reports whether a node other than self still waits for
// fencing: the DC is fenced last, so every other decision of its
// transition is carried out (by it) before it is gone.
func (g *Gate) othersPending() bool {
	for _, n := range g.order {
		if r := g.nodes[n]; n != g.cfg.Self && (r.state == StateUnclean || r.state == StateFencing) {
			return true
		}
	}
	return false
}

// Tick sends the fence requests that are due. A request aimed at this
// node itself (the DC: a stop of its own failed) waits until every other
// fence is settled; the caller hands it to a peer to execute.
func (g *Gate) Tick(now time.Duration) {
	if !g.active() {
		return
	}
	for _, n := range g.order {
		r := g.nodes[n]
		if r.state != StateUnclean || !r.scheduled || now < r.due {
			continue
		}
		if n == g.cfg.Self && g.othersPending() {
			continue
		}
		r.scheduled = false
		r.state, r.mine, r.view = StateFencing, true, g.part.View
		r.attempt++
		g.ready.Fence = append(g.ready.Fence, FenceRequest{Target: n, Attempt: r.attempt, Reason: r.reason, Gen: r.gen})
		g.log(now, eventlog.Entry{Event: eventlog.FenceRequested, Target: n, Attempt: r.attempt, Detail: r.reason})
	}
}

// FenceResult records the fencer's answer. Only a success verified OFF
// confirms; anything else is retried with backoff and alerted.
//
// A verified success for the node's current generation is accepted
// whatever the state (a withdrawn request that completed anyway, or a
// peer executing the DC's own fence): a node proven off is off. A failure
// only counts for the request out.
func (g *Gate) FenceResult(res FenceResult, now time.Duration) {
	r, ok := g.nodes[res.Target]
	staleGen := ok && res.Gen != 0 && r.gen != 0 && res.Gen != r.gen
	// A late success (the request was withdrawn, or the record moved on)
	// still tells the node is off, unless it is a clean member of the
	// partition now: then it came back after the device acted (a new
	// incarnation the result says nothing about), and is alive.
	liveMember := r != nil && r.state == StateMember && r.member
	if ok && res.OK && res.VerifiedOff && !staleGen && res.Attempt >= r.attempt && r.state != StateFenced && !liveMember {
		r.state, r.by, r.failures, r.scheduled, r.mine = StateFenced, "device:"+res.Device, 0, false, false
		r.attempt, r.fencedGen = res.Attempt, r.gen
		if g.active() {
			r.view = g.part.View
		} else {
			r.view = max(r.view, res.View)
		}
		g.log(now, eventlog.Entry{Event: eventlog.FenceConfirmed, Target: res.Target, Attempt: res.Attempt, Device: res.Device,
			By: r.by, Resources: r.resources, OK: eventlog.Bool(true)})
		return
	}
	if !ok || r.state != StateFencing || res.Attempt != r.attempt || staleGen {
		g.log(now, eventlog.Entry{Event: eventlog.FenceDevice, Target: res.Target, Attempt: res.Attempt, Device: res.Device,
			OK: eventlog.Bool(res.OK), Detail: "stale result ignored"})
		return
	}
	why := res.Err
	if res.OK {
		why = "device reported success but power status is not OFF"
	}
	r.state, r.mine = StateUnclean, false
	if r.byMembership && r.member {
		g.log(now, eventlog.Entry{Event: eventlog.FenceFailed, Target: res.Target, Attempt: res.Attempt, Device: res.Device,
			OK: eventlog.Bool(false), Detail: why})
		g.whole(res.Target, r, now)
		return
	}
	r.failures++
	back := g.cfg.RetryInitial << min(r.failures-1, 30)
	if back > g.cfg.RetryMax || back <= 0 {
		back = g.cfg.RetryMax
	}
	g.log(now, eventlog.Entry{Event: eventlog.FenceFailed, Target: res.Target, Attempt: res.Attempt, Device: res.Device,
		OK: eventlog.Bool(false), DelayMS: back.Milliseconds(), Detail: why})
	msg := fmt.Sprintf("fencing %s failed %d time(s): %s; its resources stay blocked; retry in %s (or confirm by hand with `palisade fence confirm %s` once it is verified down)",
		res.Target, r.failures, why, back, res.Target)
	g.ready.Alerts = append(g.ready.Alerts, Alert{Target: res.Target, Message: msg})
	g.log(now, eventlog.Entry{Event: eventlog.Alert, Target: res.Target, Detail: msg})
	if g.active() {
		g.schedule(res.Target, back, "retry after failure", now)
	}
}

// OperatorConfirm records an operator's statement that n is down (meatware).
// It is refused for a node that is a member of this partition, and on a
// gate that does not speak for an agreed quorate partition.
func (g *Gate) OperatorConfirm(n, by string, now time.Duration) error {
	r, ok := g.nodes[n]
	if !ok {
		return fmt.Errorf("confirm %s: %w", n, ErrUnknownNode)
	}
	if r.member {
		return fmt.Errorf("confirm %s: %w (it answers heartbeats); refusing to record it as fenced", n, ErrMember)
	}
	if !g.active() {
		return fmt.Errorf("confirm %s: %w: this partition is not quorate (or its view is not agreed yet), and a confirmation here could let two partitions run %s's resources", n, ErrNotActive, n)
	}
	if by == "" {
		by = "unknown"
	}
	prev := r.state
	r.state, r.scheduled, r.by, r.failures, r.mine, r.view = StateFenced, false, "operator:"+by, 0, false, g.part.View
	r.fencedGen = r.gen
	if prev == StateFencing {
		// Whatever device request is still out is moot now.
		g.ready.Withdraw = append(g.ready.Withdraw, FenceRequest{Target: n, Attempt: r.attempt, Gen: r.gen})
	}
	g.log(now, eventlog.Entry{Event: eventlog.FenceConfirmed, Target: n, By: r.by, Resources: r.resources,
		Detail: "manual confirmation by operator (was " + string(prev) + ")"})
	return nil
}

// AllowStart decides whether rsc may start on target. maybeOn lists every
// node where rsc is or may be active (including lost nodes that last ran
// it). Every decision is logged (repeated identical decisions once).
func (g *Gate) AllowStart(rsc, target string, maybeOn []string, now time.Duration) Decision {
	d := g.decide(target, maybeOn)
	key := rsc + "@" + target
	sig := fmt.Sprint(d.Allowed, d.Reason)
	if g.lastDeci[key] != sig {
		g.lastDeci[key] = sig
		ev := eventlog.StartDenied
		if d.Allowed {
			ev = eventlog.StartAllowed
		}
		g.log(now, eventlog.Entry{Event: ev, Resource: rsc, Node: target, Detail: d.Reason})
	}
	return d
}

func (g *Gate) decide(target string, maybeOn []string) Decision {
	if !g.part.DC {
		return Decision{Reason: "this node is not the DC of an agreed view"}
	}
	if !g.part.Quorate {
		if !g.cfg.NoQuorumPolicy.MayStart() {
			return Decision{Reason: "partition has no quorum (no-quorum-policy " + string(g.cfg.NoQuorumPolicy) + ")"}
		}
		for _, n := range maybeOn {
			if r := g.nodes[n]; r == nil || !r.member {
				return Decision{Reason: "partition has no quorum: no takeover from " + n}
			}
		}
	}
	tr, ok := g.nodes[target]
	if !ok || tr.state != StateMember || !tr.member {
		st := StateUnknown
		if ok {
			st = tr.state
		}
		return Decision{Reason: fmt.Sprintf("target %s is not a clean member (%s)", target, st)}
	}
	var wait []string
	for _, n := range maybeOn {
		if r := g.nodes[n]; r != nil && (r.state == StateUnclean || r.state == StateFencing) {
			wait = append(wait, n)
		}
	}
	if len(wait) > 0 {
		sort.Strings(wait)
		return Decision{Reason: "waiting for confirmed fencing of " + strings.Join(wait, ",")}
	}
	return Decision{Allowed: true, Reason: "ok"}
}

// Ready returns and clears the pending work.
func (g *Gate) Ready() Ready {
	rd := g.ready
	g.ready = Ready{}
	return rd
}

// NodeStatus is one row of Status.
type NodeStatus struct {
	Node     string    `json:"node"`
	State    NodeState `json:"state"`
	Member   bool      `json:"member"`
	Reason   string    `json:"reason,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	Failures int       `json:"failures,omitempty"`
	By       string    `json:"confirmed_by,omitempty"`
}

// Status reports every node's state, sorted by name.
func (g *Gate) Status() []NodeStatus {
	out := make([]NodeStatus, 0, len(g.order))
	for _, n := range g.order {
		r := g.nodes[n]
		out = append(out, NodeStatus{Node: n, State: r.state, Member: r.member, Reason: r.reason, Attempts: r.attempt, Failures: r.failures, By: r.by})
	}
	return out
}

// Blocked reports whether n's resources are blocked (n unclean or fencing).
func (g *Gate) Blocked(n string) bool {
	r := g.nodes[n]
	return r != nil && (r.state == StateUnclean || r.state == StateFencing)
}

// State returns the gate's state of n ("" for an unknown node).
func (g *Gate) State(n string) NodeState {
	if r := g.nodes[n]; r != nil {
		return r.state
	}
	return ""
}

// NextDue returns the earliest pending fence time, for the caller's timer.
func (g *Gate) NextDue() (time.Duration, bool) {
	var best time.Duration
	found := false
	for _, n := range g.order {
		if r := g.nodes[n]; r.scheduled && (!found || r.due < best) {
			best, found = r.due, true
		}
	}
	return best, found
}
