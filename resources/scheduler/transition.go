package scheduler

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"palisade/resources/model"
)

type plan struct {
	keep    bool
	stops   []active
	start   bool
	promote bool
	demote  bool // demote on the kept node
	reload  bool // reload in place on the kept node (definition change)
}

func (s *sched) planFor(p *rsc) plan {
	var pl plan
	if p.pinned {
		// Only no-quorum-policy=demote changes a pinned resource: it
		// demotes in place.
		if !p.unmanaged && !p.blocked && p.pinNode >= 0 && p.nextRole == model.RoleUnpromoted {
			for _, a := range p.running {
				if a.node == p.pinNode && a.role == model.RolePromoted {
					pl.keep, pl.demote = true, true
				}
			}
		}
		return pl
	}
	next := p.assigned
	for _, a := range p.running {
		if next >= 0 && a.node == next && !a.failed && !p.restart && !pl.keep {
			pl.keep = true
			continue
		}
		pl.stops = append(pl.stops, a)
	}
	pl.start = next >= 0 && !pl.keep
	pl.reload = pl.keep && p.reloads(next)
	if next >= 0 {
		wasPromoted := false
		for _, a := range p.running {
			if a.node == next && a.role == model.RolePromoted {
				wasPromoted = true
			}
		}
		if p.nextRole == model.RolePromoted && !(pl.keep && wasPromoted) {
			pl.promote = true
		}
		if pl.keep && wasPromoted && p.nextRole != model.RolePromoted {
			pl.demote = true
		}
	}
	return pl
}

type orderRule struct {
	id          string
	first, then *rsc
	fa, ta      string
	kind        string
	sym         bool
	// any: then needs only one of these (first is any[0]);
	// min: then needs at least min instances of the clone first (0: the
	// clone as Pacemaker's running pseudo action has it, one instance).
	any []*rsc
	min int
	// implicit: ordered by Pacemaker Remote (a connection before what
	// starts on its node): first cannot start, then cannot either, but a
	// restart of first does not restart then. noEdges: the graph edges
	// come from elsewhere (remoteEdges).
	implicit, noEdges bool
}

// interleaved: then's instances wait only for first's instance on their
// own node (a minimum of first instances waits for the whole clone).
func (o orderRule) interleaved() bool {
	return o.first.kind == kClone && o.then.kind == kClone && o.then.interleave && o.min == 0 && len(o.any) == 0
}

func (s *sched) orderRules() []orderRule {
	var out []orderRule
	for _, r := range s.byIDOrdered() {
		if r.kind != kGroup || !s.metaBool(r, "ordered", true) {
			continue
		}
		for i := 1; i < len(r.children); i++ {
			out = append(out, orderRule{id: r.id + ":internal", first: r.children[i-1], then: r.children[i], fa: "start", ta: "start", kind: "Mandatory", sym: true})
		}
	}
	out = append(out, s.bundleOrders()...)
	if s.hasRemote {
		out = append(out, s.remoteOrders()...)
	}
	for _, o := range s.cfg.Constraints.Orders {
		f, t := s.byID[o.First], s.byID[o.Then]
		var any []*rsc
		for _, id := range o.FirstAny {
			if r := s.byID[id]; r != nil {
				any = append(any, r)
			}
		}
		if len(any) > 0 {
			f = any[0]
		}
		if f == nil || t == nil {
			continue
		}
		// Pacemaker's get_minimum_first_instances: clone-min of a first
		// clone, else 1 with require-all=false.
		minFirst := 0
		if f.kind == kClone && len(any) == 0 {
			if _, ok := f.meta["clone-min"]; ok {
				minFirst = s.metaInt(f, "clone-min", 0)
			} else if o.RequireAll != nil && !*o.RequireAll {
				minFirst = 1
			}
		}
		kind := o.Kind
		switch strings.ToLower(kind) {
		case "", "mandatory":
			kind = "Mandatory"
		case "optional":
			kind = "Optional"
		case "serialize":
			kind = "Serialize"
		default:
			s.warnf("order %s: kind %q unknown (want Mandatory, Optional, Serialize): using Mandatory", o.ID, o.Kind)
			kind = "Mandatory"
		}
		fa := strings.ToLower(o.FirstAction)
		if fa == "" {
			fa = "start"
		}
		ta := strings.ToLower(o.ThenAction)
		if ta == "" {
			ta = fa
		}
		out = append(out, orderRule{id: o.ID, first: f, then: t, fa: fa, ta: ta, kind: kind, sym: boolOpt(o.Symmetrical, kind != "Serialize"), any: any, min: minFirst})
	}
	return out
}

// firstRunnable: what o's then waits for can happen (in role need).
func (s *sched) firstRunnable(o orderRule, need string) bool {
	switch {
	case len(o.any) > 0:
		for _, f := range o.any {
			if willBeActive(f, need) {
				return true
			}
		}
		return false
	case o.min > 0:
		n := 0
		for _, inst := range o.first.children {
			if willBeActive(inst, need) {
				n++
			}
		}
		return n >= o.min
	}
	return willBeActive(o.first, need)
}

func willBeActive(r *rsc, role string) bool {
	ls := leaves(r, nil)
	if r.kind == kGroup {
		for _, p := range ls {
			if p.assigned < 0 || p.startBlocked || p.failBlocked {
				return false
			}
		}
		return len(ls) > 0
	}
	for _, p := range ls {
		if p.assigned >= 0 && !p.startBlocked && !p.failBlocked && (role == "" || p.nextRole == role) {
			return true
		}
	}
	return false
}

// propagateOrders applies what Mandatory orders imply beyond edges: a
// "then" that cannot have its "first" cannot start, and a "then" whose
// "first" restarts must restart too.
func (s *sched) propagateOrders(rules []orderRule, plans map[*rsc]*plan) {
	for iter := 0; iter <= len(rules)+1; iter++ {
		changed := false
		for _, o := range rules {
			if o.kind != "Mandatory" {
				continue
			}
			if o.interleaved() {
				if o.fa == "start" && o.ta == "start" && s.propagateInterleaved(o, plans) {
					changed = true
				}
				continue
			}
			if o.ta != "start" && o.ta != "promote" {
				continue
			}
			need := ""
			if o.fa == "promote" {
				need = model.RolePromoted
			} else if o.fa != "start" {
				continue
			}
			runnable := s.firstRunnable(o, need)
			if !runnable && o.ta == "promote" {
				// Only the promotion waits for first: the then stays
				// (unpromoted).
				for _, p := range leaves(o.then, nil) {
					// An instance already promoted needs no promote action.
					if p.nextRole == model.RolePromoted && !p.pinned && plans[p] != nil && plans[p].promote {
						p.nextRole = model.RoleUnpromoted
						s.blockedBy = append(s.blockedBy, fmt.Sprintf("%s cannot be promoted: order %s needs %s %s", p.id, o.id, o.first.id, o.fa))
						*plans[p] = s.planFor(p)
						changed = true
					}
				}
				continue
			}
			if !runnable {
				for _, p := range leaves(o.then, nil) {
					// An asymmetrical order only makes the start
					// unrunnable: a copy already running where it stays
					// is left alone.
					if !o.sym && plans[p] != nil && plans[p].keep && !p.restart {
						continue
					}
					if p.assigned >= 0 && !p.pinned {
						p.assigned = -1
						p.nextRole = model.RoleStopped
						s.blockedBy = append(s.blockedBy, fmt.Sprintf("%s cannot start: order %s needs %s %s", p.id, o.id, o.first.id, o.fa))
						*plans[p] = s.planFor(p)
						s.blockColocated(p, plans)
						changed = true
					}
				}
				continue
			}
			if o.first.kind == kClone || len(o.any) > 0 || o.implicit || o.fa != "start" || o.ta != "start" {
				continue
			}
			restarts := false
			for _, p := range leaves(o.first, nil) {
				pl := plans[p]
				if pl != nil && len(pl.stops) > 0 && pl.start {
					restarts = true
				}
			}
			if !restarts {
				continue
			}
			for _, p := range leaves(o.then, nil) {
				pl := plans[p]
				if pl != nil && pl.keep && !p.restart {
					p.restart = true
					*pl = s.planFor(p)
					changed = true
				}
			}
		}
		if !changed {
			return
		}
	}
}

// blockUnprobed: a resource must be probed on every node where its state
// is unknown before it starts, and a probe cannot run on a pending
// (joining) node, so a resource active nowhere (for a clone instance: its
// clone active nowhere) whose state on a pending node is unknown cannot
// start yet (Pacemaker's pcmk__probe_rsc_on_node).
func (s *sched) blockUnprobed(plans map[*rsc]*plan) {
	var pending []*node
	for _, n := range s.nodes {
		if n.pending {
			pending = append(pending, n)
		}
	}
	if len(pending) == 0 {
		return
	}
	for _, p := range s.prims {
		pl := plans[p]
		if pl == nil || !pl.start || p.pinned || p.orphan {
			continue
		}
		top := p
		for q := p.parent; q != nil; q = q.parent {
			if q.kind == kClone {
				top = q
			}
		}
		if anyRunning(top) {
			continue
		}
		// A resource in a container is not probed (its container is).
		if c, _ := s.metaOf(p, "container"); c != "" && s.byID[c] != nil {
			continue
		}
		id := p.id
		if s.anonymousInstance(p) {
			id = p.base
		}
		for _, n := range pending {
			if n.probed[id] || !s.symmetric && !p.allowed[n.idx] {
				continue
			}
			p.assigned = -1
			p.nextRole = model.RoleStopped
			s.blockedBy = append(s.blockedBy, fmt.Sprintf("%s cannot start: its state on %s (pending) is unknown and cannot be probed yet", p.id, n.name))
			*pl = s.planFor(p)
			s.blockColocated(p, plans)
			break
		}
	}
}

// propagateInterleaved applies an interleaved clone order per node, as
// Pacemaker's interleaving does: an instance of then on a node where no
// instance of first will be active may not be active there (it is
// stopped), and one whose first instance cannot start cannot start.
func (s *sched) propagateInterleaved(o orderRule, plans map[*rsc]*plan) bool {
	changed := false
	for _, ti := range o.then.children {
		n := instAssigned(ti)
		if n < 0 || anyPinned(ti) {
			continue
		}
		var fi *rsc
		for _, c := range o.first.children {
			if instAssigned(c) == n {
				fi = c
				break
			}
		}
		blocked := fi == nil || !willBeActive(fi, "")
		if !blocked {
			continue
		}
		for _, p := range leaves(ti, nil) {
			pl := plans[p]
			if p.assigned < 0 || pl == nil {
				continue
			}
			// With first's instance there but unable to start, only
			// then's start is unrunnable: an asymmetrical order leaves a
			// copy that stays alone.
			if fi != nil && !o.sym && pl.keep && !p.restart {
				continue
			}
			p.assigned = -1
			p.nextRole = model.RoleStopped
			why := "no instance of " + o.first.id + " on " + s.nodes[n].name
			if fi != nil {
				why = fi.id + " cannot start"
			}
			s.blockedBy = append(s.blockedBy, fmt.Sprintf("%s cannot be active: interleaved order %s (%s)", p.id, o.id, why))
			*pl = s.planFor(p)
			s.blockColocated(p, plans)
			changed = true
		}
	}
	return changed
}

// blockColocated: r cannot start, so what is mandatorily colocated with
// it cannot start where it is not already running, and what is colocated
// with it in the Promoted role cannot be promoted: Pacemaker's
// pcmk__block_colocation_dependents makes those actions unrunnable.
func (s *sched) blockColocated(r *rsc, plans map[*rsc]*plan) {
	for x := r; x != nil; x = x.parent {
		for _, c := range x.withThis {
			if c.score < model.Infinity || c.priRole == model.RolePromoted {
				continue
			}
			for _, d := range leaves(c.dep, nil) {
				pl := plans[d]
				if pl == nil || d.pinned {
					continue
				}
				switch {
				case c.depRole == model.RolePromoted:
					if d.nextRole == model.RolePromoted && pl.promote {
						d.nextRole = model.RoleUnpromoted
						s.blockedBy = append(s.blockedBy, fmt.Sprintf("%s cannot be promoted: colocation %s with %s, which cannot start", d.id, c.id, r.id))
						*pl = s.planFor(d)
					}
				case c.depRole == "" && d.assigned >= 0 && pl.start:
					d.assigned = -1
					d.nextRole = model.RoleStopped
					s.blockedBy = append(s.blockedBy, fmt.Sprintf("%s cannot start: colocation %s with %s, which cannot start", d.id, c.id, r.id))
					*pl = s.planFor(d)
					s.blockColocated(d, plans)
				}
			}
		}
		if x.kind == kClone {
			break
		}
	}
}

type graph struct {
	actions []*Action
	byKey   map[string]*Action
	byRsc   map[string][]*Action
	// timeouts looks up the configured timeout of a resource action.
	timeouts func(*Action) int64
	deps     map[*Action]map[*Action]bool
}

func (g *graph) add(a *Action) *Action {
	k := a.Key + "@" + a.Node
	if x, ok := g.byKey[k]; ok {
		return x
	}
	a.ID = len(g.actions)
	g.actions = append(g.actions, a)
	g.byKey[k] = a
	if a.Rsc != "" {
		g.byRsc[a.Rsc] = append(g.byRsc[a.Rsc], a)
	}
	if g.timeouts != nil && !a.Pseudo {
		a.Timeout = g.timeouts(a)
	}
	return a
}

func (g *graph) get(key, node string) *Action { return g.byKey[key+"@"+node] }

func (g *graph) after(a, dep *Action) {
	if a == nil || dep == nil || a == dep {
		return
	}
	if g.deps[a] == nil {
		g.deps[a] = map[*Action]bool{}
	}
	g.deps[a][dep] = true
}

func key(id, op string, intervalMS int64) string { return fmt.Sprintf("%s_%s_%d", id, op, intervalMS) }

func (s *sched) transition() Output {
	plans := map[*rsc]*plan{}
	for _, p := range s.prims {
		pl := s.planFor(p)
		plans[p] = &pl
	}
	s.blockUnprobed(plans)
	rules := s.orderRules()
	s.propagateOrders(rules, plans)

	g := &graph{byKey: map[string]*Action{}, byRsc: map[string][]*Action{}, deps: map[*Action]map[*Action]bool{}}
	g.timeouts = func(a *Action) int64 {
		p := s.byID[a.Rsc]
		if p == nil || p.cfg == nil {
			return 0
		}
		for _, op := range p.cfg.Ops {
			if op.Name == a.Op && time.Duration(op.Interval).Milliseconds() == a.Interval {
				return time.Duration(op.Timeout).Milliseconds()
			}
		}
		return 0
	}
	var out Output
	fence := map[int]*Action{}
	for _, n := range s.nodes {
		if n.fenced {
			why := n.fenceReason
			if why == "" {
				why = "peer is no longer part of the cluster"
			}
			a := g.add(&Action{Key: fmt.Sprintf("stonith-%s-%s", n.name, s.stonithAction), Op: "fence", Node: n.name, Reason: why})
			fence[n.idx] = a
			out.Fence = append(out.Fence, n.name)
			out.Summary = append(out.Summary, fmt.Sprintf("Fence (%s) %s '%s'", s.stonithAction, n.name, why))
		}
		if n.guest() && n.reset && n.ctr.managed {
			// A guest node is "fenced" by recovering its container (off
			// when the container does not start again): a pseudo fence
			// after the container stops stands for it.
			action := "reboot"
			if assignedNode(n.ctr) < 0 {
				action = "off"
			}
			a := g.add(&Action{Key: fmt.Sprintf("stonith-%s-%s", n.name, action), Op: "fence", Node: n.name, Pseudo: true,
				Reason: "guest is unclean: its container " + n.ctr.id + " is recovered"})
			fence[n.idx] = a
			out.Summary = append(out.Summary, fmt.Sprintf("Fence (%s) %s (resource: %s) 'guest is unclean'", action, n.name, n.ctr.id))
		}
	}
	// Resource actions.
	for _, p := range s.prims {
		pl := plans[p]
		var stops []*Action
		for _, a := range pl.stops {
			nd := s.nodes[a.node]
			f := fence[a.node]
			if a.role == model.RolePromoted && f == nil {
				d := g.add(&Action{Key: key(p.id, "demote", 0), Op: "demote", Rsc: p.id, Node: nd.name})
				st := g.add(&Action{Key: key(p.id, "stop", 0), Op: "stop", Rsc: p.id, Node: nd.name})
				g.after(st, d)
				stops = append(stops, st)
				continue
			}
			st := g.add(&Action{Key: key(p.id, "stop", 0), Op: "stop", Rsc: p.id, Node: nd.name})
			if f != nil {
				st.Pseudo = true
				st.Reason = "implied by fencing of " + nd.name
				g.after(st, f)
			}
			stops = append(stops, st)
		}
		next := ""
		if p.assigned >= 0 {
			next = s.nodes[p.assigned].name
		}
		var start, prom *Action
		if pl.start {
			start = g.add(&Action{Key: key(p.id, "start", 0), Op: "start", Rsc: p.id, Node: next})
			for _, st := range stops {
				g.after(start, st)
			}
			// The one rule: a start of a resource that was on a lost node
			// waits for that node's fence, directly.
			for _, a := range p.running {
				if f := fence[a.node]; f != nil {
					g.after(start, f)
				}
			}
		}
		if start != nil && p.defChange == "restart" && start.Reason == "" {
			start.Reason = p.definitionReason()
		}
		if pl.reload {
			s.addReload(g, p, next)
		}
		if pl.demote {
			d := g.add(&Action{Key: key(p.id, "demote", 0), Op: "demote", Rsc: p.id, Node: next})
			s.addMonitors(g, p, d, next, model.RoleUnpromoted)
		}
		if pl.promote {
			prom = g.add(&Action{Key: key(p.id, "promote", 0), Op: "promote", Rsc: p.id, Node: next})
			g.after(prom, start)
			for _, st := range stops {
				g.after(prom, st)
			}
			for _, a := range p.running {
				if f := fence[a.node]; f != nil {
					g.after(prom, f)
				}
			}
			s.addMonitors(g, p, prom, next, model.RolePromoted)
		} else if start != nil {
			s.addMonitors(g, p, start, next, p.nextRole)
		}
		s.summarize(&out, p, pl)
	}
	keepOrphans := !s.cfg.Options.StopOrphans()
	for _, o := range s.orphans {
		if keepOrphans && !s.nodes[o.node].fenced {
			// stop-orphan-resources=false: left running, unmanaged.
			continue
		}
		st := g.add(&Action{Key: key(o.id, "stop", 0), Op: "stop", Rsc: o.id, Node: s.nodes[o.node].name, Reason: "orphan: not in the configuration"})
		if f := fence[o.node]; f != nil {
			st.Pseudo = true
			g.after(st, f)
		}
		out.Summary = append(out.Summary, fmt.Sprintf("Stop %s ( %s ) due to node availability", o.id, s.nodes[o.node].name))
	}
	if s.hasRemote {
		s.remoteEdges(g, fence)
	}
	s.collectiveMilestones(g)
	s.fenceCollectives(g, fence)
	s.orderEdges(g, rules)

	out.Actions = finishGraph(g)
	if s.wantScores {
		out.Scores = s.scoreReport()
	}
	out.Placement = s.placement()
	out.Warnings = append(append([]string(nil), s.warnings...), s.blockedBy...)
	return out
}

func (s *sched) addMonitors(g *graph, p *rsc, after *Action, node, role string) {
	for _, op := range p.cfg.Ops {
		if op.Name != "monitor" || op.Interval <= 0 {
			continue
		}
		or := model.NormalizeRole(op.Role)
		if or == model.RoleStarted {
			or = ""
		}
		if or != "" && or != role {
			continue
		}
		if or == "" && role == model.RolePromoted && s.hasRoleMonitor(p, model.RolePromoted) {
			continue
		}
		ms := time.Duration(op.Interval).Milliseconds()
		m := g.add(&Action{Key: key(p.id, "monitor", ms), Op: "monitor", Rsc: p.id, Node: node, Interval: ms})
		g.after(m, after)
	}
}

func (s *sched) hasRoleMonitor(p *rsc, role string) bool {
	for _, op := range p.cfg.Ops {
		if op.Name == "monitor" && model.NormalizeRole(op.Role) == role && op.Interval > 0 {
			return true
		}
	}
	return false
}

func (s *sched) summarize(out *Output, p *rsc, pl *plan) {
	next := ""
	if p.assigned >= 0 {
		next = s.nodes[p.assigned].name
	}
	failed := false
	var from []string
	for _, a := range pl.stops {
		from = append(from, s.nodes[a.node].name)
		failed = failed || a.failed
	}
	reason := ""
	for _, a := range pl.stops {
		if s.nodes[a.node].fenced {
			reason = " due to node fencing"
		}
	}
	if p.multiRestart && pl.start && len(from) > 1 {
		// Like crm_simulate: a multiply active resource restarting is
		// named by its first copy ("Restart a ( n1 )", "Move a ( n1 ->
		// n3 )"); the stops on every node are in the actions.
		from = from[:1]
	}
	verb := ""
	target := next
	if pl.promote {
		target = "Promoted " + next
	}
	switch {
	case len(pl.stops) > 0 && pl.start:
		kind := "Move"
		if failed {
			kind = "Recover"
		}
		if len(from) == 1 && from[0] == next {
			if !failed {
				kind = "Restart"
			}
			verb = fmt.Sprintf("%s %s ( %s )", kind, p.id, target)
			if kind == "Restart" && p.defChange == "restart" {
				reason = " due to resource definition change"
			}
		} else {
			verb = fmt.Sprintf("%s %s ( %s -> %s )", kind, p.id, strings.Join(from, " "), target)
		}
	case len(pl.stops) > 0:
		verb = fmt.Sprintf("Stop %s ( %s )", p.id, strings.Join(from, " "))
	case pl.start && pl.promote:
		verb = fmt.Sprintf("Promote %s ( Stopped -> Promoted %s )", p.id, next)
	case pl.start:
		verb = fmt.Sprintf("Start %s ( %s )", p.id, next)
	case pl.promote:
		verb = fmt.Sprintf("Promote %s ( Unpromoted -> Promoted %s )", p.id, next)
	case pl.demote:
		verb = fmt.Sprintf("Demote %s ( Promoted -> Unpromoted %s )", p.id, next)
	case pl.reload:
		verb = reloadSummary(p, next)
	default:
		return
	}
	out.Summary = append(out.Summary, verb+reason)
}

// collectiveMilestones adds the pseudo actions of groups and clones
// ("g_running_0" ...) and orders members around them.
func (s *sched) collectiveMilestones(g *graph) {
	for _, r := range s.byIDOrdered() {
		if r.kind == kPrimitive {
			continue
		}
		if r.kind == kGroup {
			// Members start in order and stop in reverse order.
			for i := 1; i < len(r.children); i++ {
				a, b := r.children[i-1], r.children[i]
				for _, x := range s.actionsOf(g, b, "start") {
					for _, y := range s.actionsOf(g, a, "start") {
						g.after(x, y)
					}
				}
				for _, x := range s.actionsOf(g, a, "stop") {
					for _, y := range s.actionsOf(g, b, "stop") {
						g.after(x, y)
					}
				}
			}
		}
		var kids []*rsc
		if r.kind == kGroup {
			kids = r.children
		} else {
			kids = r.children
		}
		pairs := [][2]string{{"start", "running"}, {"stop", "stopped"}, {"promote", "promoted"}, {"demote", "demoted"}}
		ms := map[string][2]*Action{}
		for _, pr := range pairs {
			var acts []*Action
			for _, k := range kids {
				acts = append(acts, s.actionsOf(g, k, pr[0])...)
			}
			if len(acts) == 0 {
				continue
			}
			begin := g.add(&Action{Key: key(r.id, pr[0], 0), Op: pr[0], Rsc: r.id, Pseudo: true})
			end := g.add(&Action{Key: key(r.id, pr[1], 0), Op: pr[1], Rsc: r.id, Pseudo: true})
			for _, a := range acts {
				g.after(a, begin)
				g.after(end, a)
			}
			g.after(end, begin)
			ms[pr[0]] = [2]*Action{begin, end}
		}
		// stop before start, demote before stop, start before promote
		link := func(later, earlier string) {
			if l, ok := ms[later]; ok {
				if e, ok := ms[earlier]; ok {
					g.after(l[0], e[1])
				}
			}
		}
		link("start", "stop")
		link("stop", "demote")
		link("promote", "start")
		link("promote", "demote")
		link("promote", "stop")
	}
}

// fenceCollectives makes the one rule explicit for groups and clones: when
// any member was active on a node being fenced, every start and promote in
// that group or clone depends directly on the fence (a replacement instance
// or a newly promoted one must never run beside an unconfirmed original).
func (s *sched) fenceCollectives(g *graph, fence map[int]*Action) {
	if len(fence) == 0 {
		return
	}
	for _, r := range s.top {
		if r.kind == kPrimitive {
			continue
		}
		var fs []*Action
		seen := map[int]bool{}
		for _, p := range leaves(r, nil) {
			for _, a := range p.running {
				if f := fence[a.node]; f != nil && !seen[a.node] {
					seen[a.node] = true
					fs = append(fs, f)
				}
			}
		}
		if len(fs) == 0 {
			continue
		}
		for _, p := range leaves(r, nil) {
			for _, a := range g.byRsc[p.id] {
				if a.Op == "start" || a.Op == "promote" {
					for _, f := range fs {
						g.after(a, f)
					}
				}
			}
		}
	}
}

// actionsOf returns r's real or pseudo actions for op: for a collective
// resource its milestone, else its members' actions.
func (s *sched) actionsOf(g *graph, r *rsc, op string) []*Action {
	if r.kind == kPrimitive {
		var out []*Action
		for _, a := range g.byRsc[r.id] {
			if a.Op == op {
				out = append(out, a)
			}
		}
		return out
	}
	if a := g.get(key(r.id, op, 0), ""); a != nil {
		return []*Action{a}
	}
	var out []*Action
	for _, c := range r.children {
		out = append(out, s.actionsOf(g, c, op)...)
	}
	return out
}

var endOf = map[string]string{"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}
var inverse = map[string]string{"start": "stop", "promote": "demote", "demote": "promote", "stop": "start"}

func (s *sched) endActions(g *graph, r *rsc, op string) []*Action {
	if r.kind != kPrimitive {
		if a := g.get(key(r.id, endOf[op], 0), ""); a != nil {
			return []*Action{a}
		}
		return nil
	}
	return s.actionsOf(g, r, op)
}

func (s *sched) beginActions(g *graph, r *rsc, op string) []*Action {
	if r.kind != kPrimitive {
		if a := g.get(key(r.id, op, 0), ""); a != nil {
			return []*Action{a}
		}
		return nil
	}
	return s.actionsOf(g, r, op)
}

func (s *sched) orderEdges(g *graph, rules []orderRule) {
	for _, o := range rules {
		if strings.HasSuffix(o.id, ":internal") || o.noEdges {
			continue
		}
		if o.interleaved() {
			s.interleavedEdges(g, o)
			continue
		}
		firsts := o.any
		if len(firsts) == 0 {
			firsts = []*rsc{o.first}
		}
		for _, first := range firsts {
			for _, t := range s.beginActions(g, o.then, o.ta) {
				for _, f := range s.endActions(g, first, o.fa) {
					g.after(t, f)
				}
			}
			if o.sym && inverse[o.fa] != "" && inverse[o.ta] != "" {
				for _, f := range s.beginActions(g, first, inverse[o.fa]) {
					for _, t := range s.endActions(g, o.then, inverse[o.ta]) {
						g.after(f, t)
					}
				}
			}
		}
	}
}

// finishGraph sorts actions topologically (ties by creation order) and
// renumbers them so every dependency has a smaller ID. Cycles (from
// contradictory orders) are broken by dropping the offending edges.
func finishGraph(g *graph) []Action {
	n := len(g.actions)
	indeg := make([]int, n)
	rev := make([][]int, n)
	for a, deps := range g.deps {
		for d := range deps {
			indeg[a.ID]++
			rev[d.ID] = append(rev[d.ID], a.ID)
		}
	}
	for i := range rev {
		sort.Ints(rev[i])
	}
	var order []int
	done := make([]bool, n)
	h := &intHeap{}
	for i := 0; i < n; i++ {
		if indeg[i] == 0 {
			h.push(i)
		}
	}
	for len(order) < n {
		if h.len() == 0 {
			for i := 0; i < n; i++ {
				if !done[i] {
					h.push(i)
					indeg[i] = 0
					break
				}
			}
		}
		i := h.pop()
		if done[i] {
			continue
		}
		done[i] = true
		order = append(order, i)
		for _, j := range rev[i] {
			indeg[j]--
			if indeg[j] == 0 && !done[j] {
				h.push(j)
			}
		}
	}
	newID := make([]int, n)
	for pos, i := range order {
		newID[i] = pos + 1
	}
	out := make([]Action, 0, n)
	for _, i := range order {
		a := *g.actions[i]
		a.ID = newID[i]
		a.After = nil
		for d := range g.deps[g.actions[i]] {
			if newID[d.ID] < a.ID {
				a.After = append(a.After, newID[d.ID])
			}
		}
		sort.Ints(a.After)
		out = append(out, a)
	}
	return out
}

type intHeap struct{ v []int }

func (h *intHeap) len() int { return len(h.v) }
func (h *intHeap) push(x int) {
	h.v = append(h.v, x)
	i := len(h.v) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.v[p] <= h.v[i] {
			break
		}
		h.v[p], h.v[i] = h.v[i], h.v[p]
		i = p
	}
}
func (h *intHeap) pop() int {
	x := h.v[0]
	last := len(h.v) - 1
	h.v[0] = h.v[last]
	h.v = h.v[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h.v) && h.v[l] < h.v[m] {
			m = l
		}
		if r < len(h.v) && h.v[r] < h.v[m] {
			m = r
		}
		if m == i {
			break
		}
		h.v[m], h.v[i] = h.v[i], h.v[m]
		i = m
	}
	return x
}

func (s *sched) placement() []Placement {
	var out []Placement
	for _, p := range s.prims {
		if p.orphan && p.assigned < 0 {
			continue
		}
		pl := Placement{Rsc: p.id, Role: model.RoleStopped}
		if p.assigned >= 0 {
			pl.Node = s.nodes[p.assigned].name
			pl.Role = p.nextRole
			if pl.Role == "" {
				pl.Role = model.RoleStarted
			}
			pl.Blocked = p.blocked
		}
		if len(p.alsoOn) > 0 {
			pl.MultiplyActive = true
		}
		out = append(out, pl)
		for _, n := range p.alsoOn {
			extra := pl
			extra.Node = s.nodes[n].name
			out = append(out, extra)
		}
	}
	if !s.cfg.Options.StopOrphans() {
		for _, o := range s.orphans {
			if !s.nodes[o.node].fenced {
				out = append(out, Placement{Rsc: o.id, Node: s.nodes[o.node].name, Role: model.RoleStarted})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Placement) int { return strings.Compare(a.Rsc, b.Rsc) })
	return out
}

// interleavedEdges orders an interleaved clone per node: each instance
// waits only for the other clone's instance on its own node, not for the
// whole clone.
func (s *sched) interleavedEdges(g *graph, o orderRule) {
	perNode := func(r *rsc, op string) map[string][]*Action {
		m := map[string][]*Action{}
		for _, p := range leaves(r, nil) {
			for _, a := range g.byRsc[p.id] {
				if a.Op == op {
					m[a.Node] = append(m[a.Node], a)
				}
			}
		}
		return m
	}
	link := func(later *rsc, lop string, earlier *rsc, eop string) {
		before := perNode(earlier, eop)
		for node, acts := range perNode(later, lop) {
			for _, a := range acts {
				for _, b := range before[node] {
					g.after(a, b)
				}
			}
		}
	}
	link(o.then, o.ta, o.first, o.fa)
	if o.sym && inverse[o.fa] != "" && inverse[o.ta] != "" {
		link(o.first, inverse[o.fa], o.then, inverse[o.ta])
	}
}
