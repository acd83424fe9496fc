package scheduler

import (
	"sort"
	"strings"
	"time"

	"palisade/resources/model"
)

// Input is everything a scheduling decision depends on. Now is used only
// for failure-timeout expiry.
type Input struct {
	Config *model.Config
	Status *model.Status
	Now    time.Time
	// Scores asks for Output.Scores (one line per resource and node:
	// large, so the DC loop leaves it off).
	Scores bool
}

// Output is the scheduler's decision.
type Output struct {
	// Scores has one line per (resource, node) allocation score and per
	// promotion score, in assignment order (only with Input.Scores).
	Scores []ScoreLine `json:"scores"`
	// Placement is where every primitive (clone instance) will be after the
	// transition, sorted by resource id (several entries for a resource
	// left multiply active).
	Placement []Placement `json:"placement"`
	// Fence lists the nodes this transition fences.
	Fence []string `json:"fence,omitempty"`
	// Actions is the transition graph in a valid execution order; After
	// holds the IDs of actions that must complete first.
	Actions []Action `json:"actions"`
	// Summary is the human-readable transition summary, one line per
	// resource change (crm_simulate's "Transition Summary").
	Summary []string `json:"summary"`
	// Warnings name unsupported or ignored input and blocked resources.
	Warnings []string `json:"warnings,omitempty"`
}

// ScoreLine is one score: Kind "allocation" or "promotion".
type ScoreLine struct {
	Rsc   string      `json:"rsc"`
	Node  string      `json:"node"`
	Score model.Score `json:"score"`
	Kind  string      `json:"kind"`
}

// Placement is a primitive's node and role after the transition; Node is
// empty when it will be stopped.
type Placement struct {
	Rsc  string `json:"rsc"`
	Node string `json:"node,omitempty"`
	Role string `json:"role"`
	// Blocked: left on an unclean node that is not fenced (no quorum or
	// fencing disabled); it may still be running there.
	Blocked bool `json:"blocked,omitempty"`
	// MultiplyActive: left alone while active on several nodes
	// (is-managed=false or multiple-active=block); the resource has one
	// entry per node it stays on.
	MultiplyActive bool `json:"multiply_active,omitempty"`
}

// Action is one step of the transition. Pseudo actions (group/clone
// milestones, stops implied by fencing) have nothing to execute.
type Action struct {
	ID       int    `json:"id"`
	Key      string `json:"key"`
	Op       string `json:"op"`
	Rsc      string `json:"rsc,omitempty"`
	Node     string `json:"node,omitempty"`
	Interval int64  `json:"interval_ms,omitempty"`
	// Timeout is the configured timeout of this operation (0: the
	// executor's default).
	Timeout int64  `json:"timeout_ms,omitempty"`
	Pseudo  bool   `json:"pseudo,omitempty"`
	Reason  string `json:"reason,omitempty"`
	After   []int  `json:"after,omitempty"`
}

// Schedule computes scores, placement and the transition. It never
// modifies its input.
func Schedule(in Input) Output {
	cfg := in.Config
	if cfg == nil {
		cfg = &model.Config{}
	}
	st := in.Status
	if st == nil {
		st = &model.Status{}
	}
	s := &sched{cfg: cfg, st: st, now: in.Now, wantScores: in.Scores}
	s.buildOptions()
	s.buildNodes()
	s.buildResources()
	s.applyStatus()
	if s.hasRemote {
		s.remoteStatus()
	}
	s.applyTickets()
	s.prepare()
	s.applyDefinitionChanges()
	s.applyNodeHealth()
	s.applyLocations()
	s.applyStickiness()
	s.applyFailLimits()
	s.applyExclusiveDiscovery()
	s.banBundleNodes()
	s.applyHardErrors()
	s.applyShutdownLocks()
	if s.hasRemote {
		s.avoidRemoteNodes()
	}
	s.buildColocations()
	order := s.sortTop()
	if s.hasRemote {
		// Connections first: where they go decides which remote nodes
		// are up for everything else.
		for _, r := range order {
			if r.remoteOf != nil {
				s.assign(r, -1)
			}
		}
		s.settleRemoteFencing(s.canFence)
	}
	for _, r := range order {
		s.assign(r, -1)
	}
	return s.transition()
}

// prepare decides fencing and which resources are pinned where they are.
func (s *sched) prepare() {
	s.stopAll = s.cfg.Options.StopAllResources
	s.applyOnFail()
	// Pacemaker's pe_can_fence: fencing enabled, a fence device to do it,
	// and quorum or no-quorum-policy=ignore. The scheduler models that
	// exactly; the daemon's one rule (a partition without quorum never
	// fences and never takes over) is enforced apart from it, by the
	// recovery gate and the DC, whatever the transition asks for.
	canFence := s.stonith && !s.cfg.NoFenceDevice && (s.quorate || s.noQuorum == "ignore")
	s.canFence = canFence
	// A managed resource the history shows active on a node that is down
	// (not known to be unclean) may still be running there: with fencing,
	// Pacemaker makes that node unclean ("thought to be active there").
	for _, p := range s.prims {
		if !p.managed {
			continue
		}
		for i := range p.running {
			a := &p.running[i]
			n := s.nodes[a.node]
			if n.remote {
				if !n.online && !n.maintenance {
					s.thoughtActiveRemote(p, a, n)
				}
				continue
			}
			if s.stonith {
				if !n.online && !n.unclean && !n.maintenance {
					n.unclean = true
					n.fenceReason = p.id + " is thought to be active there"
					s.warnf("node %s is down but %s is thought to be active there: node must be fenced", n.name, p.id)
				}
			}
		}
	}
	s.avail = make([]bool, len(s.nodes))
	for i, n := range s.nodes {
		s.avail[i] = n.available()
	}
	for _, n := range s.nodes {
		// An unseen remote node is decided once its connection is placed.
		if !n.unclean || n.unseen {
			continue
		}
		switch {
		case canFence:
			n.fenced = true
			if !s.quorate {
				s.warnf("node %s is unclean and this partition has no quorum: with no-quorum-policy=ignore Pacemaker fences it; Palisade's daemon does not (its recovery gate never fences or takes over without quorum)", n.name)
			}
		case s.stonith && s.cfg.NoFenceDevice:
			s.warnf("node %s is unclean but no fence device is configured: not fencing; its resources stay blocked", n.name)
		case s.stonith:
			s.warnf("node %s is unclean but this partition has no quorum: not fencing; its resources stay blocked", n.name)
		default:
			s.warnf("node %s is unclean and stonith-enabled=false: its resources stay blocked until it is confirmed down", n.name)
		}
	}
	for _, p := range s.prims {
		cur := p.running
		for _, a := range cur {
			n := s.nodes[a.node]
			if n.unclean && !n.fenced && !n.unseen {
				p.pin(a.node, a.role)
				p.blocked = true
			}
		}
		if p.pinned {
			continue
		}
		for _, a := range cur {
			if s.nodes[a.node].maintenance {
				p.pin(a.node, a.role)
				p.unmanaged = true
			}
		}
		if p.pinned {
			continue
		}
		if !p.managed {
			p.unmanaged = true
			if len(cur) > 0 {
				p.pin(cur[0].node, cur[0].role)
				p.stayEverywhere()
			} else {
				p.pin(-1, model.RoleStopped)
			}
			continue
		}
		if len(cur) > 1 && s.multipleActive(p) {
			continue
		}
		if !s.quorate && p.requires != "nothing" {
			s.noQuorumPolicy(p)
		}
		if p.targetRole == model.RoleStopped || p.onFailStop {
			p.nextRole = model.RoleStopped
		}
	}
}

func (p *rsc) pin(n int, role string) {
	p.pinned = true
	p.pinNode = n
	p.nextRole = role
	if n < 0 {
		p.nextRole = model.RoleStopped
	}
}

func (s *sched) noQuorumPolicy(p *rsc) {
	switch s.noQuorum {
	case "ignore":
	case "freeze":
		for _, a := range p.running {
			if !a.failed && s.usable(a.node) {
				p.pin(a.node, a.role)
				return
			}
		}
		p.noRun = true
	case "demote":
		if s.promotableParent(p) != nil {
			for _, a := range p.running {
				if !a.failed && s.usable(a.node) {
					p.pin(a.node, model.RoleUnpromoted)
					return
				}
			}
		}
		p.noRun = true
	default:
		p.noRun = true
	}
}

// sortTop orders top-level resources for assignment: priority first; with
// a placement strategy also by score on the current node, then by scores.
func (s *sched) sortTop() []*rsc {
	out := append([]*rsc(nil), s.top...)
	if s.strategy == "default" {
		sort.SliceStable(out, func(i, j int) bool { return out[i].priority > out[j].priority })
		return out
	}
	curScore := func(r *rsc) model.Score {
		for _, p := range leaves(r, nil) {
			if len(p.running) > 0 {
				return r.score[p.running[0].node]
			}
		}
		return -model.Infinity
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		if ca, cb := curScore(a), curScore(b); ca != cb {
			return ca > cb
		}
		for n := range s.nodes {
			x, y := model.Score(-model.Infinity), model.Score(-model.Infinity)
			if a.allowed[n] {
				x = a.score[n]
			}
			if b.allowed[n] {
				y = b.score[n]
			}
			if x != y {
				return x > y
			}
		}
		return false
	})
	return out
}

// onFailOf is the on-fail policy configured for an operation; Pacemaker's
// default is restart (fence for stop when fencing is enabled, else block).
func (s *sched) onFailOf(p *rsc, op string) string {
	for _, o := range p.cfg.Ops {
		if o.Name == op && o.OnFail != "" {
			return strings.ToLower(o.OnFail)
		}
	}
	// A resource in a container is recovered by restarting its container,
	// whatever failed (Pacemaker's restart-container default).
	if c, ok := s.metaOf(p, "container"); ok && c != "" && s.byID[c] != nil {
		return "restart-container"
	}
	if op == "stop" {
		if s.stonith {
			return "fence"
		}
		return "block"
	}
	return "restart"
}

// applyOnFail turns recorded failures into what their operation's on-fail
// asks for: ignore, block, stop, standby, fence or restart (the default,
// handled by recovery and migration-threshold). Like Pacemaker, the policy
// holds while the failure is in the history (until it expires or is
// cleaned up).
func (s *sched) applyOnFail() {
	for _, p := range s.prims {
		nodes := map[int]bool{}
		for _, f := range p.failures {
			if f.count > 0 && s.failCount(p, f.node) > 0 {
				nodes[f.node] = true
			}
		}
		for i := range p.running {
			if p.running[i].failed {
				nodes[p.running[i].node] = true
			}
		}
		for n := range s.nodes {
			if !nodes[n] {
				continue
			}
			var a *active
			for i := range p.running {
				if p.running[i].node == n {
					a = &p.running[i]
				}
			}
			op := s.lastFailedOp(p, n)
			nd := s.nodes[n]
			switch pol := s.onFailOf(p, op); pol {
			case "ignore":
				if a != nil {
					a.failed = false
				}
				kept := p.failures[:0]
				for _, f := range p.failures {
					if !(f.node == n && f.op == op) {
						kept = append(kept, f)
					}
				}
				p.failures = kept
			case "block":
				// A node that is cleanly down runs nothing: nothing to
				// leave alone there.
				// Only a failure still in effect blocks: a later success
				// (the resource recovered) leaves the fail count alone.
				if a != nil && nd.online && (a.failed || op == "stop") {
					p.pin(n, a.role)
					p.unmanaged = true
					p.failBlocked = true
					// Blocked, it is left alone wherever it is active.
					p.stayEverywhere()
					s.warnf("resource %s: %s failed on %s with on-fail=block: left alone", p.id, op, nd.name)
				}
			case "stop":
				p.onFailStop = true
			case "standby":
				nd.standby = true
			case "fence":
				// Only a failure still in effect on an active copy needs
				// the node fenced; fencing wipes the node's history.
				if a == nil || !a.failed && op != "stop" {
					continue
				}
				if nd.guest() {
					// A guest node is fenced by recovering its container.
					s.resetGuest(nd, op+" of "+p.id+" failed")
					continue
				}
				if !nd.unclean {
					nd.unclean = true
					nd.fenceReason = op + " of " + p.id + " failed"
					s.warnf("node %s: %s of %s failed: node must be fenced", nd.name, op, p.id)
				}
			case "restart", "restart-container", "demote", "":
			default:
				s.warnf("resource %s: on-fail=%s is not supported: using restart", p.id, pol)
			}
		}
	}
}

// lastFailedOp is the operation of the most recent failure on node n.
func (s *sched) lastFailedOp(p *rsc, n int) string {
	op := ""
	var last time.Time
	for _, f := range p.failures {
		if f.node != n || f.count <= 0 {
			continue
		}
		if op == "" || f.last.After(last) || f.op == "stop" {
			op, last = f.op, f.last
			if f.op == "stop" {
				break
			}
		}
	}
	if op == "" {
		op = "monitor"
	}
	return op
}
