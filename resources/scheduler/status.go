package scheduler

import (
	"palisade/resources/model"
)

// applyStatus attaches active resources and failures to primitives.
func (s *sched) applyStatus() {
	for _, rs := range s.st.Resources {
		n, ok := s.byName[rs.Node]
		if !ok {
			s.warnf("status: resource %s active on unknown node %s: ignored", rs.Rsc, rs.Node)
			continue
		}
		p := s.findPrim(rs.Rsc, rs.Node)
		if p == nil {
			if s.cfg.Options.StopOrphans() {
				s.warnf("status: resource %s on %s is not configured (orphan): it will be stopped", rs.Rsc, rs.Node)
			} else {
				s.warnf("status: resource %s on %s is not configured (orphan): left running (stop-orphan-resources=false)", rs.Rsc, rs.Node)
			}
			s.orphans = append(s.orphans, orphan{id: rs.Rsc, node: n.idx, failed: rs.Failed})
			continue
		}
		role := model.NormalizeRole(rs.Role)
		if role == "" || role == model.RoleStarted {
			role = model.RoleStarted
			if s.promotableParent(p) != nil {
				role = model.RoleUnpromoted
			}
		}
		if role == model.RoleStopped {
			continue
		}
		p.running = append(p.running, active{node: n.idx, role: role, failed: rs.Failed, ran: rs})
	}
	for _, f := range s.st.Failures {
		n, ok := s.byName[f.Node]
		if !ok {
			s.warnf("status: failure of %s on unknown node %s: ignored", f.Rsc, f.Node)
			continue
		}
		p := s.findPrim(f.Rsc, f.Node)
		if p == nil {
			b, _ := splitInstance(f.Rsc)
			if r, ok := s.byID[b+":0"]; ok {
				p = r
			} else {
				s.warnf("status: failure of unknown resource %s: ignored", f.Rsc)
				continue
			}
		}
		p.failures = append(p.failures, failure{node: n.idx, op: f.Op, count: f.Count, last: f.LastFailure})
	}
}

type orphan struct {
	id     string
	node   int
	failed bool
}

func (s *sched) promotableParent(p *rsc) *rsc {
	for q := p.parent; q != nil; q = q.parent {
		if q.kind == kClone && q.promotable {
			return q
		}
	}
	return nil
}

// findPrim resolves a status resource id on a node to a primitive or
// clone instance primitive.
func (s *sched) findPrim(id, nodeName string) *rsc {
	if r, ok := s.byID[id]; ok && r.kind == kPrimitive && !s.anonymousInstance(r) {
		return r
	}
	base, _ := splitInstance(id)
	// Anonymous clone: the instance is chosen by the node it runs on.
	for i := 0; ; i++ {
		r, ok := s.byID[base+":"+itoa(i)]
		if !ok || r.kind != kPrimitive {
			break
		}
		inst := r
		if inst.parent != nil && inst.parent.kind == kGroup {
			inst = inst.parent
		}
		clone := inst.parent
		if clone == nil || clone.kind != kClone {
			break
		}
		if clone.unique {
			if rr, ok := s.byID[id]; ok {
				return rr
			}
			return nil
		}
		idx := indexOf(clone.children, inst)
		if idx < len(clone.instanceHosts) && clone.instanceHosts[idx] == nodeName {
			return r
		}
	}
	return nil
}

func (s *sched) anonymousInstance(r *rsc) bool {
	for q := r.parent; q != nil; q = q.parent {
		if q.kind == kClone {
			return !q.unique
		}
	}
	return false
}

func indexOf(list []*rsc, r *rsc) int {
	for i, x := range list {
		if x == r {
			return i
		}
	}
	return -1
}

// failCount is the effective fail count of primitive p on node n:
// failures older than failure-timeout have expired.
func (s *sched) failCount(p *rsc, n int) model.Score {
	var total model.Score
	for _, f := range p.failures {
		if f.node != n {
			continue
		}
		if p.failureTimeout > 0 && !f.last.IsZero() && !s.now.Before(f.last.Add(p.failureTimeout)) {
			continue
		}
		total = model.Add(total, f.count)
	}
	return total
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
