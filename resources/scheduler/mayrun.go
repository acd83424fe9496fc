package scheduler

import (
	"slices"

	"palisade/resources/model"
)

// MayRun lists, for every primitive of cfg (by its configured id), the
// nodes it may run on at all when every node is up and nothing failed:
// those its location constraints (and those of its group or clone, rules
// included) and symmetric-cluster do not forbid. Colocations and current
// placement are left out: they decide where it runs, not where it could.
// This is where its parameters must be valid (an interface its VIP names,
// for instance, must exist on each of these nodes).
func MayRun(cfg *model.Config, nodes []string) map[string][]string {
	st := &model.Status{}
	for _, n := range nodes {
		st.Nodes = append(st.Nodes, model.NodeState{Name: n, State: model.NodeOnline})
	}
	s := &sched{cfg: cfg, st: st}
	s.buildOptions()
	s.buildNodes()
	s.buildResources()
	s.applyStatus()
	s.prepare()
	s.applyLocations()
	out := map[string][]string{}
	for _, p := range s.prims {
		if p.cfg == nil {
			continue
		}
		id := p.cfg.ID
		if _, ok := out[id]; !ok {
			out[id] = []string{}
		}
		for _, n := range s.nodes {
			ok := true
			for x := p; x != nil; x = x.parent {
				ok = ok && x.allowed[n.idx] && x.score[n.idx] > -model.Infinity
			}
			if ok && !slices.Contains(out[id], n.name) {
				out[id] = append(out[id], n.name)
			}
		}
	}
	return out
}
