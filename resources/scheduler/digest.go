package scheduler

import (
	"fmt"
	"slices"
	"strings"

	"palisade/resources/model"
)

// applyDefinitionChanges compares the parameters every active copy of a
// managed primitive runs with (its recorded digests) with the configured
// ones, as Pacemaker's pcmk__check_action_config does for a start: a
// change of a parameter a reload cannot apply (or any change, when the
// agent cannot reload) restarts the resource; a change of reloadable
// parameters alone reloads it in place, unless it stops there anyway.
// Copies with no recorded digest are not compared. Like Pacemaker, only
// nodes that can run resources are checked (elsewhere the resource moves
// away anyway), and a failed copy is recovered rather than reloaded.
func (s *sched) applyDefinitionChanges() {
	for _, p := range s.prims {
		if p.pinned || !p.managed || p.cfg == nil {
			continue
		}
		for _, a := range p.running {
			if !s.avail[a.node] {
				continue
			}
			change := model.CompareParams(a.ran, p.cfg.Params)
			if change == model.ParamsRestart || change == model.ParamsReload && a.failed {
				p.restart = true
				p.defChange = "restart"
				p.defChanged = model.ChangedParams(a.ran, p.cfg.Params)
			} else if change == model.ParamsReload && p.defChange != "restart" {
				p.defChange = "reload"
				p.defChanged = model.ChangedParams(a.ran, p.cfg.Params)
				p.reloadOn = append(p.reloadOn, a.node)
			}
		}
		if p.defChange == "restart" {
			p.reloadOn = nil
		}
	}
}

// definitionReason is the reason of a reload or of a restart's start.
func (p *rsc) definitionReason() string {
	why := "resource definition change"
	if len(p.defChanged) > 0 {
		why += ": " + strings.Join(p.defChanged, ", ")
	} else {
		why += ": private parameters"
	}
	return why
}

// reloads reports whether p is reloaded on node n (kept there, nothing
// else restarts it).
func (p *rsc) reloads(n int) bool {
	return p.defChange == "reload" && !p.restart && slices.Contains(p.reloadOn, n)
}

// addReload adds the in-place reload of a kept primitive (Pacemaker's
// reload-agent action; the node runs the agent's reload-agent or, for an
// OCF 1.0 agent, reload) and reschedules its recurring monitors after it.
func (s *sched) addReload(g *graph, p *rsc, node string) *Action {
	a := g.add(&Action{Key: key(p.id, "reload-agent", 0), Op: "reload-agent", Rsc: p.id, Node: node, Reason: p.definitionReason()})
	s.addMonitors(g, p, a, node, p.nextRole)
	return a
}

func reloadSummary(p *rsc, node string) string {
	return fmt.Sprintf("Reload %s ( %s )", p.id, node)
}
