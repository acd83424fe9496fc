package engine

import (
	"slices"
	"strconv"
	"time"

	"palisade/cluster/dc"
	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// PackageScheduler adapts resources/scheduler to the DC: pseudo actions
// (group boundaries, stops implied by fencing) are dissolved into the
// dependencies of the real actions that wait for them, so the DC only
// sees actions someone performs (a member or the fencer).
func PackageScheduler(cfg *model.Config, st model.Status, now time.Time) ([]dc.PlannedAction, error) {
	out := scheduler.Schedule(scheduler.Input{Config: cfg, Status: &st, Now: now})
	return flatten(out.Actions), nil
}

// flatten keeps the real actions and gives each, as After, every real
// action it depends on directly or through a chain of pseudo actions.
// Every ordering between two real actions of the graph is kept, either as
// a direct edge or through other real actions' edges (the transition is a
// DAG, so the closure through pseudo actions is well defined).
func flatten(acts []scheduler.Action) []dc.PlannedAction {
	byID := make(map[int]*scheduler.Action, len(acts))
	for i := range acts {
		byID[acts[i].ID] = &acts[i]
	}
	// through[id] is, for a pseudo action, the set of real actions that
	// reach it through pseudo actions only (memoized per pseudo action,
	// and complete: no visited-set is shared between branches).
	through := map[int][]int{}
	var realDeps func(id int, onPath map[int]bool) []int
	realDeps = func(id int, onPath map[int]bool) []int {
		var out []int
		for _, dep := range byID[id].After {
			d, ok := byID[dep]
			if !ok {
				continue
			}
			if !d.Pseudo {
				out = append(out, dep)
				continue
			}
			if onPath[dep] {
				continue // a cycle in the graph: the scheduler never makes one
			}
			sub, done := through[dep]
			if !done {
				onPath[dep] = true
				sub = realDeps(dep, onPath)
				delete(onPath, dep)
				through[dep] = sub
			}
			out = append(out, sub...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	var plan []dc.PlannedAction
	for _, a := range acts {
		if a.Pseudo {
			continue
		}
		p := dc.PlannedAction{ID: strconv.Itoa(a.ID), Op: a.Op, Resource: a.Rsc, Node: a.Node, Interval: time.Duration(a.Interval) * time.Millisecond}
		for _, d := range realDeps(a.ID, map[int]bool{}) {
			p.After = append(p.After, strconv.Itoa(d))
		}
		plan = append(plan, p)
	}
	return plan
}
