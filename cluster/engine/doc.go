// Package engine is the pure per-node core of the coordination layer: the
// DC's Coordinator (cluster/dc) and the member side (cluster/member)
// composed into one Engine, stepped by membership views, messages,
// executor and fencer results, the quorum device's verdict and time. It
// executes the fences the gate decides (FenceExec out, FenceDone in; a
// DC's own fence through a peer), forwards operator requests to the DC,
// loops back messages to this node, and says which replica to persist.
// No goroutines, no clock, no I/O: a whole cluster of Engines runs in one
// process in logical time (cluster/sim), and the daemon's runtime
// (cluster/dcrun) only performs what Ready says.
//
// It also holds what wires the core to the rest of the daemon: the
// adapter of resources/scheduler (PackageScheduler, WithQuorumPolicy), the
// digest of the settings every node must share (SafetyDigestOf), and the
// status snapshot for the control socket (Snapshot). The scenario corpus
// of the whole core is testdata/*.txt (datadriven; -rewrite).
package engine
