package api

import "fmt"

// Health states.
const (
	Healthy  = "healthy"
	Degraded = "degraded"
)

// Health is the verdict a monitoring check wants from `palisade status`:
// degraded when something needs an operator or keeps the cluster from
// doing its job (no quorum, an unclean node, a fence pending or failing,
// a failed or stopped resource, a fail count), with each problem named.
// Warnings (a node in standby or cleanly off, a dead redundant link) do
// not make it degraded.
type Health struct {
	State    string   `json:"state"`
	Problems []string `json:"problems,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Assess computes s's health from its own fields, so a client can judge
// the status of a daemon that did not fill Health itself.
func (s Status) Assess() Health {
	var h Health
	problem := func(f string, a ...any) { h.Problems = append(h.Problems, fmt.Sprintf(f, a...)) }
	warn := func(f string, a ...any) { h.Warnings = append(h.Warnings, fmt.Sprintf(f, a...)) }
	switch {
	case s.View.ID == 0:
		problem("membership is still forming (initdead)")
	case !s.View.Agreed:
		problem("membership view %d is not agreed yet", s.View.ID)
	}
	up := map[string]bool{}
	for _, n := range s.Nodes {
		up[n.Name] = n.Self || n.State == "up" || n.State == "warn"
		if n.Self || !up[n.Name] {
			continue
		}
		if n.State == "warn" {
			warn("heartbeats from %s are late", n.Name)
		}
		for _, l := range n.Links {
			if l.State == "dead" {
				warn("link %s to %s is down (redundancy lost)", l.Name, n.Name)
			}
		}
	}
	d := s.DC
	if d == nil {
		problem("the daemon has no DC layer: resources and fencing unknown")
		return h.done()
	}
	if !d.Quorate {
		q := "this partition has no quorum"
		if d.Quorum != nil && d.Quorum.Reason != "" {
			q += " (" + d.Quorum.Reason + ")"
		}
		problem("%s", q)
	}
	if d.DC == "" {
		problem("no DC elected")
	}
	if d.Quorum != nil {
		for _, src := range d.Quorum.Sources {
			if src.Kind == SourceDevice && !src.Healthy {
				warn("quorum device %s (%s): %s", src.Name, src.State, src.Detail)
			}
		}
	}
	for _, n := range d.NodeStates {
		switch n.State {
		case NodeUnclean:
			problem("node %s is UNCLEAN: it must be fenced before its resources move", n.Name)
		case NodeLost:
			problem("node %s is lost", n.Name)
		case NodeFenced:
			warn("node %s is fenced (powered off)", n.Name)
		case NodeOffline:
			warn("node %s is offline", n.Name)
		case NodePending:
			warn("node %s has not been heard yet", n.Name)
		case NodeStandby:
			warn("node %s is in standby", n.Name)
		case NodeShuttingDown:
			warn("node %s is shutting down", n.Name)
		}
	}
	for _, f := range d.FenceOps {
		switch f.State {
		case FenceFailed:
			problem("fencing of %s is failing (%d of %d attempts failed)", f.Target, f.Failures, f.Attempts)
		default:
			problem("fencing of %s is pending (%s)", f.Target, f.Reason)
		}
	}
	var walk func(r Resource)
	walk = func(r Resource) {
		if len(r.Members) > 0 {
			for _, m := range r.Members {
				walk(m)
			}
			return
		}
		for _, in := range r.Instances {
			if in.Failed {
				problem("resource %s FAILED on %s", r.ID, in.Node)
			}
			if in.Unclean {
				problem("resource %s may still run on unclean node %s", r.ID, in.Node)
			}
		}
		if r.State == RoleStopped && r.TargetRole != RoleStopped {
			problem("resource %s is stopped", r.ID)
		}
		for _, f := range r.FailCounts {
			problem("resource %s has fail count %s on %s (%s)", r.ID, countString(f.Count), f.Node, f.Op)
		}
	}
	for _, r := range d.Resources {
		walk(r)
	}
	// A daemon older than palisade.status/v1: judge from the plain parts.
	if len(d.NodeStates) == 0 {
		for _, f := range d.Fencing {
			if f.State == "unclean" || f.State == "fencing" {
				problem("node %s is UNCLEAN: it must be fenced before its resources move", f.Node)
			}
		}
	}
	if len(d.Resources) == 0 {
		for _, r := range d.Status.Resources {
			if r.Failed {
				problem("resource %s FAILED on %s", r.Rsc, r.Node)
			}
		}
		for _, f := range d.Status.Failures {
			problem("resource %s has fail count %s on %s (%s)", f.Rsc, f.Count, f.Node, f.Op)
		}
	}
	return h.done()
}

func (h Health) done() Health {
	h.State = Healthy
	if len(h.Problems) > 0 {
		h.State = Degraded
	}
	return h
}

func countString(c int64) string {
	if c >= 1000000 {
		return "INFINITY"
	}
	return fmt.Sprint(c)
}
