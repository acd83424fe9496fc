// Package scheduler decides where resources run and how to get there.
//
// It is a pure, deterministic function with Pacemaker's placement
// semantics (scores with ±INFINITY arithmetic, stickiness,
// migration-threshold, failure-timeout, location rules, colocation with
// attenuated dependent influence, ordering, groups, clones, promotable
// clones, utilization, on-fail, quorum and fencing):
//
//	out := scheduler.Schedule(scheduler.Input{Config: cfg, Status: st, Now: now})
//	for _, f := range out.Fence { ... }     // nodes to fence (actions too)
//	for _, a := range out.Actions { ... }   // in a valid order; a.After lists prerequisites
//
// Config is the `resources:` section of cluster.yaml (see package model
// for the schema); Status is what the DC observes: node states (online,
// offline, unclean = lost and not yet fenced), active resources with roles
// and failed flags, fail counts with last-failure times, and whether this
// partition has quorum. Now only matters for failure-timeout. Set
// Input.Scores to also get the (large) per-node score report.
//
// A primitive found active on more than one node follows its
// multiple-active meta attribute (inherited from its group or clone and
// rsc_defaults): stop_start (the default) stops every copy and then starts
// it once, stop_only stops every copy, block leaves every copy alone and
// blocks its start (so what must start after it cannot), stop_unexpected
// stops only the copies off the chosen node. Stickiness does not apply to a
// multiply active resource. Anonymous clone copies are distinct instances,
// so this concerns primitives, group members and globally-unique clone
// instances.
//
// Schedule never blocks or does I/O; call it again whenever the status
// changes (the DC does this on every membership, fence or operation event)
// and execute the new transition, abandoning the old one. The same input
// always yields the same output, byte for byte once formatted
// (FormatScores, FormatPlacement, FormatTransition, FormatDot).
//
// The fencing rule lives here as a graph property: a resource active on an
// unclean node gets a pseudo stop that depends on the node's fence action,
// and every start or promote of that resource, of any member of its group
// or clone, and (through the stop) of everything ordered after it depends
// on that fence. Without quorum (Status.NoQuorum) nothing is fenced unless
// no-quorum-policy is ignore, which Pacemaker fences with too: resources of
// unclean nodes stay blocked where they are (Placement.Blocked) and
// no-quorum-policy decides what the rest do (stop, freeze, demote). The
// daemon enforces its own rule apart from the scheduler: its recovery gate
// never fences or takes over without quorum, whatever the transition says.
// With stonith-enabled=false an unclean node's resources also stay blocked,
// where Pacemaker would assume the node is down.
//
// Pacemaker Remote (Config.Nodes with a Connection), guest nodes (a
// connection whose container meta attribute names a VM or container) and
// bundles (Kind bundle) are scheduled as Pacemaker does: a remote node is
// up while its connection runs; connections are placed first and a node
// whose connection is placed takes resources in the same transition;
// connections and fence devices never run on remote nodes; a lost remote
// node is fenced unless its connection comes back, a guest node by
// recovering its container; a bundle's replicas are a container (an IP, a
// connection and a guest node named BUNDLE-N when it holds a primitive)
// placed like clone instances, with instance N of the primitive on node N.
//
// Action keys follow Pacemaker: "rsc_start_0", "rsc_monitor_10000",
// "grp_running_0" (pseudo), "stonith-NODE-reboot" (Op "fence").
package scheduler
