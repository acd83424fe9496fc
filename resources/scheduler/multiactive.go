package scheduler

import (
	"slices"
	"strings"

	"palisade/resources/model"
)

// Values of the multiple-active meta attribute: what to do with a
// primitive found active on more than one node (for example a node that
// booted with a service it should not have started).
const (
	// maStopStart (Pacemaker's default) stops every copy, then starts one
	// on the chosen node: no copy is trusted to be in a sane state.
	maStopStart = "stop_start"
	// maStopOnly stops every copy and keeps the resource stopped.
	maStopOnly = "stop_only"
	// maBlock leaves every copy alone (unmanaged) and blocks its start, so
	// nothing that must start after it can start.
	maBlock = "block"
	// maStopUnexpected (Pacemaker 2.1.3+) stops only the copies on nodes
	// other than the chosen one; the chosen copy keeps running.
	maStopUnexpected = "stop_unexpected"
)

// multipleActiveOf is r's multiple-active policy (own meta, then parents,
// then rsc_defaults; unknown values fall back to the default).
func (s *sched) multipleActiveOf(r *rsc) string {
	v, ok := s.metaOf(r, "multiple-active")
	if !ok {
		return maStopStart
	}
	switch pol := strings.ToLower(strings.TrimSpace(v)); pol {
	case maStopStart, maStopOnly, maBlock, maStopUnexpected:
		return pol
	default:
		s.warnf("resource %s: multiple-active=%q unknown (want stop_start, stop_only, block, stop_unexpected): using stop_start", r.id, v)
		return maStopStart
	}
}

// multipleActive applies multiple-active to managed primitive p, active on
// more than one node. It reports whether p is now pinned (block), so the
// caller leaves it alone.
func (s *sched) multipleActive(p *rsc) bool {
	var where []string
	for _, a := range p.running {
		where = append(where, s.nodes[a.node].name)
	}
	on := strings.Join(where, " ")
	switch pol := s.multipleActiveOf(p); pol {
	case maBlock:
		s.warnf("resource %s is active on %s: multiple-active=block: left alone, blocked", p.id, on)
		s.blockInPlace(p)
		// A group that is itself multiple-active=block is blocked as a
		// whole, as in Pacemaker; otherwise only this member is.
		if g := p.parent; g != nil && g.kind == kGroup && s.multipleActiveOf(g) == maBlock {
			for _, m := range g.children {
				if m != p && m.kind == kPrimitive {
					s.blockInPlace(m)
				}
			}
		}
		return true
	case maStopOnly:
		s.warnf("resource %s is active on %s: multiple-active=stop_only: stopping every copy", p.id, on)
		// Pacemaker bans it from every node, whatever the constraints say.
		for n := range s.nodes {
			p.score[n] = -model.Infinity
			p.allowed[n] = true
		}
	case maStopUnexpected:
		s.warnf("resource %s is active on %s: multiple-active=stop_unexpected: stopping the copies on other nodes than the chosen one", p.id, on)
	default:
		s.warnf("resource %s is active on %s: multiple-active=stop_start: stopping every copy, then starting one", p.id, on)
		p.restart = true
		p.multiRestart = true
	}
	return false
}

// blockInPlace leaves primitive p unmanaged wherever it is active, with
// its start unrunnable.
func (s *sched) blockInPlace(p *rsc) {
	p.unmanaged = true
	p.startBlocked = true
	if len(p.running) == 0 {
		p.pin(-1, model.RoleStopped)
		return
	}
	p.pin(p.running[0].node, p.running[0].role)
	p.stayEverywhere()
}

// stayEverywhere records the further nodes a pinned p stays active on.
func (p *rsc) stayEverywhere() {
	p.alsoOn = p.alsoOn[:0]
	for _, a := range p.running {
		if a.node != p.pinNode && !slices.Contains(p.alsoOn, a.node) {
			p.alsoOn = append(p.alsoOn, a.node)
		}
	}
}
