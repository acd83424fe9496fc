package scheduler

import (
	"sort"
	"time"

	"palisade/resources/model"
)

// Input is everything a scheduling decision depends on. Now is used only
// for failure-timeout expiry.
type Input struct {
	Config *model.Config
	Status *model.Status
	Now    time.Time
}

// Output is the scheduler's decision.
type Output struct {
	// Scores has one line per (resource, node) allocation score and per
	// promotion score, in assignment order.
	Scores []ScoreLine `json:"scores"`
	// Placement is where every primitive (clone instance) will be after the
	// transition, sorted by resource id.
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
	Pseudo   bool   `json:"pseudo,omitempty"`
	Reason   string `json:"reason,omitempty"`
	After    []int  `json:"after,omitempty"`
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
	s := &sched{cfg: cfg, st: st, now: in.Now, scoreIdx: map[scoreKey]int{}}
	s.buildOptions()
	s.buildNodes()
	s.buildResources()
	s.applyStatus()
	s.prepare()
	s.applyLocations()
	s.applyStickiness()
	s.applyFailLimits()
	s.buildColocations()
	for _, r := range s.sortTop() {
		s.assign(r, -1)
	}
	return s.transition()
}

// prepare decides fencing and which resources are pinned where they are.
func (s *sched) prepare() {
	s.stopAll = s.cfg.Options.StopAllResources
	// A failed stop leaves the resource in an unknown state: the node must
	// be fenced (on-fail=fence, Pacemaker's default for stop with fencing).
	for _, p := range s.prims {
		for _, f := range p.failures {
			if f.op == "stop" && f.count > 0 && p.activeOn(f.node) && s.stonith {
				n := s.nodes[f.node]
				if !n.unclean {
					n.unclean = true
					s.warnf("node %s: stop of %s failed: node must be fenced", n.name, p.id)
				}
			}
		}
	}
	canFence := s.stonith && s.quorate
	for _, n := range s.nodes {
		if !n.unclean {
			continue
		}
		switch {
		case canFence:
			n.fenced = true
		case !s.quorate:
			s.warnf("node %s is unclean but this partition has no quorum: not fencing; its resources stay blocked", n.name)
		default:
			s.warnf("node %s is unclean and stonith-enabled=false: its resources stay blocked until it is confirmed down", n.name)
		}
	}
	for _, p := range s.prims {
		cur := p.running
		for _, a := range cur {
			n := s.nodes[a.node]
			if n.unclean && !n.fenced {
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
			} else {
				p.pin(-1, model.RoleStopped)
			}
			continue
		}
		if !s.quorate {
			s.noQuorumPolicy(p)
		}
		if p.targetRole == model.RoleStopped {
			p.nextRole = model.RoleStopped
		}
	}
}

func (p *rsc) activeOn(n int) bool {
	for _, a := range p.running {
		if a.node == n {
			return true
		}
	}
	return false
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
