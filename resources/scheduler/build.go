package scheduler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"palisade/resources/model"
)

type kind int

const (
	kPrimitive kind = iota
	kGroup
	kClone
	kBundle
)

type node struct {
	idx         int
	name        string
	id          string // cluster layer id (#id)
	dc          bool
	shutdown    bool // shutting down cleanly: runs nothing more
	pending     bool // joining: nothing can be probed there yet
	probed      map[string]bool
	attrs       map[string]string
	capacity    map[string]int
	used        map[string]int
	online      bool
	standby     bool
	maintenance bool
	unclean     bool
	fenced      bool // will be fenced by this transition
	fenceReason string
	numRsc      int
	count       int // clone instances assigned (scratch)

	// Pacemaker Remote: a remote or guest node, present while its
	// connection conn runs (a guest node also needs its container ctr).
	remote bool
	connID string
	conn   *rsc
	ctr    *rsc
	// seen: the status has an entry for it; unseen: unclean only until
	// its connection is placed (start-up fencing, or resources thought
	// active there while the connection may come back); reset: a guest
	// whose container must be recovered (its "fencing").
	seen, unseen, reset bool
	bundle              bool // a bundle replica's node: runs only its instance
}

func (n *node) guest() bool { return n.ctr != nil }

// available is pcmk__node_available without the score check.
func (n *node) available() bool {
	return n.online && !n.unclean && !n.standby && !n.maintenance && !n.shutdown
}

func (n *node) attr(name string) (string, bool) {
	switch name {
	case "#uname", "":
		return n.name, true
	case "#id":
		if n.id != "" {
			return n.id, true
		}
		return n.name, true
	case "#is_dc":
		if n.dc {
			return "true", true
		}
		return "false", true
	case "#kind":
		switch {
		case n.guest():
			return "container", true
		case n.remote:
			return "remote", true
		}
		return "cluster", true
	}
	v, ok := n.attrs[name]
	return v, ok
}

type active struct {
	node   int
	role   string
	failed bool
	// ran is the status entry: the parameters it runs with (digests).
	ran model.ResourceStatus
}

type rsc struct {
	id       string
	kind     kind
	cfg      *model.Resource
	parent   *rsc
	children []*rsc
	meta     map[string]string
	order    int // position in configuration

	priority       int
	stickiness     model.Score
	threshold      model.Score
	failureTimeout time.Duration
	managed        bool
	targetRole     string
	critical       bool
	requires       string // nothing, quorum, fencing or unfencing
	util           map[string]int

	// remoteOf: this primitive is the connection of that Pacemaker
	// Remote node.
	remoteOf *node
	bundle   *bundleData // kBundle

	// clone settings
	cloneMax, cloneNodeMax       int
	promotable                   bool
	promotedMax, promotedNodeMax int
	unique, interleave           bool
	base                         string // primitive id without ":N"
	instanceHosts                []string
	orphan                       bool

	score   []model.Score // allowed node scores
	allowed []bool
	// exclusive: a location with resource-discovery=exclusive applies;
	// discover marks the nodes such locations name.
	exclusive bool
	discover  []bool

	running  []active
	failures []failure

	provisional bool
	allocating  bool
	merging     bool
	assigned    int // node index, -1 = stopped
	nextRole    string
	blocked     bool // pinned to an unclean node that cannot be fenced
	pinned      bool // stays where it is, no actions (unmanaged, blocked, frozen)
	pinNode     int
	noRun       bool // may not start anywhere (quorum policy)
	unmanaged   bool // pinned because unmanaged or on a maintenance node
	// alsoOn are further nodes a pinned resource stays active on (left
	// alone while multiply active: is-managed=false, multiple-active=block).
	alsoOn []int
	// startBlocked: multiple-active=block makes the start unrunnable, so
	// whatever must start after it (later group members, orders) cannot.
	startBlocked bool
	// multiRestart: multiply active with multiple-active=stop_start, so
	// every copy stops and one starts again.
	multiRestart bool
	onFailStop   bool
	// failBlocked: left where it failed (on-fail=block, or a failed stop
	// without fencing); its actions cannot run, so what is ordered after
	// it cannot start.
	failBlocked bool
	promo       model.Score
	rec         []model.Score
	recAllowed  []bool
	allColoc    bool

	thisWith []*coloc // this is the dependent
	withThis []*coloc // this is the primary

	// transition
	restart bool
	// defChange: the configured parameters differ from those a copy runs
	// with (digests): "restart" or "reload", with the names that changed
	// (see applyDefinitionChanges); reloadOn are the nodes to reload on.
	defChange  string
	defChanged []string
	reloadOn   []int
}

type failure struct {
	node  int
	op    string
	count model.Score
	last  time.Time
}

type coloc struct {
	id        string
	dep, pri  *rsc
	score     model.Score
	depRole   string
	priRole   string
	attr      string
	influence bool
}

type sched struct {
	cfg      *model.Config
	st       *model.Status
	now      time.Time
	nodes    []*node
	byName   map[string]*node
	top      []*rsc
	byID     map[string]*rsc
	prims    []*rsc // every primitive incl. instances, in tree order
	warnings []string

	symmetric      bool
	stonith        bool
	quorate        bool
	noQuorum       string
	strategy       string
	startFatal     bool
	stonithAction  string
	promoLocations []model.Location
	orphans        []orphan
	blockedBy      []string
	recOrder       []recEntry
	avail          []bool // node can run resources (fixed once prepared)
	wantScores     bool
	ticketDeps     []ticketDep
	stopAll        bool
	hasRemote      bool
	canFence       bool
	anyExclusive   bool
}

func (s *sched) warnf(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

func boolOpt(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func (s *sched) buildOptions() {
	o := s.cfg.Options
	// Pacemaker's defaults, from the one place they are kept.
	s.symmetric = o.Symmetric()
	s.stonith = o.Stonith()
	s.startFatal = o.StartFatal()
	s.quorate = !s.st.NoQuorum
	// Under suicide the nodes of the partition fence themselves (the
	// recovery gate); what they run stops, as under stop.
	s.noQuorum = string(o.QuorumPolicy())
	s.strategy = o.Placement()
	s.stonithAction = o.FenceAction()
	for _, p := range o.WordProblems() {
		switch p.Option {
		case model.OptNoQuorumPolicy:
			s.warnf("no-quorum-policy=%s is not supported: using stop", p.Value)
		case model.OptPlacementStrategy:
			s.warnf("placement-strategy=%s is not supported: using default", p.Value)
		}
	}
}

func (s *sched) buildNodes() {
	s.byName = map[string]*node{}
	add := func(name string) *node {
		if n, ok := s.byName[name]; ok {
			return n
		}
		n := &node{name: name, attrs: map[string]string{}, capacity: map[string]int{}, used: map[string]int{}}
		s.byName[name] = n
		s.nodes = append(s.nodes, n)
		return n
	}
	for _, cn := range s.cfg.Nodes {
		n := add(cn.Name)
		for k, v := range cn.Attributes {
			n.attrs[k] = v
		}
		for k, v := range cn.Utilization {
			n.capacity[k] = v
		}
		n.standby = n.standby || cn.Standby
		n.maintenance = n.maintenance || cn.Maintenance
		n.id = cn.ID
		if cn.Connection != "" {
			n.remote, n.connID = true, cn.Connection
			s.hasRemote = true
		}
	}
	s.bundleNodes(add)
	for _, ns := range s.st.Nodes {
		n := add(ns.Name)
		for k, v := range ns.Attributes {
			n.attrs[k] = v
		}
		switch ns.State {
		case model.NodeOnline, "":
			n.online = true
		case model.NodeUnclean:
			n.unclean = true
		case model.NodeOffline:
		default:
			s.warnf("node %s: state %q unknown (want online, offline, unclean): treated as unclean", ns.Name, ns.State)
			n.unclean = true
		}
		n.standby = n.standby || ns.Standby
		n.maintenance = n.maintenance || ns.Maintenance
		n.shutdown = n.shutdown || ns.Shutdown && (n.online || n.remote)
		n.seen = true
		if ns.Pending && n.online {
			n.pending = true
			n.probed = map[string]bool{}
			for _, r := range ns.Probed {
				n.probed[r] = true
			}
		}
		n.dc = ns.Name == s.st.DC
		if v, ok := model.ParseBool(ns.Attributes["standby"]); ok && v {
			n.standby = true
		}
	}
	// Node order is by name so every tie-break is independent of input order.
	sort.Slice(s.nodes, func(i, j int) bool { return s.nodes[i].name < s.nodes[j].name })
	for i, n := range s.nodes {
		n.idx = i
	}
}

// meta resolution: own meta, then parents, then rsc_defaults.
func (s *sched) metaOf(r *rsc, key string) (string, bool) {
	for p := r; p != nil; p = p.parent {
		if v, ok := p.meta[key]; ok {
			return v, true
		}
	}
	v, ok := s.cfg.RscDefaults[key]
	return v, ok
}

func (s *sched) metaScore(r *rsc, key string, def model.Score) model.Score {
	v, ok := s.metaOf(r, key)
	if !ok {
		return def
	}
	sc, err := model.ParseScore(v)
	if err != nil {
		s.warnf("resource %s: meta %s=%q: %v", r.id, key, v, err)
		return def
	}
	return sc
}

func (s *sched) metaBool(r *rsc, key string, def bool) bool {
	v, ok := s.metaOf(r, key)
	if !ok {
		return def
	}
	b, ok := model.ParseBool(v)
	if !ok {
		s.warnf("resource %s: meta %s=%q is not a boolean", r.id, key, v)
		return def
	}
	return b
}

func (s *sched) metaInt(r *rsc, key string, def int) int {
	v, ok := s.metaOf(r, key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		s.warnf("resource %s: meta %s=%q is not an integer", r.id, key, v)
		return def
	}
	return n
}

func (s *sched) newRsc(cfg *model.Resource, id string, parent *rsc) *rsc {
	r := &rsc{id: id, cfg: cfg, parent: parent, meta: cfg.Meta, assigned: -1, provisional: true, order: len(s.byID)}
	switch cfg.KindOf() {
	case model.KindGroup:
		r.kind = kGroup
	case model.KindClone:
		r.kind = kClone
	case model.KindBundle:
		r.kind = kBundle
	}
	n := len(s.nodes)
	r.score = make([]model.Score, n)
	r.allowed = make([]bool, n)
	if s.symmetric {
		for i := range r.allowed {
			r.allowed[i] = true
		}
	}
	s.byID[id] = r
	return r
}

func (s *sched) settle(r *rsc) {
	r.priority = s.metaInt(r, "priority", 0)
	def := model.Score(0)
	if s.inClone(r) {
		def = 1 // clones are sticky by default, as in Pacemaker
	}
	r.stickiness = s.metaScore(r, "resource-stickiness", s.metaScore(r, "default-resource-stickiness", def))
	r.threshold = s.metaScore(r, "migration-threshold", model.Infinity)
	if v, ok := s.metaOf(r, "failure-timeout"); ok {
		d, err := model.ParseDuration(v)
		if err != nil {
			s.warnf("resource %s: failure-timeout: %v", r.id, err)
		}
		r.failureTimeout = d
	}
	r.managed = s.metaBool(r, "is-managed", true) && !s.cfg.Options.MaintenanceMode && !s.metaBool(r, "maintenance", false)
	r.critical = s.metaBool(r, "critical", true)
	r.targetRole = model.NormalizeRole(func() string { v, _ := s.metaOf(r, "target-role"); return v }())
	if _, ok := s.metaOf(r, "resource-failure-stickiness"); ok && r.parent == nil {
		s.warnf("resource %s: resource-failure-stickiness is a Heartbeat 2 option replaced by migration-threshold: ignored", r.id)
	}
	r.util = r.cfg.Utilization
	r.requires = s.requiresOf(r)
	if v, ok := r.meta["allow-migrate"]; ok {
		if b, _ := model.ParseBool(v); b {
			s.warnf("resource %s: allow-migrate (live migration) is not supported: it moves by stop and start", r.id)
		}
	}
}

// requiresOf is what starting r needs (Pacemaker's "requires"): quorum
// for fence devices, fencing for other resources (quorum without
// stonith, nothing with no-quorum-policy=ignore).
func (s *sched) requiresOf(r *rsc) string {
	fenceDevice := strings.EqualFold(r.cfg.Class, "stonith")
	def := "quorum"
	switch {
	case fenceDevice:
	case s.stonith:
		def = "fencing"
	case s.noQuorum == "ignore":
		def = "nothing"
	}
	v, ok := s.metaOf(r, "requires")
	if !ok {
		return def
	}
	v = strings.ToLower(v)
	switch v {
	case "nothing", "quorum":
		return v
	case "fencing", "unfencing":
		if fenceDevice || !s.stonith {
			return "quorum"
		}
		return v
	}
	s.warnf("resource %s: requires=%s is not known: using %s", r.id, v, def)
	return def
}

func (s *sched) inClone(r *rsc) bool {
	for p := r.parent; p != nil; p = p.parent {
		if p.kind == kClone {
			return true
		}
	}
	return false
}

// buildResources expands the configuration tree, clones into instances.
func (s *sched) buildResources() {
	s.byID = map[string]*rsc{}
	for _, cr := range s.cfg.Resources {
		if cr == nil {
			continue
		}
		r := s.newRsc(cr, cr.ID, nil)
		s.top = append(s.top, r)
		switch r.kind {
		case kGroup:
			for _, m := range cr.Members {
				c := s.newRsc(m, m.ID, r)
				r.children = append(r.children, c)
			}
		case kClone:
			s.expandClone(r)
		case kBundle:
			s.expandBundle(r)
		}
	}
	var walk func(r *rsc)
	walk = func(r *rsc) {
		s.settle(r)
		for _, c := range r.children {
			walk(c)
		}
		if r.kind == kPrimitive {
			s.prims = append(s.prims, r)
		}
	}
	for _, r := range s.top {
		walk(r)
	}
}

func (s *sched) expandClone(c *rsc) {
	member := c.cfg.Members[0]
	nNodes := len(s.nodes)
	c.cloneMax = s.metaInt(c, "clone-max", nNodes)
	c.cloneNodeMax = s.metaInt(c, "clone-node-max", 1)
	if c.cloneNodeMax > 1 && !s.metaBool(c, "globally-unique", false) {
		s.warnf("clone %s: clone-node-max=%d needs globally-unique=true; anonymous clones run one instance per node", c.id, c.cloneNodeMax)
	}
	c.promotable = s.metaBool(c, "promotable", false) || s.metaBool(c, "master", false)
	c.promotedMax = s.metaInt(c, "promoted-max", s.metaInt(c, "master-max", 1))
	c.promotedNodeMax = s.metaInt(c, "promoted-node-max", s.metaInt(c, "master-node-max", 1))
	c.unique = s.metaBool(c, "globally-unique", false)
	c.interleave = s.metaBool(c, "interleave", false)
	if _, ok := s.metaOf(c, "ordered"); ok {
		s.warnf("clone %s: ordered is not supported: instances start in parallel", c.id)
	}
	// Anonymous instances are numbered in the order their nodes appear in
	// the status; extra active copies beyond clone-max become orphans.
	primIDs := map[string]bool{}
	if member.KindOf() == model.KindGroup {
		for _, m := range member.Members {
			primIDs[m.ID] = true
		}
	} else {
		primIDs[member.ID] = true
	}
	var hostNodes []string
	seen := map[string]bool{}
	maxInst := -1
	for _, rs := range s.st.Resources {
		b, inst := splitInstance(rs.Rsc)
		if !primIDs[b] {
			continue
		}
		if c.unique && inst >= 0 {
			if inst > maxInst {
				maxInst = inst
			}
			continue
		}
		if !seen[rs.Node] {
			seen[rs.Node] = true
			hostNodes = append(hostNodes, rs.Node)
		}
	}
	if c.cloneMax < 0 {
		c.cloneMax = 0
	}
	if c.cloneNodeMax < 1 {
		c.cloneNodeMax = 1
	}
	// Instances beyond what the nodes can hold would only ever be
	// stopped: do not materialize them (a typo such as clone-max=1000000
	// must not allocate a million instances).
	if lim := nNodes * c.nodeLimit(); c.cloneMax > lim && c.cloneMax > 1000 {
		c.cloneMax = lim
	}
	if c.cloneMax > maxInstances {
		c.cloneMax = maxInstances
	}
	if maxInst >= c.cloneMax+len(s.st.Resources) {
		maxInst = c.cloneMax + len(s.st.Resources) - 1
	}
	n := c.cloneMax
	if !c.unique && len(hostNodes) > n {
		n = len(hostNodes)
	}
	if c.unique && maxInst+1 > n {
		n = maxInst + 1
	}
	for i := 0; i < n; i++ {
		suffix := ":" + strconv.Itoa(i)
		inst := s.newRsc(member, member.ID+suffix, c)
		inst.base = member.ID
		inst.orphan = i >= c.cloneMax
		c.children = append(c.children, inst)
		if inst.kind == kGroup {
			for _, m := range member.Members {
				mc := s.newRsc(m, m.ID+suffix, inst)
				mc.base = m.ID
				inst.children = append(inst.children, mc)
			}
		}
	}
	c.instanceHosts = hostNodes
}

// maxInstances bounds clone expansion whatever the configuration says.
const maxInstances = 100000

func splitInstance(id string) (string, int) {
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return id, -1
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return id, -1
	}
	return id[:i], n
}

// leaves returns the primitives under r (r itself for a primitive).
func leaves(r *rsc, out []*rsc) []*rsc {
	if r.kind == kPrimitive {
		return append(out, r)
	}
	for _, c := range r.children {
		out = leaves(c, out)
	}
	return out
}
