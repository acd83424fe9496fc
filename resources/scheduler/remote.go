package scheduler

import (
	"palisade/resources/model"
)

// remoteEdges orders actions on remote nodes around their connections:
// what starts or is promoted there waits for the connection to start,
// what stops there (while the connection is up) goes before the
// connection stops, and a guest's pseudo fence follows its container's
// stop.
func (s *sched) remoteEdges(g *graph, fence map[int]*Action) {
	for _, n := range s.nodes {
		if n.conn == nil {
			continue
		}
		if f := fence[n.idx]; f != nil && f.Pseudo && n.ctr != nil {
			for _, c := range leaves(n.ctr, nil) {
				for _, a := range s.actionsOf(g, c, "stop") {
					g.after(f, a)
				}
			}
		}
		connStarts := s.actionsOf(g, n.conn, "start")
		connStops := s.actionsOf(g, n.conn, "stop")
		if len(connStarts) == 0 && len(connStops) == 0 {
			continue
		}
		for _, p := range s.prims {
			if p == n.conn {
				continue
			}
			for _, a := range g.byRsc[p.id] {
				if a.Node != n.name {
					continue
				}
				switch a.Op {
				case "start", "promote", "monitor":
					for _, c := range connStarts {
						g.after(a, c)
					}
				case "stop", "demote":
					if a.Pseudo {
						continue
					}
					for _, c := range connStops {
						g.after(c, a)
					}
				}
			}
		}
	}
}

// Pacemaker Remote. A remote node is present while its connection
// resource runs (on a cluster node); a guest node also lives inside a
// container resource (a VM or container) that its connection runs with.
// As in Pacemaker:
//   - a node's state comes from its connection: online while the
//     connection is active and has not failed (for a guest, while its
//     container is active and has not failed, and its host is not lost);
//   - connections are placed before every other resource, and a node
//     whose connection is placed is online for the rest of the placement
//     (so resources may start there in the same transition), one whose
//     connection is not placed is shutting down;
//   - connections and fence devices never run on remote nodes, and a
//     guest's container runs on cluster nodes only;
//   - a remote node is fenced like a cluster node, except that being
//     unseen (start-up fencing) or having resources thought active while
//     its connection is down is forgiven when the connection is placed; a
//     guest node is "fenced" by recovering its container.

// remoteStatus links remote nodes to their connections and decides their
// state from the status (determine_remote_online_status).
func (s *sched) remoteStatus() {
	for _, n := range s.nodes {
		if !n.remote {
			continue
		}
		n.online, n.unclean = false, false
		conn := s.byID[n.connID]
		if conn == nil || conn.kind != kPrimitive || conn.parent != nil && conn.parent.kind != kBundle {
			// A stale entry: no connection, never online.
			continue
		}
		n.conn, conn.remoteOf = conn, n
		if c, _ := s.metaOf(conn, "container"); c != "" && s.byID[c] != nil && s.byID[c] != conn {
			n.ctr = s.byID[c]
		}
		if !conn.managed {
			n.maintenance = true
		}
		started, failed := len(conn.running) > 0, false
		for _, a := range conn.running {
			failed = failed || a.failed
		}
		up := started && (!n.guest() || anyRunning(n.ctr))
		if !up && !s.stonith {
			// Pacemaker reads the history of a node whose connection is
			// down only to find what needs fencing: without fencing,
			// nothing is known to run there.
			s.forgetActiveOn(n.idx)
		}
		n.online = started
		if started && conn.targetRole == model.RoleStopped {
			n.shutdown = true
		}
		switch {
		case n.guest() && anyFailedCopy(n.ctr):
			n.online, n.reset = false, true
		case failed:
			n.online = false
		case !up:
			n.online = false
		case n.guest() && len(conn.running) == 1:
			if h := s.nodes[conn.running[0].node]; !h.online && h.unclean {
				n.online, n.reset = false, true
			}
		}
		if !n.guest() && !n.seen && s.stonith {
			// Start-up fencing: unclean until seen, or until its
			// connection is placed.
			n.unclean, n.unseen = true, true
			n.fenceReason = "peer has not been seen by the cluster"
		}
	}
}

func anyFailedCopy(r *rsc) bool {
	for _, p := range leaves(r, nil) {
		for _, a := range p.running {
			if a.failed {
				return true
			}
		}
	}
	return false
}

// forgetActiveOn drops what the status says runs on node n.
func (s *sched) forgetActiveOn(n int) {
	for _, p := range s.prims {
		kept := p.running[:0]
		for _, a := range p.running {
			if a.node != n {
				kept = append(kept, a)
			}
		}
		p.running = kept
	}
}

// thoughtActiveRemote handles a managed resource active on a remote node
// that is down: a guest is fenced by recovering its container (and the
// resource recovers), a remote node must be fenced unless its connection
// comes back (fencing disabled: nothing).
func (s *sched) thoughtActiveRemote(p *rsc, a *active, n *node) {
	if n.guest() {
		a.failed = true
		s.resetGuest(n, p.id+" is thought to be active there")
		return
	}
	if !s.stonith {
		return
	}
	if n.conn != nil && !anyFailedCopy(n.conn) {
		n.unseen = true
	}
	if !n.unclean {
		n.unclean = true
		n.fenceReason = p.id + " is active there (fencing will be revoked if remote connection can be re-established elsewhere)"
		s.warnf("remote node %s is down but %s is thought to be active there: node must be fenced unless its connection comes back", n.name, p.id)
	}
}

// resetGuest "fences" a guest node: its container is recovered.
func (s *sched) resetGuest(n *node, why string) {
	if n.reset || !n.ctr.managed {
		return
	}
	n.reset = true
	if n.fenceReason == "" {
		n.fenceReason = why
	}
	for _, p := range leaves(n.ctr, nil) {
		for i := range p.running {
			p.running[i].failed = true
		}
	}
}

// avoidRemoteNodes bans connections, fence devices and guests'
// containers from every remote node (rsc_avoids_remote_nodes).
func (s *sched) avoidRemoteNodes() {
	ban := func(r *rsc) {
		for _, n := range s.nodes {
			if n.remote && r.allowed[n.idx] {
				resourceLocation(r, n.idx, -model.Infinity)
			}
		}
	}
	for _, p := range s.prims {
		if p.remoteOf != nil || isFenceDevice(p) {
			ban(p)
		}
	}
	for _, n := range s.nodes {
		// A bundle's containers may run on remote nodes.
		if n.ctr != nil && !n.bundle {
			ban(n.ctr)
		}
	}
}

func isFenceDevice(p *rsc) bool { return p.cfg != nil && eqFold(p.cfg.Class, "stonith") }

// connectionPlaced updates a remote node once its connection is placed
// (Pacemaker's remote_connection_assigned): online for the rest of the
// placement, and forgiven an unseen uncleanness; or shutting down.
func (s *sched) connectionPlaced(conn *rsc) {
	n := conn.remoteOf
	if conn.assigned >= 0 && conn.nextRole != model.RoleStopped {
		n.online = true
		if n.unseen {
			n.unclean = false
		}
	} else {
		n.shutdown = true
	}
	s.avail[n.idx] = n.available()
}

// settleRemoteFencing runs once every connection is placed: a remote node
// still unclean is fenced (or, unable to be, its resources stay blocked);
// one whose connection cannot run anywhere after its cluster node was
// lost, or that failed, is fenced when resources are active on it.
func (s *sched) settleRemoteFencing(canFence bool) {
	for _, n := range s.nodes {
		if !n.remote || n.guest() || n.fenced {
			continue
		}
		if !n.unclean && n.conn != nil && !s.connectionWillRun(n.conn) && s.activeOn(n.idx) {
			host := -1
			if len(n.conn.running) == 1 {
				host = n.conn.running[0].node
			}
			if host >= 0 && s.nodes[host].unclean || anyFailedCopy(n.conn) {
				n.unclean = true
				n.unseen = false
				n.fenceReason = "resources are active but connection is unrecoverable"
			}
		}
		if !n.unclean {
			continue
		}
		if canFence {
			n.fenced = true
			s.avail[n.idx] = false
			continue
		}
		s.warnf("remote node %s is unclean and cannot be fenced: its resources stay blocked", n.name)
		for _, p := range s.prims {
			for _, a := range p.running {
				if a.node == n.idx && !p.pinned {
					p.pin(a.node, a.role)
					p.blocked = true
				}
			}
		}
	}
}

func (s *sched) connectionWillRun(conn *rsc) bool {
	return conn.assigned >= 0 && conn.nextRole != model.RoleStopped
}

func (s *sched) activeOn(n int) bool {
	for _, p := range s.prims {
		for _, a := range p.running {
			if a.node == n {
				return true
			}
		}
	}
	return false
}

// remoteOrders: what is placed on a remote node can start only if the
// node's connection can (and, in a guest, its container: a container
// that restarts restarts what runs inside it).
func (s *sched) remoteOrders() []orderRule {
	var out []orderRule
	for _, p := range s.prims {
		if p.assigned < 0 || p.pinned {
			continue
		}
		n := s.nodes[p.assigned]
		if n.conn == nil || n.conn == p {
			continue
		}
		out = append(out, orderRule{id: n.name + ":connection", first: n.conn, then: p, fa: "start", ta: "start", kind: "Mandatory", sym: true, implicit: true, noEdges: true})
		if n.ctr != nil {
			out = append(out, orderRule{id: n.name + ":container", first: n.ctr, then: p, fa: "start", ta: "start", kind: "Mandatory", noEdges: true})
		}
	}
	return out
}
