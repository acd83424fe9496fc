package scheduler

import (
	"sort"

	"palisade/resources/model"
)

func (s *sched) cloneAssign(c *rsc) {
	if !c.provisional || c.allocating {
		return
	}
	c.allocating = true
	if c.promotable {
		s.addPromotionScores(c)
	}
	for _, cc := range c.thisWith {
		s.assign(cc.pri, -1)
	}
	for _, cc := range c.withThis {
		if !cc.influence && anyRunning(c) {
			continue
		}
		t := table{score: c.score, allowed: c.allowed}
		t = s.addColocatedNodeScores(cc.dep, t, cc.attr, float64(cc.score)/model.Infinity, selectActive|selectNonNegative)
		c.score, c.allowed = t.score, t.allowed
	}
	s.recordTree(c)
	s.assignInstances(c, c.children, c.cloneMax, c.nodeLimit())
	if c.promotable {
		s.setInstanceRoles(c)
	}
	c.allocating = false
	c.provisional = false
}

// assignInstances places the instances of a clone (or the containers of a
// bundle's replicas): at most max of them, at most perNode a node, active
// ones where they are first. Fewer instances than available nodes make
// the parent's optional colocations count (allColoc).
func (s *sched) assignInstances(c *rsc, children []*rsc, max, perNode int) {
	available := 0
	for _, n := range s.nodes {
		n.count = 0
		if n.available() {
			available++
		}
	}
	c.allColoc = max < available
	loopMax := 1
	if available > 0 && max/available > 1 {
		loopMax = max / available
	}
	// Active instances first so they keep their nodes; among those, one
	// active on fewer nodes first (as Pacemaker does), so a multiply
	// active instance does not take a node from a sane one.
	insts := append([]*rsc(nil), children...)
	sort.SliceStable(insts, func(i, j int) bool {
		a, b := instRunning(insts[i]), instRunning(insts[j])
		if a && b {
			return instActiveOn(insts[i]) < instActiveOn(insts[j])
		}
		return a && !b
	})
	allocated := 0
	for _, inst := range insts {
		if allocated >= max {
			break
		}
		if !instRunning(inst) || !inst.provisional || inst.orphan {
			continue
		}
		cur := instCurrent(inst)
		if cur < 0 || !s.usable(cur) {
			continue
		}
		if c.allowed[cur] && s.nodes[cur].count >= loopMax {
			continue
		}
		if s.allocateInstance(c, inst, cur, perNode) {
			allocated++
		}
	}
	for _, inst := range insts {
		if !inst.provisional {
			continue
		}
		if allocated >= max || inst.orphan {
			resourceLocation(inst, -1, -model.Infinity)
			s.assignStopped(inst)
			continue
		}
		if s.allocateInstance(c, inst, -1, perNode) {
			allocated++
		}
	}
}

func (s *sched) assignStopped(r *rsc) {
	if r.kind == kGroup {
		for _, m := range r.children {
			s.finalize(m, -1, true)
			s.record(m)
		}
		r.provisional = false
		r.assigned = -1
		return
	}
	s.record(r)
	s.finalize(r, -1, true)
}

func anyRunning(r *rsc) bool {
	for _, p := range leaves(r, nil) {
		if len(p.running) > 0 {
			return true
		}
	}
	return false
}

func instRunning(inst *rsc) bool {
	for _, p := range leaves(inst, nil) {
		for _, a := range p.running {
			if !a.failed {
				return true
			}
		}
	}
	return false
}

// instActiveOn is the number of nodes an instance is active on.
func instActiveOn(inst *rsc) int {
	seen := map[int]bool{}
	for _, p := range leaves(inst, nil) {
		for _, a := range p.running {
			seen[a.node] = true
		}
	}
	return len(seen)
}

func instCurrent(inst *rsc) int {
	for _, p := range leaves(inst, nil) {
		if len(p.running) > 0 {
			return p.running[0].node
		}
	}
	return -1
}

// allocateInstance assigns one instance, first banning nodes the clone may
// not use or that already hold clone-node-max instances; with a preferred
// node it rolls back unless the instance lands there.
func (s *sched) allocateInstance(c, inst *rsc, prefer, perNode int) bool {
	if prefer >= 0 && (!inst.allowed[prefer] || inst.score[prefer] < 0) {
		return false
	}
	backup := snapshot(inst)
	for i := range s.nodes {
		if !inst.allowed[i] {
			continue
		}
		n := s.nodes[i]
		if !n.available() || !c.allowed[i] || c.score[i] < 0 || n.count >= perNode {
			resourceLocation(inst, i, -model.Infinity)
		}
	}
	var chosen int
	if inst.kind == kGroup {
		chosen = s.groupAssign(inst, prefer)
	} else {
		chosen = s.primitiveAssign(inst, prefer)
	}
	if chosen >= 0 && prefer >= 0 && chosen != prefer {
		s.unassign(inst)
		restore(inst, backup)
		return false
	}
	if chosen >= 0 {
		s.nodes[chosen].count++
	}
	return chosen >= 0
}

type snap struct {
	score   []model.Score
	allowed []bool
	kids    []snap
}

func snapshot(r *rsc) snap {
	sn := snap{score: append([]model.Score(nil), r.score...), allowed: append([]bool(nil), r.allowed...)}
	for _, c := range r.children {
		sn.kids = append(sn.kids, snapshot(c))
	}
	return sn
}

func restore(r *rsc, sn snap) {
	copy(r.score, sn.score)
	copy(r.allowed, sn.allowed)
	for i, c := range r.children {
		restore(c, sn.kids[i])
	}
}

// setInstanceRoles chooses which instances of a promotable clone are
// promoted: highest promotion score first, at most promoted-max overall and
// promoted-node-max per node, never with a negative score.
func (s *sched) setInstanceRoles(c *rsc) {
	type cand struct {
		inst  *rsc
		node  int
		score model.Score
		was   bool
	}
	var cands []cand
	// Pacemaker's promotion order: the clone's node weights (which
	// already carry its location constraints and dependents' influence),
	// plus each instance's own promotion score on its node, plus
	// Promoted-role locations, plus once more the scores of resources
	// colocated with the Promoted role.
	t := table{score: append([]model.Score(nil), c.score...), allowed: append([]bool(nil), c.allowed...)}
	for _, inst := range c.children {
		if n := instAssigned(inst); n >= 0 {
			inst.promo = s.promotionScore(c, inst, n)
			t.allowed[n] = true
			t.score[n] = model.Add(t.score[n], inst.promo)
		}
	}
	for _, cc := range c.withThis {
		if cc.priRole != model.RolePromoted || (!cc.influence && anyRunning(c)) {
			continue
		}
		t = s.addColocatedNodeScores(cc.dep, t, cc.attr, float64(cc.score)/model.Infinity, selectActive|selectNonNegative)
	}
	noTicket := s.ticketForbidsPromotion(c)
	for _, inst := range c.children {
		n := instAssigned(inst)
		if n < 0 {
			continue
		}
		sc := t.score[n]
		// Pacemaker's promotion_order: an instance whose own promotion
		// score is negative keeps it; the node's weight is not added.
		if inst.promo < 0 {
			sc = inst.promo
		}
		if noTicket {
			sc = -model.Infinity
		}
		s.recordPromotion(inst, n, sc)
		cands = append(cands, cand{inst, n, sc, instWasPromoted(inst)})
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.was != b.was {
			return a.was
		}
		return s.nodes[a.node].name < s.nodes[b.node].name
	})
	perNode := map[int]int{}
	promoted := 0
	target := ""
	if v, ok := s.metaOf(c, "target-role"); ok {
		target = model.NormalizeRole(v)
	}
	for _, cd := range cands {
		if anyPinned(cd.inst) && roleOfAny(cd.inst) == model.RolePromoted {
			promoted++
			perNode[cd.node]++
		}
	}
	for _, cd := range cands {
		if anyPinned(cd.inst) {
			continue
		}
		role := model.RoleUnpromoted
		ok := cd.score >= 0 && promoted < c.promotedMax && perNode[cd.node] < c.promotedNodeMax &&
			target != model.RoleUnpromoted && s.mayPromote(cd.inst) && s.guestPlaced(cd.node)
		if ok {
			role = model.RolePromoted
			promoted++
			perNode[cd.node]++
		}
		for _, p := range leaves(cd.inst, nil) {
			if p.assigned >= 0 {
				p.nextRole = role
			}
		}
		cd.inst.nextRole = role
	}
}

// mayPromote applies the quorum policies that forbid new promotions.
func (s *sched) mayPromote(inst *rsc) bool {
	if s.quorate || s.noQuorum == "ignore" {
		return !anyPinned(inst) || instWasPromoted(inst)
	}
	if s.noQuorum == "freeze" {
		return instWasPromoted(inst)
	}
	return false
}

func anyPinned(r *rsc) bool {
	for _, p := range leaves(r, nil) {
		if p.pinned {
			return true
		}
	}
	return false
}

func instAssigned(inst *rsc) int {
	if inst.kind == kGroup {
		if len(inst.children) == 0 {
			return -1
		}
		return inst.children[0].assigned
	}
	return inst.assigned
}

func instWasPromoted(inst *rsc) bool {
	for _, p := range leaves(inst, nil) {
		for _, a := range p.running {
			if a.role == model.RolePromoted {
				return true
			}
		}
	}
	return false
}

// promotionScore is an instance's own part of its promotion score: the
// agent's master-<rsc> node attribute (-1 when unset, as Pacemaker reports
// it), Promoted-role location constraints, and colocations of this clone's
// Promoted role with other resources.
func (s *sched) promotionScore(c, inst *rsc, n int) model.Score {
	var sc model.Score
	found := false
	for _, p := range leaves(inst, nil) {
		if v, ok := s.promotionAttr(p, n); ok {
			if x, err := model.ParseScore(v); err == nil {
				sc = model.Add(sc, x)
				found = true
			}
		}
	}
	if !found {
		sc = -1
	}
	for _, l := range s.promoLocations {
		if s.byID[l.Rsc] != c {
			continue
		}
		if v, ok := s.promoLocationScore(l, s.nodes[n]); ok {
			sc = model.Add(sc, v)
		}
	}
	for _, cc := range c.thisWith {
		if cc.depRole != model.RolePromoted {
			continue
		}
		d := assignedNode(cc.pri)
		if d < 0 {
			if cc.score >= model.Infinity {
				sc = -model.Infinity
			}
			continue
		}
		if cc.priRole != "" && roleOfAny(cc.pri) != cc.priRole {
			if cc.score >= model.Infinity {
				sc = -model.Infinity
			}
			continue
		}
		v, _ := s.attrValue(d, cc.attr)
		w, _ := s.attrValue(n, cc.attr)
		if eqFold(v, w) {
			sc = model.Add(sc, cc.score)
		} else if cc.score >= model.Infinity {
			sc = -model.Infinity
		}
	}
	return sc
}

func roleOfAny(r *rsc) string {
	if r.kind == kPrimitive {
		return r.nextRole
	}
	for _, p := range leaves(r, nil) {
		if p.nextRole == model.RolePromoted {
			return model.RolePromoted
		}
	}
	return model.RoleStarted
}

func assignedNode(r *rsc) int {
	switch r.kind {
	case kPrimitive:
		return r.assigned
	case kGroup:
		return instAssigned(r)
	}
	for _, inst := range r.children {
		if n := instAssigned(inst); n >= 0 {
			return n
		}
	}
	return -1
}

func (s *sched) promoLocationScore(l model.Location, n *node) (model.Score, bool) {
	if l.Node != "" {
		if l.Node != n.name || model.NormalizeRole(l.Role) != model.RolePromoted {
			return 0, false
		}
		return l.Score, true
	}
	var total model.Score
	matched := false
	for _, rule := range l.Rules {
		role := model.NormalizeRole(rule.Role)
		if role == "" {
			role = model.NormalizeRole(l.Role)
		}
		if role != model.RolePromoted {
			continue
		}
		if sc, ok := s.ruleScore(rule, n); ok {
			total = model.Add(total, sc)
			matched = true
		}
	}
	return total, matched
}

// addPromotionScores adds each instance's master-<rsc> attribute to its
// allocation score on nodes where that instance is active, or, for an
// inactive instance, on nodes no other instance occupies, so instances land
// where they can be promoted (pcmk__add_promotion_scores). Negative
// promotion scores never push an instance off a node.
func (s *sched) addPromotionScores(c *rsc) {
	occupied := map[int]bool{}
	for _, inst := range c.children {
		if n := instCurrent(inst); n >= 0 {
			occupied[n] = true
		}
	}
	for _, inst := range c.children {
		cur := instCurrent(inst)
		for _, p := range leaves(inst, nil) {
			for i, ok := range p.allowed {
				if !ok || !s.usable(i) {
					continue
				}
				if cur >= 0 && cur != i || cur < 0 && occupied[i] {
					continue
				}
				v, ok := s.promotionAttr(p, i)
				if !ok {
					continue
				}
				if x, err := model.ParseScore(v); err == nil && x > 0 {
					p.score[i] = model.Add(p.score[i], x)
				}
			}
		}
	}
}

// promotionAttr is the promotion score the agent set for instance p on
// node n: master-<rsc>:<N> for that instance, else (anonymous clones)
// master-<rsc>, as Pacemaker's promotion_score looks them up.
func (s *sched) promotionAttr(p *rsc, n int) (string, bool) {
	attrs := s.nodes[n].attrs
	// container-attribute-target=host: a guest node's attributes are
	// its container's host's (pe_node_attribute_calculated).
	if t, _ := s.metaOf(p, "container-attribute-target"); eqFold(t, "host") {
		if g := s.nodes[n]; g.ctr != nil {
			attrs = nil
			if h := currentNodeOf(g.ctr); h >= 0 {
				attrs = s.nodes[h].attrs
			}
		}
	}
	if v, ok := attrs["master-"+p.id]; ok {
		return v, true
	}
	if p.base == "" || p.base == p.id || s.uniqueInstance(p) {
		return "", false
	}
	v, ok := attrs["master-"+p.base]
	return v, ok
}

func (s *sched) uniqueInstance(p *rsc) bool {
	for q := p.parent; q != nil; q = q.parent {
		if q.kind == kClone {
			return q.unique
		}
	}
	return false
}

// nodeLimit is clone-node-max, except that anonymous clones run one
// instance per node as in Pacemaker 2.1 (their copies are
// indistinguishable in the operation history).
func (c *rsc) nodeLimit() int {
	if !c.unique {
		return 1
	}
	return c.cloneNodeMax
}

// guestPlaced: node n is not a guest node, or its container is placed
// (an instance on a guest whose container cannot run is not promoted).
func (s *sched) guestPlaced(n int) bool {
	g := s.nodes[n]
	return g.ctr == nil || assignedNode(g.ctr) >= 0
}
