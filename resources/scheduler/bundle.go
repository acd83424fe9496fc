package scheduler

import (
	"fmt"
	"strconv"
	"strings"

	"palisade/resources/model"
)

// Bundles, as Pacemaker expands them (lib/pengine/bundle.c): each of the
// bundle's replicas is a container primitive ID-RUNTIME-N, with an
// IPaddr2 primitive ID-ip-ADDR when the bundle has an IP range, and, when
// the bundle holds a primitive, a Pacemaker Remote connection ID-N inside
// the container and the guest node of that name, where instance N of the
// primitive's clone (ID-clone, or ID-master when promotable) runs. The
// containers are placed like clone instances (active ones where they
// are), each replica's IP and connection with its container, then each
// instance on its replica's node; bundle nodes run nothing else.

type bundleData struct {
	replicas []*replica
	child    *rsc // the clone of the bundled primitive
	perHost  int
}

type replica struct {
	ctr, ip, conn, inst *rsc
	node                *node // guest node (with conn)
}

// bundleReplicas is the replica count of a bundle's configuration:
// replicas, else promoted-max, else 1.
func bundleReplicas(cfg *model.Resource) int {
	b := cfg.Bundle
	if b == nil {
		return 1
	}
	if b.Replicas > 0 {
		return min(b.Replicas, maxInstances)
	}
	return max(1, min(b.PromotedMax, maxInstances))
}

// bundleNodes adds the guest node of every replica of a bundle that holds
// a primitive (they exist whether or not the status mentions them).
func (s *sched) bundleNodes(add func(string) *node) {
	for _, r := range s.cfg.Resources {
		if r == nil || r.KindOf() != model.KindBundle || len(r.Members) == 0 {
			continue
		}
		for i := 0; i < bundleReplicas(r); i++ {
			name := r.ID + "-" + strconv.Itoa(i)
			n := add(name)
			n.remote, n.connID, n.bundle = true, name, true
			s.hasRemote = true
		}
	}
}

// nextIP is Pacemaker's next_ip: the next IPv4 address of a bundle's
// range (the last octet runs to 254, then the third one carries).
func nextIP(ip string) string {
	var o [4]int
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return ""
	}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 255 {
			return ""
		}
		o[i] = v
	}
	switch {
	case o[2] > 253:
		return ""
	case o[3] > 253:
		o[2]++
		o[3] = 1
	default:
		o[3]++
	}
	return fmt.Sprintf("%d.%d.%d.%d", o[0], o[1], o[2], o[3])
}

// expandBundle creates a bundle's replicas and the clone of its primitive.
func (s *sched) expandBundle(b *rsc) {
	cfg := b.cfg.Bundle
	if cfg == nil {
		cfg = &model.Bundle{}
	}
	runtime := strings.ToLower(cfg.Runtime)
	if runtime == "" {
		runtime = "docker"
	}
	n := bundleReplicas(b.cfg)
	bd := &bundleData{perHost: max(1, cfg.ReplicasPerHost)}
	b.bundle = bd
	var member *model.Resource
	if len(b.cfg.Members) > 0 {
		member = b.cfg.Members[0]
	}
	ip := ""
	for i := 0; i < n; i++ {
		rep := &replica{}
		suffix := strconv.Itoa(i)
		ctr := &model.Resource{ID: b.id + "-" + runtime + "-" + suffix, Class: "ocf", Provider: "heartbeat", Type: runtime,
			Ops: []model.Op{{Name: "monitor", Interval: model.Duration(60e9)}}}
		if member != nil {
			// The bundled primitive's utilization is the container's.
			ctr.Utilization = member.Utilization
		}
		rep.ctr = s.newRsc(ctr, ctr.ID, b)
		b.children = append(b.children, rep.ctr)
		if cfg.IPRangeStart != "" {
			if ip == "" {
				ip = cfg.IPRangeStart
			} else {
				ip = nextIP(ip)
			}
			if ip != "" {
				ipr := &model.Resource{ID: b.id + "-ip-" + ip, Class: "ocf", Provider: "heartbeat", Type: "IPaddr2",
					Params: map[string]string{"ip": ip}, Ops: []model.Op{{Name: "monitor", Interval: model.Duration(60e9)}}}
				rep.ip = s.newRsc(ipr, ipr.ID, b)
				b.children = append(b.children, rep.ip)
			}
		}
		if member != nil {
			conn := &model.Resource{ID: b.id + "-" + suffix, Class: "ocf", Provider: "pacemaker", Type: "remote",
				Meta: map[string]string{"container": ctr.ID}, Ops: []model.Op{{Name: "monitor", Interval: model.Duration(30e9)}}}
			rep.conn = s.newRsc(conn, conn.ID, b)
			b.children = append(b.children, rep.conn)
			rep.node = s.byName[conn.ID]
		}
		bd.replicas = append(bd.replicas, rep)
	}
	if member == nil {
		return
	}
	kind := "clone"
	meta := map[string]string{"clone-max": strconv.Itoa(n), "clone-node-max": strconv.Itoa(bd.perHost),
		"globally-unique": strconv.FormatBool(bd.perHost > 1)}
	if cfg.PromotedMax > 0 {
		kind = "master"
		meta["promotable"] = "true"
		meta["promoted-max"] = strconv.Itoa(cfg.PromotedMax)
	}
	// The primitive's utilization went to the containers.
	m := *member
	m.Utilization = nil
	cc := &model.Resource{ID: b.id + "-" + kind, Kind: model.KindClone, Meta: meta, Members: []*model.Resource{&m}}
	c := s.newRsc(cc, cc.ID, b)
	b.children = append(b.children, c)
	bd.child = c
	c.cloneMax, c.cloneNodeMax = n, bd.perHost
	c.promotable = cfg.PromotedMax > 0
	c.promotedMax, c.promotedNodeMax = cfg.PromotedMax, 1
	c.unique = bd.perHost > 1
	for i, rep := range bd.replicas {
		inst := s.newRsc(&m, m.ID+":"+strconv.Itoa(i), c)
		inst.base = m.ID
		c.children = append(c.children, inst)
		rep.inst = inst
		c.instanceHosts = append(c.instanceHosts, rep.conn.id)
	}
}

// bundleOf is the bundle r belongs to (nil if none).
func bundleOf(r *rsc) *rsc {
	for q := r.parent; q != nil; q = q.parent {
		if q.kind == kBundle {
			return q
		}
	}
	return nil
}

// isContainer: r is a replica's container.
func isContainer(r *rsc) bool {
	if r.parent == nil || r.parent.kind != kBundle {
		return false
	}
	for _, rep := range r.parent.bundle.replicas {
		if rep.ctr == r {
			return true
		}
	}
	return false
}

// bundleInternals colocates and orders each replica's parts: its IP and
// its connection with its container (the connection only strongly, so it
// may follow a container on a remote node), the IP starting first.
func (s *sched) bundleInternals(add func(*coloc)) {
	for _, b := range s.top {
		if b.kind != kBundle {
			continue
		}
		for _, rep := range b.bundle.replicas {
			if rep.ip != nil {
				add(&coloc{id: b.id + ":ip-with-container", dep: rep.ip, pri: rep.ctr, score: model.Infinity, influence: true})
			}
			if rep.conn != nil {
				add(&coloc{id: b.id + ":remote-with-container", dep: rep.conn, pri: rep.ctr, score: 10000, influence: true})
			}
		}
	}
}

func (s *sched) bundleOrders() []orderRule {
	var out []orderRule
	for _, b := range s.top {
		if b.kind != kBundle {
			continue
		}
		for _, rep := range b.bundle.replicas {
			if rep.ip != nil {
				out = append(out, orderRule{id: b.id + ":replica", first: rep.ip, then: rep.ctr, fa: "start", ta: "start", kind: "Mandatory", sym: true})
			}
			if rep.conn != nil {
				out = append(out, orderRule{id: b.id + ":replica", first: rep.ctr, then: rep.conn, fa: "start", ta: "start", kind: "Mandatory", sym: true})
			}
		}
	}
	return out
}

// banBundleNodes keeps everything but each replica's own instance off the
// bundle nodes (Pacemaker gives them weight -INFINITY).
func (s *sched) banBundleNodes() {
	var bn []int
	for _, n := range s.nodes {
		if n.bundle {
			bn = append(bn, n.idx)
		}
	}
	if len(bn) == 0 {
		return
	}
	for _, r := range s.byIDOrdered() {
		for _, i := range bn {
			if r.allowed[i] {
				r.score[i] = -model.Infinity
			}
		}
	}
}

// bundleAssign is pcmk__bundle_allocate.
func (s *sched) bundleAssign(b *rsc) {
	if !b.provisional || b.allocating {
		return
	}
	b.allocating = true
	bd := b.bundle
	s.record(b)
	ctrs := make([]*rsc, 0, len(bd.replicas))
	for _, rep := range bd.replicas {
		ctrs = append(ctrs, rep.ctr)
	}
	s.assignInstances(b, ctrs, len(bd.replicas), bd.perHost)
	if bd.child != nil {
		bd.child.allocating = true
	}
	for _, rep := range bd.replicas {
		if rep.ip != nil {
			s.assign(rep.ip, -1)
		}
		if rep.conn != nil {
			if h := rep.ctr.assigned; h >= 0 && s.nodes[h].conn != nil {
				// A connection nested in a remote node runs where that
				// node's connection runs.
				c := &coloc{id: b.id + ":child-remote-with-docker-remote", dep: rep.conn, pri: s.nodes[h].conn, score: model.Infinity, influence: true}
				rep.conn.thisWith = append(rep.conn.thisWith, c)
				c.pri.withThis = append(c.pri.withThis, c)
			}
			s.assign(rep.conn, -1)
		}
		if rep.inst != nil && rep.node != nil {
			inst := rep.inst
			for i := range inst.score {
				if i != rep.node.idx {
					inst.score[i] = -model.Infinity
				} else if !s.thresholdReached(inst, i) {
					inst.score[i] = model.Infinity
				}
				inst.allowed[i] = true
			}
			s.primitiveAssign(inst, rep.node.idx)
		}
	}
	if c := bd.child; c != nil {
		for i := range c.score {
			c.allowed[i] = true
			c.score[i] = -model.Infinity
			if s.nodes[i].bundle && bundleOf(s.nodes[i].conn) == b {
				c.score[i] = 0
			}
		}
		c.allocating = false
		s.cloneAssign(c)
	}
	b.allocating = false
	b.provisional = false
}

// thresholdReached: r's fail count on node n reached migration-threshold.
func (s *sched) thresholdReached(r *rsc, n int) bool {
	fc := s.failCount(r, n)
	return r.threshold > 0 && fc > 0 && fc >= r.threshold
}

// applyColocWithBundle applies colocation c of dep with bundle b: with an
// INFINITY score dep may only go where a replica's container (one whose
// instance will be promoted, for the Promoted role) is placed; otherwise
// each container counts like a primitive.
func (s *sched) applyColocWithBundle(dep, b *rsc, c *coloc) {
	if b.provisional {
		return
	}
	if c.score < model.Infinity {
		for _, rep := range b.bundle.replicas {
			s.applyColocToWeights(dep, rep.ctr, c)
		}
		return
	}
	var keep []int
	for _, rep := range b.bundle.replicas {
		if rep.ctr.assigned < 0 || rep.ctr.failBlocked {
			continue
		}
		if c.priRole == model.RolePromoted && (rep.inst == nil || rep.inst.nextRole != model.RolePromoted) {
			continue
		}
		keep = append(keep, rep.ctr.assigned)
	}
	s.exclude(dep, keep, c.attr)
}

// currentNodeOf is where r (or the first of its primitives) is active now.
func currentNodeOf(r *rsc) int {
	for _, p := range leaves(r, nil) {
		if len(p.running) > 0 {
			return p.running[0].node
		}
	}
	return -1
}
