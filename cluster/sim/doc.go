// Package sim runs a whole Palisade cluster — 2 to 7 complete nodes — in
// one process, on a logical clock, under faults chosen by a seed, and
// checks the safety invariants after every step (the approach of
// FoundationDB's simulation and TigerBeetle's VOPR).
//
// Each simulated node runs the production cores unchanged: membership
// (cluster/membership), reliable delivery (cluster/reliable), quorum, the
// recovery gate, the DC engine (cluster/engine: dc coordinator and member side,
// with the real scheduler), the executor (resources/executor) and the
// fencing core (fence.Execute under fence/topology). Only the edges are
// simulated: the network (per-link, per-direction partitions, loss, delay,
// duplication, reordering), the clock, the disk (what a node persisted
// survives its crash), the fence devices (BMCs that power a simulated
// machine off, or are unreachable, refuse, or answer late) and the
// resource agents (which can fail start, stop or monitor, or hang).
//
// Faults: partitions (symmetric, asymmetric, one-way, flapping), message
// loss, delay, duplication and reordering, node crash (kill -9: its
// resources keep running) and restart from persisted state, a process
// paused beyond deadtime and resumed, BMC faults, agent faults,
// configuration pushes and operator commands during faults.
//
// Invariants (see invariants.go), checked after every step against the
// simulated world's ground truth:
//
//   - never two disjoint sets of nodes that both act as quorate (clusters
//     without two_node; a two-node cluster relies on the fence race);
//   - no fence is requested, or executed, by a node outside an agreed
//     quorate view;
//   - no healthy member is fenced, except for a failed stop on it or an
//     operator's request;
//   - no resource is active on two powered-on nodes, and recovery.Verify
//     finds nothing in the merged event log;
//   - liveness: once faults stop, the cluster converges (one agreed view
//     of every node, nothing unclean, every resource placed once) within
//     Options.Settle.
//
// A run is a pure function of its Options: the same seed replays exactly
// (Result.Trace is a hash of everything that happened).
package sim
