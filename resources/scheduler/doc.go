// Package scheduler decides where resources run and how to get there.
//
// It is a pure, deterministic function with Pacemaker's placement
// semantics (scores with ±INFINITY arithmetic, stickiness,
// migration-threshold, failure-timeout, location rules, colocation with
// attenuated dependent influence, ordering, groups, clones, promotable
// clones, utilization, quorum and fencing):
//
//	out := scheduler.Schedule(scheduler.Input{Config: cfg, Status: st, Now: now})
//	for _, a := range out.Actions { ... } // run in dependency order (a.After)
//
// Schedule never blocks or does I/O; call it again whenever the status
// changes (the DC does this on every membership, fence or operation event)
// and execute the new transition. The same input always yields the same
// output, byte for byte once formatted.
//
// The fencing rule lives here as a graph property: a resource active on an
// unclean node (lost and not yet fenced) gets a pseudo stop that depends on
// the node's fence action, and every start or promote of that resource (and
// everything ordered after it) depends on that pseudo stop and on the fence
// itself. Without quorum (Status.NoQuorum) nothing is fenced: resources of
// unclean nodes stay blocked and no-quorum-policy decides what the rest do.
package scheduler
