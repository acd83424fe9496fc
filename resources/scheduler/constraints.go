package scheduler

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"palisade/resources/model"
)

// resourceLocation adds score on node n (all nodes when n < 0) to r and,
// for collective resources, to every descendant (Pacemaker's
// resource_location).
func resourceLocation(r *rsc, n int, sc model.Score) {
	if n < 0 {
		for i := range r.score {
			r.score[i] = model.Add(r.score[i], sc)
			r.allowed[i] = true
		}
	} else {
		r.score[n] = model.Add(r.score[n], sc)
		r.allowed[n] = true
	}
	for _, c := range r.children {
		resourceLocation(c, n, sc)
	}
}

func (s *sched) applyLocations() {
	for _, l := range s.cfg.Constraints.Locations {
		r := s.byID[l.Rsc]
		if r == nil {
			continue
		}
		l.Rules = model.ResolveValueSource(l.Rules, r.cfg.Params, r.cfg.Meta)
		role := model.NormalizeRole(l.Role)
		// A role on the location, or on one of its rules, makes that part
		// a promotion score (Pacemaker gives each rule its own role).
		promo := role == model.RolePromoted
		for _, rule := range l.Rules {
			promo = promo || model.NormalizeRole(rule.Role) == model.RolePromoted
		}
		if promo && r.kind == kBundle && r.bundle.child != nil {
			// A role on a bundle's location is its primitive's.
			l.Rsc = r.bundle.child.id
			r = r.bundle.child
		}
		if promo {
			if r.kind != kClone || !r.promotable {
				s.warnf("location %s: role Promoted on non-promotable %s: ignored", l.ID, l.Rsc)
			} else {
				s.promoLocations = append(s.promoLocations, l)
			}
		}
		if role == model.RolePromoted || role == model.RoleUnpromoted {
			continue
		}
		exclusive := strings.EqualFold(l.Discovery, "exclusive")
		if exclusive {
			// Even a location that names no node confines r.
			s.anyExclusive = true
			markDiscovery(r, -1, len(s.nodes))
		}
		if l.Node != "" {
			if n := s.byName[l.Node]; n != nil {
				s.locate(r, n.idx, l.Score)
				if exclusive {
					markDiscovery(r, n.idx, len(s.nodes))
				}
			} else {
				s.warnf("location %s: node %s is not a cluster node: ignored", l.ID, l.Node)
			}
			continue
		}
		for _, n := range s.nodes {
			if sc, ok := s.locationScore(l, n); ok {
				s.locate(r, n.idx, sc)
				if exclusive {
					markDiscovery(r, n.idx, len(s.nodes))
				}
			}
		}
	}
}

// markDiscovery records that a location with resource-discovery=exclusive
// names node n for r and everything in it (n < 0: only that r has one).
func markDiscovery(r *rsc, n, nodes int) {
	r.exclusive = true
	if r.discover == nil {
		r.discover = make([]bool, nodes)
	}
	if n >= 0 {
		r.discover[n] = true
	}
	if r.kind == kBundle {
		// A bundle's locations are its containers' and IPs'.
		for _, rep := range r.bundle.replicas {
			markDiscovery(rep.ctr, n, nodes)
			if rep.ip != nil {
				markDiscovery(rep.ip, n, nodes)
			}
		}
		return
	}
	for _, c := range r.children {
		markDiscovery(c, n, nodes)
	}
}

// applyExclusiveDiscovery bans a resource with exclusive discovery (its
// own or its top-level parent's) from every node no exclusive location
// names for it (Pacemaker's apply_exclusive_discovery).
func (s *sched) applyExclusiveDiscovery() {
	if !s.anyExclusive {
		return
	}
	for _, r := range s.byIDOrdered() {
		// Pacemaker's uber_parent: the top-level resource, or the
		// resource directly inside a bundle.
		top := r
		for top.parent != nil && top.parent.kind != kBundle {
			top = top.parent
		}
		if !r.exclusive && !top.exclusive {
			continue
		}
		for i, ok := range r.allowed {
			if ok && (r.discover == nil || !r.discover[i]) {
				r.score[i] = -model.Infinity
			}
		}
	}
}

// locationScore evaluates a location constraint for one node. Rules with a
// role other than Started are handled by promotion.
func (s *sched) locationScore(l model.Location, n *node) (model.Score, bool) {
	if l.Node != "" {
		if l.Node != n.name {
			return 0, false
		}
		return l.Score, true
	}
	var total model.Score
	matched := false
	for _, rule := range l.Rules {
		if rr := model.NormalizeRole(rule.Role); rr == model.RolePromoted || rr == model.RoleUnpromoted {
			continue
		}
		if sc, ok := s.ruleScore(rule, n); ok {
			total = model.Add(total, sc)
			matched = true
		}
	}
	return total, matched
}

func (s *sched) ruleScore(rule model.Rule, n *node) (model.Score, bool) {
	if !s.ruleMatches(rule, n) {
		return 0, false
	}
	if rule.ScoreAttribute != "" {
		v, ok := n.attr(rule.ScoreAttribute)
		if !ok {
			return 0, false
		}
		sc, err := model.ParseScore(v)
		if err != nil {
			return 0, false
		}
		return sc, true
	}
	return rule.Score, true
}

// ruleMatches combines a rule's node expressions, date expressions and
// nested rules with its boolean-op (and by default), stopping at the
// first result that decides; an empty rule matches.
func (s *sched) ruleMatches(rule model.Rule, n *node) bool {
	or := strings.EqualFold(rule.BooleanOp, "or")
	any := false
	for _, e := range rule.Expressions {
		any = true
		if ok := evalExpression(e, n); ok == or {
			return or
		}
	}
	for _, d := range rule.Dates {
		any = true
		ok, err := d.Match(s.now)
		if err != nil {
			s.warnf("rule %s: %v", rule.ID, err)
		}
		if ok == or {
			return or
		}
	}
	for _, r := range rule.Rules {
		any = true
		if ok := s.ruleMatches(r, n); ok == or {
			return or
		}
	}
	return !any || !or
}

func evalExpression(e model.Expression, n *node) bool {
	v, ok := n.attr(e.Attribute)
	op := strings.ToLower(e.Operation)
	switch op {
	case "defined":
		return ok
	case "not_defined":
		return !ok
	}
	if !ok {
		return op == "ne"
	}
	cmp := compareValues(v, e.Value, strings.ToLower(e.Type), op)
	switch op {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

// compareValues compares as Pacemaker's rules do: without a type, eq and
// ne compare strings, ordering operators compare numbers ("number" when
// either value has a '.', else "integer"); integers parse like strtoll
// ("3.6" is 3) and a value that does not parse falls back to a
// case-insensitive string comparison.
func compareValues(a, b, typ, op string) int {
	if typ == "" {
		switch op {
		case "lt", "lte", "gt", "gte":
			typ = "integer"
			if strings.Contains(a, ".") || strings.Contains(b, ".") {
				typ = "number"
			}
		default:
			typ = "string"
		}
	}
	switch typ {
	case "integer":
		x, ok1 := scanInt(a)
		y, ok2 := scanInt(b)
		if ok1 && ok2 {
			return cmpOrdered(x, y)
		}
	case "number":
		x, e1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, e2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if e1 == nil && e2 == nil {
			return cmpOrdered(x, y)
		}
	case "version":
		return compareVersions(a, b)
	}
	return cmpOrdered(strings.ToLower(a), strings.ToLower(b))
}

func cmpOrdered[T int64 | float64 | string](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// scanInt reads a leading integer as strtoll does, ignoring what follows.
func scanInt(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	end := 0
	if end < len(v) && (v[end] == '-' || v[end] == '+') {
		end++
	}
	digits := end
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == digits {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:end], 10, 64)
	return n, err == nil
}

func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// applyStickiness adds resource-stickiness on the current node of every
// managed primitive active on exactly one node.
func (s *sched) applyStickiness() {
	for _, p := range s.prims {
		// Resources left alone stay put whatever the scores say.
		if p.unmanaged && p.pinNode >= 0 {
			// Blocked by multiple-active (or left multiply active) it is
			// sticky nowhere, as in Pacemaker's scores; it is pinned anyway.
			if len(p.alsoOn) == 0 && !p.startBlocked {
				p.score[p.pinNode] = model.Add(p.score[p.pinNode], model.Infinity)
				p.allowed[p.pinNode] = true
			}
			continue
		}
		if !p.managed || p.stickiness < 1 || len(p.running) != 1 {
			continue
		}
		n := p.running[0].node
		if !s.symmetric && !p.allowed[n] {
			continue
		}
		p.score[n] = model.Add(p.score[n], p.stickiness)
		p.allowed[n] = true
	}
}

// applyHardErrors bans a resource from the node where its agent is not
// installed or its parameters were rejected, and from every node when it
// is not configured (Pacemaker's hard-error and fatal-error bans). An
// anonymous clone instance's ban is the clone's.
func (s *sched) applyHardErrors() {
	for _, h := range s.st.HardErrors {
		n := -1
		if h.Node != "" {
			nd, ok := s.byName[h.Node]
			if !ok {
				continue
			}
			n = nd.idx
		}
		p := s.findPrim(h.Rsc, h.Node)
		if p == nil {
			// An anonymous clone's history names no instance that runs
			// there: any instance stands for the clone.
			b, _ := splitInstance(h.Rsc)
			p = s.byID[b+":0"]
		}
		if p == nil || p.kind != kPrimitive {
			continue
		}
		if p.failureTimeout > 0 && !h.LastFailure.IsZero() && !s.now.Before(h.LastFailure.Add(p.failureTimeout)) {
			continue // expired, as Pacemaker forgets it
		}
		ban := p
		for q := p.parent; q != nil; q = q.parent {
			if q.kind == kClone && !q.unique {
				ban = q
			}
		}
		resourceLocation(ban, n, -model.Infinity)
	}
}

// applyShutdownLocks keeps what a clean shutdown stopped off every other
// node while shutdown-lock is on (Pacemaker's shutdown locks): resources
// locked to a node that is still down, unless shutdown-lock-limit passed,
// and the primitives and groups active on a node shutting down now.
// Clones are never locked.
func (s *sched) applyShutdownLocks() {
	o := s.cfg.Options
	if !o.ShutdownLock {
		return
	}
	limit := time.Duration(o.ShutdownLockLimit)
	lock := func(p *rsc, n int) {
		if s.inClone(p) {
			return
		}
		for i := range s.nodes {
			if i != n {
				resourceLocation(p, i, -model.Infinity)
			}
		}
	}
	for _, l := range s.st.Locks {
		nd, ok := s.byName[l.Node]
		if !ok || nd.online && !nd.shutdown {
			continue // rejoined: the lock is released
		}
		if limit > 0 && !l.Since.IsZero() && !s.now.Before(l.Since.Add(limit)) {
			continue // expired
		}
		if p := s.findPrim(l.Rsc, l.Node); p != nil {
			lock(p, nd.idx)
		}
	}
	for _, p := range s.prims {
		for _, a := range p.running {
			if s.nodes[a.node].shutdown {
				lock(p, a.node)
			}
		}
	}
}

// applyFailLimits bans a primitive from nodes where its fail count reached
// migration-threshold; an anonymous clone is banned as a whole.
func (s *sched) applyFailLimits() {
	// A container's failures include those of the resources it contains
	// (their container meta attribute names it), as Pacemaker counts them.
	fillers := map[*rsc][]*rsc{}
	for _, p := range s.prims {
		name, _ := s.metaOf(p, "container")
		if c := s.byID[name]; name != "" && c != nil && c != p {
			fillers[c] = append(fillers[c], p)
		}
	}
	for _, p := range s.prims {
		if p.threshold <= 0 || len(p.failures) == 0 && len(fillers[p]) == 0 {
			continue
		}
		ban := p
		for q := p.parent; q != nil; q = q.parent {
			if q.kind == kClone && !q.unique {
				ban = q
			}
		}
		for n := range s.nodes {
			fc := s.failCount(p, n)
			for _, f := range fillers[p] {
				fc = model.Add(fc, s.failCount(f, n))
			}
			if fc > 0 && fc >= p.threshold {
				resourceLocation(ban, n, -model.Infinity)
			}
		}
	}
}

func (s *sched) buildColocations() {
	add := func(c *coloc) {
		c.dep.thisWith = append(c.dep.thisWith, c)
		c.pri.withThis = append(c.pri.withThis, c)
	}
	// Group members are colocated with, and ordered after, their predecessor.
	var groups []*rsc
	for _, r := range s.byIDOrdered() {
		if r.kind == kGroup {
			groups = append(groups, r)
		}
	}
	for _, g := range groups {
		if !s.metaBool(g, "colocated", true) {
			s.warnf("group %s: colocated=false is ignored (Pacemaker 2.1 always colocates group members)", g.id)
		}
		for i := 1; i < len(g.children); i++ {
			add(&coloc{id: g.id + ":internal", dep: g.children[i], pri: g.children[i-1], score: model.Infinity, influence: g.critical})
		}
	}
	s.bundleInternals(add)
	for _, cc := range s.cfg.Constraints.Colocations {
		dep, pri := s.byID[cc.Rsc], s.byID[cc.With]
		if dep == nil || pri == nil {
			continue
		}
		if dep == pri {
			s.warnf("colocation %s: resource colocated with itself: ignored", cc.ID)
			continue
		}
		c := &coloc{id: cc.ID, dep: dep, pri: pri, score: cc.Score, depRole: model.NormalizeRole(cc.RscRole),
			priRole: model.NormalizeRole(cc.WithRole), attr: cc.NodeAttribute, influence: boolOpt(cc.Influence, dep.critical)}
		if c.depRole == model.RoleStarted {
			c.depRole = ""
		}
		if c.priRole == model.RoleStarted {
			c.priRole = ""
		}
		add(c)
	}
	// Pacemaker keeps colocation lists sorted by the other side's priority,
	// then variant (clones first), then id.
	for _, r := range s.byIDOrdered() {
		sortColocs(r.thisWith, func(c *coloc) *rsc { return c.pri })
		sortColocs(r.withThis, func(c *coloc) *rsc { return c.dep })
	}
}

func sortColocs(list []*coloc, other func(*coloc) *rsc) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := other(list[i]), other(list[j])
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		if a.kind != b.kind {
			return a.kind > b.kind
		}
		return a.id < b.id
	})
}

func (s *sched) byIDOrdered() []*rsc {
	out := make([]*rsc, 0, len(s.byID))
	var walk func(r *rsc)
	walk = func(r *rsc) {
		out = append(out, r)
		for _, c := range r.children {
			walk(c)
		}
	}
	for _, r := range s.top {
		walk(r)
	}
	return out
}

// locate applies a location constraint score. In a colocated group only
// the group and its first member take the score; later members merely gain
// the node at 0, because the first member's score already includes theirs.
func (s *sched) locate(r *rsc, n int, sc model.Score) {
	if r.kind == kBundle {
		// A bundle's locations hold for it, its containers and IPs.
		r.score[n] = model.Add(r.score[n], sc)
		r.allowed[n] = true
		for _, rep := range r.bundle.replicas {
			resourceLocation(rep.ctr, n, sc)
			if rep.ip != nil {
				resourceLocation(rep.ip, n, sc)
			}
		}
		return
	}
	if r.kind != kGroup {
		resourceLocation(r, n, sc)
		return
	}
	r.score[n] = model.Add(r.score[n], sc)
	r.allowed[n] = true
	for i, c := range r.children {
		if i == 0 {
			resourceLocation(c, n, sc)
		} else {
			c.allowed[n] = true
		}
	}
}

// applyNodeHealth turns the nodes' #health-* attributes into a location
// score on every resource, as Pacemaker's node-health-strategy does:
// red, yellow and green map to the strategy's scores (progressive and
// custom take node-health-red/yellow/green, progressive adds
// node-health-base), other values are scores; a node whose sum is 0 is
// left alone, and a negative sum spares resources with
// allow-unhealthy-nodes=true.
func (s *sched) applyNodeHealth() {
	o := s.cfg.Options
	strategy := strings.ToLower(o.NodeHealthStrategy)
	opt := func(v string, def model.Score) model.Score {
		if v == "" {
			return def
		}
		sc, err := model.ParseScore(v)
		if err != nil {
			s.warnf("node health score %q: %v", v, err)
			return def
		}
		return sc
	}
	var red, yellow, green, base model.Score
	switch strategy {
	case "", "none":
		return
	case "migrate-on-red":
		red = -model.Infinity
	case "only-green":
		red, yellow = -model.Infinity, -model.Infinity
	case "progressive", "custom":
		red, yellow, green = opt(o.NodeHealthRed, -model.Infinity), opt(o.NodeHealthYellow, 0), opt(o.NodeHealthGreen, 0)
		if strategy == "progressive" {
			base = opt(o.NodeHealthBase, 0)
		}
	default:
		s.warnf("node-health-strategy=%s is not known: node health ignored", o.NodeHealthStrategy)
		return
	}
	for _, n := range s.nodes {
		health := base
		for _, k := range model.SortedKeys(n.attrs) {
			if !strings.HasPrefix(k, "#health") {
				continue
			}
			v := n.attrs[k]
			switch strings.ToLower(v) {
			case "red":
				health = model.Add(health, red)
			case "yellow":
				health = model.Add(health, yellow)
			case "green":
				health = model.Add(health, green)
			default:
				sc, err := model.ParseScore(v)
				if err != nil {
					s.warnf("node %s: %s=%q is not a health value", n.name, k, v)
					continue
				}
				health = model.Add(health, sc)
			}
		}
		if health == 0 {
			continue
		}
		for _, r := range s.top {
			if health < 0 && s.metaBool(r, "allow-unhealthy-nodes", false) {
				continue
			}
			s.locate(r, n.idx, health)
		}
	}
}
