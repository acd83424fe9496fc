package dc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"palisade/cluster/eventlog"
	"palisade/resources/agent"
	"palisade/resources/model"
)

// failRecord is this node's failure history of one resource, as reported
// to the DC: the scheduler needs the time of the last failure for
// failure-timeout, and the operation for its on-fail handling.
type failRecord struct {
	count int
	last  time.Time
	op    string
}

// setFailLocked records the executor's fail count after an operation
// (r.mu held). A failed operation also moves the last-failure time.
func (r *Runtime) setFailLocked(rsc, op string, count int, failed bool) {
	if count <= 0 {
		delete(r.fails, rsc)
		return
	}
	rec := r.fails[rsc]
	rec.count = count
	if failed || rec.last.IsZero() {
		rec.last, rec.op = r.cfg.Coordinator.wall(), op
	}
	r.fails[rsc] = rec
}

// failuresLocked is the failure part of this node's status (r.mu held).
func (r *Runtime) failuresLocked() []model.Failure {
	var out []model.Failure
	for rsc, f := range r.fails {
		out = append(out, model.Failure{Rsc: rsc, Node: r.self(), Op: f.op, Count: model.Score(f.count), LastFailure: f.last})
	}
	slices.SortFunc(out, func(a, b model.Failure) int { return cmpStr(a.Rsc, b.Rsc) })
	return out
}

// expireFailures clears the fail counts whose failure-timeout has passed
// (loop goroutine, every tick), as Pacemaker clears an expired fail count:
// otherwise the next failure would add to the old ones and ban the resource
// at once. The DC hears of it through a status report and reschedules.
func (r *Runtime) expireFailures() {
	cfg := r.coord.CIB().Config
	now := r.cfg.Coordinator.wall()
	var expired []string
	r.mu.Lock()
	for rsc, f := range r.fails {
		timeout := failureTimeout(cfg, rsc)
		if timeout > 0 && !f.last.IsZero() && now.Sub(f.last) >= timeout {
			expired = append(expired, rsc)
		}
	}
	r.mu.Unlock()
	if len(expired) == 0 {
		return
	}
	slices.Sort(expired)
	for _, rsc := range expired {
		r.clearFailures(rsc, "failure-timeout expired")
	}
	r.sendStatusToDC()
}

// clearFailures resets rsc's fail count here and says so in the event log.
func (r *Runtime) clearFailures(rsc, why string) {
	if r.cfg.Executor != nil {
		r.cfg.Executor.ClearFailures(rsc)
	}
	r.mu.Lock()
	f, had := r.fails[rsc]
	delete(r.fails, rsc)
	r.mu.Unlock()
	detail := why
	if had {
		detail = fmt.Sprintf("%s (fail count was %d)", why, f.count)
	}
	r.appendLog(eventlog.Entry{Event: eventlog.FailuresCleared, Resource: rsc, Node: r.self(), Detail: detail})
	r.log.Info("fail count cleared", "resource", rsc, "why", detail)
}

// sendStatusToDC reports this node's resources and failures to the DC
// (loop goroutine).
func (r *Runtime) sendStatusToDC() {
	dc := r.coord.DC()
	if dc == "" {
		return
	}
	r.mu.Lock()
	st := r.statusLocked("")
	r.mu.Unlock()
	r.sendMsg(dc, Message{Kind: KindStatus, View: r.coord.View(), From: r.self(), Status: &st})
}

// Cleanup is the operator's `palisade resource cleanup RSC [--node N]`
// (Pacemaker's crm_resource --cleanup): the fail counts of RSC (every
// primitive of it, for a group or clone) are cleared on node, or on every
// member when node is empty, and each of those nodes probes it again so
// the DC schedules from what really runs. It answers with the nodes asked.
func (r *Runtime) Cleanup(ctx context.Context, rsc, node, by string) ([]string, error) {
	type answer struct {
		nodes []string
		err   error
	}
	c := make(chan answer, 1)
	r.do(func() {
		cfg := r.coord.CIB().Config
		if len(primitivesOf(cfg, rsc)) == 0 {
			c <- answer{err: fmt.Errorf("cleanup %s: no such resource in the running configuration", rsc)}
			return
		}
		members := r.coord.Snapshot().Members
		targets := members
		if node != "" {
			if !slices.Contains(members, node) {
				c <- answer{err: fmt.Errorf("cleanup %s on %s: %s is not a member of this partition (members: %s)", rsc, node, node, strings.Join(members, ", "))}
				return
			}
			targets = []string{node}
		}
		if len(targets) == 0 {
			c <- answer{err: fmt.Errorf("cleanup %s: this node is in no membership view yet", rsc)}
			return
		}
		for _, t := range targets {
			r.sendMsg(t, Message{Kind: KindCleanup, View: r.coord.View(), From: r.self(), Target: t, Resource: rsc, Reason: by})
		}
		c <- answer{nodes: targets}
	})
	select {
	case a := <-c:
		return a.nodes, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("cleanup %s: the DC runtime does not answer: %w", rsc, ctx.Err())
	}
}

// onCleanup runs an operator's cleanup on this node (loop goroutine): the
// fail counts go, then the resource is probed again and the DC told.
func (r *Runtime) onCleanup(m Message) {
	prims := primitivesOf(r.coord.CIB().Config, m.Resource)
	if len(prims) == 0 {
		r.log.Warn("cleanup of an unknown resource ignored", "resource", m.Resource, "from", m.From)
		return
	}
	for _, p := range prims {
		r.clearFailures(p.ID, "operator cleanup by "+m.Reason+" (via "+m.From+")")
	}
	go r.reprobe(prims)
}

// reprobe probes the resources again and reports the result.
func (r *Runtime) reprobe(prims []*model.Resource) {
	r.probe(prims)
	r.do(r.sendStatusToDC)
}

// probe runs a one-shot monitor of each resource and records what runs
// here (not on the loop goroutine: agents take time).
func (r *Runtime) probe(prims []*model.Resource) {
	if r.cfg.Executor == nil || len(prims) == 0 {
		return
	}
	insts := make([]agent.Instance, 0, len(prims))
	r.mu.Lock()
	for _, p := range prims {
		insts = append(insts, instance(p, "monitor", 0))
		r.known[p.ID] = p
	}
	r.mu.Unlock()
	evs := r.cfg.Executor.Probe(context.Background(), insts)
	r.mu.Lock()
	for _, ev := range evs {
		r.active[ev.Resource] = probedActive(ev)
	}
	r.mu.Unlock()
}

// statusLocked is this node's report: the resources active here (failed
// marks one whose monitor just failed) and its fail counts (r.mu held).
func (r *Runtime) statusLocked(failed string) NodeStatus {
	st := NodeStatus{Node: r.self(), Failures: r.failuresLocked()}
	for rsc, on := range r.active {
		if on {
			st.Resources = append(st.Resources, model.ResourceStatus{Rsc: rsc, Node: r.self(), Failed: rsc == failed})
		}
	}
	slices.SortFunc(st.Resources, func(a, b model.ResourceStatus) int { return cmpStr(a.Rsc, b.Rsc) })
	return st
}

// failureTimeout is rsc's failure-timeout meta (the primitive's, else its
// group's or clone's, else rsc_defaults), 0 when unset or invalid.
func failureTimeout(cfg *model.Config, rsc string) time.Duration {
	if cfg == nil {
		return 0
	}
	v, ok := "", false
	var walk func(rs []*model.Resource, parents []*model.Resource) bool
	walk = func(rs []*model.Resource, parents []*model.Resource) bool {
		for _, r := range rs {
			if r.KindOf() == model.KindPrimitive && r.ID == rsc {
				for _, p := range append([]*model.Resource{r}, reversed(parents)...) {
					if v, ok = p.Meta["failure-timeout"]; ok {
						return true
					}
				}
				return true
			}
			if walk(r.Members, append(parents, r)) {
				return true
			}
		}
		return false
	}
	walk(cfg.Resources, nil)
	if !ok {
		v, ok = cfg.RscDefaults["failure-timeout"]
	}
	if !ok {
		return 0
	}
	d, err := model.ParseDuration(v)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

func reversed(rs []*model.Resource) []*model.Resource {
	out := slices.Clone(rs)
	slices.Reverse(out)
	return out
}

// primitivesOf lists the primitives of resource id: itself, or the members
// of a group or clone.
func primitivesOf(cfg *model.Config, id string) []*model.Resource {
	if cfg == nil {
		return nil
	}
	var found *model.Resource
	var walk func([]*model.Resource)
	walk = func(rs []*model.Resource) {
		for _, r := range rs {
			if found != nil {
				return
			}
			if r.ID == id {
				found = r
				return
			}
			walk(r.Members)
		}
	}
	walk(cfg.Resources)
	if found == nil {
		return nil
	}
	if found.KindOf() == model.KindPrimitive {
		return []*model.Resource{found}
	}
	return primitives(&model.Config{Resources: found.Members})
}
