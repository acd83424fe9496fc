package scheduler

import (
	"strings"

	"palisade/resources/model"
)

// infinityHack marks a node whose score a non-negative merge would have
// turned negative; it becomes 1 at the end (Pacemaker's INFINITY_HACK).
const infinityHack = model.Score(-100 * model.Infinity)

type table struct {
	score   []model.Score
	allowed []bool
}

func (r *rsc) table() table {
	return table{score: append([]model.Score(nil), r.score...), allowed: append([]bool(nil), r.allowed...)}
}

func (s *sched) usable(n int) bool { return s.avail[n] }

func (s *sched) anyAvailable(t table) bool {
	for i, ok := range t.allowed {
		if ok && s.usable(i) && t.score[i] >= 0 {
			return true
		}
	}
	return false
}

// record remembers r's current scores for the score report; a later
// record of the same resource overwrites them (crm_simulate prints the
// same resource at several stages; the last one is what assignment used).
func (s *sched) record(r *rsc) {
	if !s.wantScores {
		return
	}
	if r.rec == nil {
		r.rec = make([]model.Score, len(r.score))
		r.recAllowed = make([]bool, len(r.allowed))
		s.recOrder = append(s.recOrder, recEntry{r: r})
	}
	copy(r.rec, r.score)
	copy(r.recAllowed, r.allowed)
}

func (s *sched) recordPromotion(r *rsc, n int, sc model.Score) {
	if !s.wantScores {
		return
	}
	s.recOrder = append(s.recOrder, recEntry{r: r, promo: &ScoreLine{Rsc: r.id, Node: s.nodes[n].name, Score: sc, Kind: "promotion"}})
}

type recEntry struct {
	r     *rsc
	promo *ScoreLine
}

func (s *sched) scoreReport() []ScoreLine {
	n := 0
	for _, e := range s.recOrder {
		if e.promo != nil {
			n++
			continue
		}
		for _, ok := range e.r.recAllowed {
			if ok {
				n++
			}
		}
	}
	out := make([]ScoreLine, 0, n)
	for _, e := range s.recOrder {
		if e.promo != nil {
			out = append(out, *e.promo)
			continue
		}
		for i, ok := range e.r.recAllowed {
			if ok {
				out = append(out, ScoreLine{Rsc: e.r.id, Node: s.nodes[i].name, Score: e.r.rec[i], Kind: "allocation"})
			}
		}
	}
	return out
}

func (s *sched) recordTree(r *rsc) {
	s.record(r)
	for _, c := range r.children {
		s.recordTree(c)
	}
}

// assign places r (and whatever it depends on) and returns its node.
func (s *sched) assign(r *rsc, prefer int) int {
	switch r.kind {
	case kGroup:
		return s.groupAssign(r, prefer)
	case kClone:
		s.cloneAssign(r)
		return -1
	case kBundle:
		s.bundleAssign(r)
		return -1
	}
	return s.primitiveAssign(r, prefer)
}

// thisWith lists the colocations where p is the dependent, including those
// inherited from its group (first member) and clone.
func (s *sched) thisWithOf(p *rsc) []*coloc {
	list := p.thisWith
	if g := p.parent; g != nil && g.kind == kGroup && len(g.children) > 0 && g.children[0] == p {
		// The group's colocations join the first member's own, in one
		// list ordered by the primaries' priority as Pacemaker keeps it.
		list = append(append([]*coloc(nil), list...), g.thisWith...)
		sortColocs(list, func(c *coloc) *rsc { return c.pri })
		if c := g.parent; c != nil && c.kind == kClone {
			list = append(list, s.cloneInherited(c, g, true)...)
		}
	} else if c := p.parent; c != nil && c.kind == kClone {
		list = append(append([]*coloc(nil), list...), s.cloneInherited(c, p, true)...)
	} else if c := p.parent; c != nil && c.kind == kBundle && isContainer(p) {
		// Only a bundle's containers get the bundle's colocations.
		list = append(append([]*coloc(nil), list...), s.cloneInherited(c, p, true)...)
	}
	return list
}

func (s *sched) withThisOf(p *rsc) []*coloc {
	list := p.withThis
	if g := p.parent; g != nil && g.kind == kGroup && len(g.children) > 0 && g.children[0] == p {
		list = append(append([]*coloc(nil), list...), g.withThis...)
		if c := g.parent; c != nil && c.kind == kClone {
			list = append(list, s.cloneInherited(c, g, false)...)
		}
	} else if c := p.parent; c != nil && c.kind == kClone {
		list = append(append([]*coloc(nil), list...), s.cloneInherited(c, p, false)...)
	} else if c := p.parent; c != nil && c.kind == kBundle && isContainer(p) {
		list = append(append([]*coloc(nil), list...), s.cloneInherited(c, p, false)...)
	}
	return list
}

// cloneInherited is append_parent_colocation: instances inherit the
// clone's colocations, the optional positive ones only when not every
// node gets an instance.
func (s *sched) cloneInherited(c, inst *rsc, thisWith bool) []*coloc {
	var out []*coloc
	if thisWith {
		for _, cc := range c.thisWith {
			if c.allColoc || cc.score < 0 || cc.score >= model.Infinity {
				out = append(out, cc)
			}
		}
		return out
	}
	for _, cc := range c.withThis {
		if !cc.influence && len(inst.running) > 0 {
			continue
		}
		if c.allColoc || cc.score < 0 {
			out = append(out, cc)
		}
	}
	return out
}

func mandatory(sc model.Score) bool { return sc >= model.Infinity || sc <= -model.Infinity }

func (s *sched) primitiveAssign(r *rsc, prefer int) int {
	if r.parent != nil && !r.parent.allocating && r.parent.provisional {
		s.assign(r.parent, prefer)
	}
	if !r.provisional {
		return r.assigned
	}
	if r.allocating {
		return -1
	}
	r.allocating = true
	// Pacemaker 2.1.5's pcmk__primitive_assign: every colocation with a
	// primary first (in list order), then the dependents' scores.
	tw, wt := s.thisWithOf(r), s.withThisOf(r)
	for _, c := range tw {
		s.applyThisWith(c, r)
	}
	for _, c := range wt {
		s.addDependentScores(c, r)
	}
	if r.nextRole == model.RoleStopped && !r.pinned {
		resourceLocation(r, -1, -model.Infinity)
	}
	s.record(r)
	switch {
	case r.pinned:
		s.finalize(r, r.pinNode, true)
	case s.stopAll || r.noRun:
		s.finalize(r, -1, true)
	default:
		s.assignBest(r, prefer)
	}
	if r.remoteOf != nil {
		s.connectionPlaced(r)
	}
	r.allocating = false
	return r.assigned
}

func (s *sched) currentNode(r *rsc) int {
	if len(r.running) == 0 {
		return -1
	}
	return r.running[0].node
}

// compareNodes orders candidate nodes as Pacemaker's compare_nodes does:
// score (unusable nodes count as -INFINITY), (balanced) free capacity,
// fewer assigned resources, the preferred node, name.
func (s *sched) compareNodes(score []model.Score, x, y, preferred int) int {
	wx, wy := score[x], score[y]
	if !s.usable(x) {
		wx = -model.Infinity
	}
	if !s.usable(y) {
		wy = -model.Infinity
	}
	if wx != wy {
		if wx > wy {
			return -1
		}
		return 1
	}
	if s.strategy == "minimal" {
		return strings.Compare(s.nodes[x].name, s.nodes[y].name)
	}
	if s.strategy == "balanced" {
		if c := s.compareCapacity(x, y); c != 0 {
			return c
		}
	}
	if a, b := s.nodes[x].numRsc, s.nodes[y].numRsc; a != b {
		return a - b
	}
	if preferred >= 0 && (x == preferred) != (y == preferred) {
		if x == preferred {
			return -1
		}
		return 1
	}
	return strings.Compare(s.nodes[x].name, s.nodes[y].name)
}

// bestNode is the first allowed node in compareNodes order (-1 if none):
// a linear scan, since only the head of the order matters.
func (s *sched) bestNode(t table, preferred int) int {
	best := -1
	for i, ok := range t.allowed {
		if ok && (best < 0 || s.compareNodes(t.score, i, best, preferred) < 0) {
			best = i
		}
	}
	return best
}

func (s *sched) compareCapacity(x, y int) int {
	a, b := s.nodes[x], s.nodes[y]
	res := 0
	cmp := func(k string) {
		fa, fb := a.capacity[k]-a.used[k], b.capacity[k]-b.used[k]
		if fa > fb {
			res--
		} else if fa < fb {
			res++
		}
	}
	for _, k := range model.SortedKeys(a.capacity) {
		cmp(k)
	}
	for _, k := range model.SortedKeys(b.capacity) {
		if _, ok := a.capacity[k]; !ok {
			cmp(k)
		}
	}
	return res
}

// banInsufficientCapacity forbids nodes that lack free capacity for r and
// every not-yet-assigned resource mandatorily colocated with it (so a
// group lands where all of its members fit).
func (s *sched) banInsufficientCapacity(r *rsc) int {
	if s.strategy == "default" {
		return -1
	}
	need := map[string]int{}
	seen := map[*rsc]bool{}
	var walk func(x *rsc)
	walk = func(x *rsc) {
		if seen[x] || x.kind != kPrimitive || (x != r && !x.provisional) {
			return
		}
		seen[x] = true
		for k, v := range x.util {
			need[k] += v
		}
		for _, c := range s.thisWithOf(x) {
			if c.score >= model.Infinity {
				for _, p := range leaves(c.pri, nil) {
					walk(p)
				}
			}
		}
		for _, c := range s.withThisOf(x) {
			if c.score >= model.Infinity {
				for _, p := range leaves(c.dep, nil) {
					walk(p)
				}
			}
		}
	}
	walk(r)
	if len(need) == 0 {
		return -1
	}
	fits := func(i int, want map[string]int) bool {
		n := s.nodes[i]
		for k, v := range want {
			if n.capacity[k]-n.used[k] < v {
				return false
			}
		}
		return true
	}
	candidate := func(i int) bool { return r.allowed[i] && r.score[i] >= 0 && s.usable(i) }
	// Pacemaker's pcmk__ban_insufficient_capacity: when some node can take
	// the resource with everything mandatorily colocated with it, ban the
	// nodes that cannot; when none can, ban only the nodes that cannot
	// take the resource alone.
	want := need
	anyCapable := false
	mostCapable := -1
	for i := range s.nodes {
		if !candidate(i) {
			continue
		}
		if fits(i, need) {
			anyCapable = true
		}
		if mostCapable < 0 || s.compareCapacity(i, mostCapable) < 0 {
			mostCapable = i
		}
	}
	if !anyCapable {
		want = r.util
	}
	for i := range s.nodes {
		if candidate(i) && !fits(i, want) {
			r.score[i] = -model.Infinity
		}
	}
	// With no node fitting them all, Pacemaker 2.1 prefers the node with
	// the most free capacity among equals.
	if anyCapable {
		return -1
	}
	return mostCapable
}

func (s *sched) assignBest(r *rsc, prefer int) {
	if capable := s.banInsufficientCapacity(r); prefer < 0 {
		prefer = capable
	}
	t := table{score: r.score, allowed: r.allowed}
	cur := s.currentNode(r)
	best := s.bestNode(t, cur)
	chosen := -1
	if best >= 0 && prefer >= 0 {
		if r.allowed[prefer] && r.score[prefer] >= r.score[best] && s.usable(prefer) && r.score[prefer] >= 0 {
			chosen = prefer
		}
	}
	if chosen < 0 && best >= 0 {
		chosen = best
		inUniqueClone := r.parent != nil && r.parent.kind == kClone && r.parent.unique
		// Equal best scores: stay on the current node.
		if !inUniqueClone && r.score[chosen] > 0 && s.usable(chosen) && cur >= 0 && s.usable(cur) &&
			r.allowed[cur] && r.score[cur] == r.score[chosen] {
			chosen = cur
		}
	}
	s.finalize(r, chosen, false)
}

// finalize records the assignment; a node with a negative score or that
// cannot run resources means the resource stays stopped.
func (s *sched) finalize(r *rsc, n int, force bool) {
	r.provisional = false
	if n >= 0 && !force && (r.score[n] < 0 || !s.usable(n)) {
		n = -1
	}
	r.assigned = n
	if n < 0 {
		r.nextRole = model.RoleStopped
		return
	}
	if r.nextRole == "" || r.nextRole == model.RoleStopped {
		r.nextRole = model.RoleStarted
		if s.promotableParent(r) != nil {
			r.nextRole = model.RoleUnpromoted
		}
	}
	nd := s.nodes[n]
	nd.numRsc++
	for k, v := range r.util {
		nd.used[k] += v
	}
}

func (s *sched) unassign(r *rsc) {
	if r.assigned >= 0 && !r.provisional {
		nd := s.nodes[r.assigned]
		nd.numRsc--
		for k, v := range r.util {
			nd.used[k] -= v
		}
	}
	r.assigned = -1
	r.provisional = true
	r.nextRole = ""
	for _, c := range r.children {
		s.unassign(c)
	}
}

func (s *sched) groupAssign(g *rsc, prefer int) int {
	if !g.provisional {
		return g.assigned
	}
	if g.allocating {
		return -1
	}
	if len(g.children) == 0 {
		g.provisional = false
		return -1
	}
	g.allocating = true
	s.recordTree(g)
	first := -1
	for i, m := range g.children {
		n := s.primitiveAssign(m, prefer)
		if i == 0 {
			first = n
		}
	}
	g.allocating = false
	g.provisional = false
	g.assigned = first
	return first
}

// applyThisWith assigns the primary first, then applies the colocation to
// the dependent's scores, reverting when that leaves no node for optional
// anti-colocations.
func (s *sched) applyThisWith(c *coloc, dep *rsc) {
	var archive *table
	if c.depRole == model.RolePromoted || (c.score < 0 && c.score > -model.Infinity) {
		t := dep.table()
		archive = &t
	}
	s.assign(c.pri, -1)
	if c.depRole == model.RolePromoted || c.depRole == model.RoleUnpromoted {
		if s.promotableParent(dep) != nil {
			return // affects promotion, applied when roles are chosen
		}
	}
	s.applyColocScore(dep, c.pri, c)
	if archive != nil && !s.anyAvailable(table{dep.score, dep.allowed}) {
		copy(dep.score, archive.score)
		copy(dep.allowed, archive.allowed)
	}
}

// applyColocScore applies colocation c of dep with primary pri to dep.
func (s *sched) applyColocScore(dep, pri *rsc, c *coloc) {
	switch pri.kind {
	case kGroup:
		if len(pri.children) == 0 {
			return
		}
		m := pri.children[0]
		if c.score >= model.Infinity {
			m = pri.children[len(pri.children)-1]
		}
		s.applyColocScore(dep, m, c)
	case kClone:
		s.applyColocWithClone(dep, pri, c)
	case kBundle:
		s.applyColocWithBundle(dep, pri, c)
	default:
		s.applyColocToWeights(dep, pri, c)
	}
}

func (s *sched) attrValue(n int, attr string) (string, bool) {
	return s.nodes[n].attr(attr)
}

func (s *sched) applyColocToWeights(dep, pri *rsc, c *coloc) {
	if pri.provisional {
		return
	}
	if c.priRole != "" && pri.assigned >= 0 && pri.nextRole != c.priRole && !(c.priRole == model.RoleUnpromoted && pri.nextRole == model.RoleStarted) {
		// The primary will not be in the required role: treat as inactive.
		if c.score < 0 {
			return
		}
	}
	var value string
	var hasValue bool
	if pri.assigned >= 0 {
		value, hasValue = s.attrValue(pri.assigned, c.attr)
	} else if c.score < 0 {
		return
	}
	t := dep.table()
	for i, ok := range t.allowed {
		if !ok {
			continue
		}
		if pri.assigned < 0 {
			t.score[i] = model.Add(-c.score, t.score[i])
			continue
		}
		v, has := s.attrValue(i, c.attr)
		if has && hasValue && eqFold(v, value) {
			if c.score < model.Infinity {
				t.score[i] = model.Add(c.score, t.score[i])
			}
		} else if c.score >= model.Infinity {
			t.score[i] = -model.Infinity
		}
	}
	if mandatory(c.score) || s.anyAvailable(t) {
		dep.score, dep.allowed = t.score, t.allowed
	}
}

func (s *sched) applyColocWithClone(dep, clone *rsc, c *coloc) {
	if clone.provisional {
		return
	}
	if c.priRole != "" && clone.promotable {
		var affected []int
		for _, inst := range clone.children {
			if inst.assigned < 0 {
				continue
			}
			if roleOf(inst) == c.priRole {
				// Mandatory: the instance's promotion score guides the
				// dependent; optional: the colocation score.
				add := c.score
				if c.score >= model.Infinity {
					add = inst.promo
				}
				v, _ := s.attrValue(inst.assigned, c.attr)
				for i, ok := range dep.allowed {
					if w, _ := s.attrValue(i, c.attr); ok && eqFold(v, w) {
						dep.score[i] = model.Add(add, dep.score[i])
					}
				}
				affected = append(affected, inst.assigned)
			}
		}
		if c.score >= model.Infinity {
			s.exclude(dep, affected, c.attr)
		}
		return
	}
	if c.score >= model.Infinity {
		var affected []int
		for _, inst := range clone.children {
			// A blocked instance (left where its operation failed) is
			// no place to colocate with, as in Pacemaker.
			if inst.assigned >= 0 && !anyFailBlocked(inst) {
				affected = append(affected, inst.assigned)
			}
		}
		s.exclude(dep, affected, c.attr)
		return
	}
	for _, inst := range clone.children {
		s.applyColocScore(dep, inst, c)
	}
}

func anyFailBlocked(r *rsc) bool {
	for _, p := range leaves(r, nil) {
		if p.failBlocked {
			return true
		}
	}
	return false
}

// exclude bans dep from every node not sharing attr with a node in keep.
func (s *sched) exclude(dep *rsc, keep []int, attr string) {
	for i, ok := range dep.allowed {
		if !ok {
			continue
		}
		v, _ := s.attrValue(i, attr)
		found := false
		for _, k := range keep {
			if w, _ := s.attrValue(k, attr); eqFold(v, w) {
				found = true
				break
			}
		}
		if !found {
			dep.score[i] = -model.Infinity
		}
	}
}

func roleOf(r *rsc) string {
	if r.kind == kGroup && len(r.children) > 0 {
		return r.children[0].nextRole
	}
	return r.nextRole
}

func eqFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// addDependentScores lets a dependent pull its primary, attenuated by the
// colocation score / INFINITY (pcmk__add_dependent_scores).
func (s *sched) addDependentScores(c *coloc, pri *rsc) {
	if !c.influence && len(c.pri.running) > 0 {
		return
	}
	flags := selectActive
	if pri.kind == kClone {
		flags |= selectNonNegative
	}
	t := table{score: pri.score, allowed: pri.allowed}
	t = s.addColocatedNodeScores(c.dep, t, c.attr, float64(c.score)/model.Infinity, flags)
	pri.score, pri.allowed = t.score, t.allowed
}

const (
	selectActive = 1 << iota
	selectNonNegative
)

// addColocatedNodeScores merges r's scores (and, recursively, those of
// resources colocated with r) into work, scaled by factor.
func (s *sched) addColocatedNodeScores(r *rsc, work table, attr string, factor float64, flags int) table {
	if r.kind == kGroup {
		if len(r.children) == 0 {
			return work
		}
		return s.addColocatedNodeScores(r.children[0], work, attr, factor, flags)
	}
	if r.merging {
		return work
	}
	r.merging = true
	defer func() { r.merging = false }()
	w := table{score: append([]model.Score(nil), work.score...), allowed: append([]bool(nil), work.allowed...)}
	s.addNodeScoresMatchingAttr(w, r, attr, factor, flags&selectNonNegative != 0)
	if s.anyAvailable(w) {
		var list []*coloc
		if r.kind == kPrimitive {
			list = s.withThisOf(r)
		} else {
			list = r.withThis
		}
		for _, c := range list {
			if !c.influence && len(c.pri.running) > 0 {
				continue
			}
			w = s.addColocatedNodeScores(c.dep, w, c.attr, factor*float64(c.score)/model.Infinity, flags)
		}
	} else if flags&selectActive != 0 {
		return work
	}
	if flags&selectNonNegative != 0 {
		for i := range w.score {
			if w.score[i] == infinityHack {
				w.score[i] = 1
			}
		}
	}
	return w
}

func (s *sched) addNodeScoresMatchingAttr(w table, r *rsc, attr string, factor float64, onlyPositive bool) {
	for i, ok := range w.allowed {
		if !ok {
			continue
		}
		score := s.bestScoreMatchingAttr(r, i, attr)
		if factor < 0 && score < 0 {
			continue
		}
		f := factor * float64(score)
		var weight int64
		if f < 0 {
			weight = int64(f - 0.5)
		} else {
			weight = int64(f + 0.5)
		}
		if weight == 0 && score != 0 {
			if factor > 0 {
				weight = 1
			} else if factor < 0 {
				weight = -1
			}
		}
		cur := w.score[i]
		ns := model.Add(model.Clamp(weight), cur)
		if cur == infinityHack {
			ns = -model.Infinity
		}
		if onlyPositive && ns < 0 && cur > 0 {
			w.score[i] = infinityHack
			continue
		}
		if onlyPositive && ns < 0 && cur == 0 {
			continue
		}
		w.score[i] = ns
	}
}

func (s *sched) bestScoreMatchingAttr(r *rsc, n int, attr string) model.Score {
	if attr == "" || attr == "#uname" || attr == "#id" {
		if r.allowed[n] && s.usable(n) {
			return r.score[n]
		}
		return -model.Infinity
	}
	v, _ := s.attrValue(n, attr)
	best := model.Score(-model.Infinity)
	for i, ok := range r.allowed {
		if !ok || !s.usable(i) || r.score[i] <= best {
			continue
		}
		if w, _ := s.attrValue(i, attr); eqFold(v, w) {
			best = r.score[i]
		}
	}
	return best
}
