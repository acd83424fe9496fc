// Package recovery holds the RecoveryGate: the one place in Palisade that
// decides whether a lost node's resources may be started elsewhere. The
// rule it enforces:
//
//	No resource of a lost node is started anywhere until that node is
//	confirmed fenced: a fence device reported success AND a follow-up
//	status read showed OFF, or an operator confirmed it by hand (logged).
//	A partition without quorum never fences and never takes over.
//
// The gate is a pure state machine (like go.etcd.io/raft): the DC loop feeds
// it events with a monotonic "now" and performs what Ready returns (fence
// requests, alerts, log entries). It never reads a clock and never does I/O,
// so testdata/*.txt scenarios replay whole failures in logical time.
//
// Node states: member → unclean (lost, or a stop failure asked for fencing)
// → fencing (request out) → fenced (confirmed). A node that was unclean
// only because membership lost it, and that rejoins before its fence
// request went out, becomes a member again (logged): the gate blocked its
// resources all along, so nothing of it runs twice, and shooting a node
// that came back after a scheduling hiccup gains nothing. A node unclean
// for another reason (failed stop) stays unclean until fenced, and once a
// request is out the result decides. A fenced node becomes a member again
// when it rejoins (it rebooted).
//
// Fence races in two-node clusters: every fence request waits
// Config.StaticDelay[target] (+ a random delay up to RandomDelayMax). By
// default (DefaultStaticDelays) the lowest-id node gets the static delay, so
// when the link between two nodes breaks, the higher-id node waits before
// shooting the lowest-id node, while the lowest-id node shoots at once: it
// wins, and its shot stops the other daemon before its delayed shot fires.
// The lowest id is chosen because it is also the DC, so the survivor is the
// node that already coordinated the cluster.
//
// Failed or unverified fence attempts are retried with exponential backoff
// (RetryInitial doubling up to RetryMax) and every failure raises an alert;
// failures never unblock recovery.
//
// Usage from the DC loop:
//
//	g := recovery.New(cfg)
//	g.SetPartition(recovery.Partition{Members: m, Quorate: q, DC: isDC, Active: running}, now)
//	g.Tick(now)
//	rd := g.Ready()         // rd.Fence: requests to hand to the fencer; rd.Log: entries to append
//	g.FenceResult(recovery.FenceResult{Target: "n2", Attempt: 1, OK: true, VerifiedOff: true, Device: "ipmi-n2"}, now)
//	d := g.AllowStart("vip", "n1", []string{"n2"}, now) // before every start
//
// Verify checks a merged event log for violations of the rule; every fault
// test calls it.
package recovery
