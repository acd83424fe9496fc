package dc

import (
	"strconv"
	"time"

	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// PackageScheduler adapts resources/scheduler to the DC: pseudo actions
// (group boundaries, stops implied by fencing) are dissolved into the
// dependencies of the real actions that wait for them, so the DC only
// sees actions someone performs (a member or the fencer).
func PackageScheduler(cfg *model.Config, st model.Status, now time.Time) ([]PlannedAction, error) {
	out := scheduler.Schedule(scheduler.Input{Config: cfg, Status: &st, Now: now})
	return flatten(out.Actions), nil
}

func flatten(acts []scheduler.Action) []PlannedAction {
	byID := map[int]scheduler.Action{}
	for _, a := range acts {
		byID[a.ID] = a
	}
	// real deps of an action, seen through pseudo actions (memoized).
	memo := map[int][]int{}
	var realDeps func(id int, seen map[int]bool) []int
	realDeps = func(id int, seen map[int]bool) []int {
		if d, ok := memo[id]; ok {
			return d
		}
		var out []int
		for _, dep := range byID[id].After {
			if seen[dep] {
				continue
			}
			seen[dep] = true
			if byID[dep].Pseudo {
				out = append(out, realDeps(dep, seen)...)
			} else {
				out = append(out, dep)
			}
		}
		memo[id] = out
		return out
	}
	var plan []PlannedAction
	for _, a := range acts {
		if a.Pseudo {
			continue
		}
		p := PlannedAction{ID: strconv.Itoa(a.ID), Op: a.Op, Resource: a.Rsc, Node: a.Node, Interval: time.Duration(a.Interval) * time.Millisecond}
		for _, d := range realDeps(a.ID, map[int]bool{}) {
			p.After = append(p.After, strconv.Itoa(d))
		}
		plan = append(plan, p)
	}
	return plan
}
