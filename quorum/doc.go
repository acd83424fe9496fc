// Package quorum is the vote arithmetic of a Palisade partition: given the
// configured nodes (and their votes) and the current membership, it says
// whether this partition has quorum, and what the partition must do with its
// resources when it has not (NoQuorumPolicy).
//
// It is a pure core in the style of go.etcd.io/raft: a Calculator is stepped
// with Update(members, now) and returns a State; it does no I/O and reads no
// clock. The rules follow corosync's votequorum:
//
//   - expected votes = Config.ExpectedVotes, or the sum of all node votes;
//     quorum = expected/2 + 1 (a strict majority).
//   - two_node: in a cluster of exactly two one-vote nodes, one vote is
//     quorum. It is only safe with fencing (the partition that wins the
//     fence race survives), and it implies wait_for_all.
//   - wait_for_all: after start-up, no quorum until every node has been seen
//     in the same membership once; protects against a freshly booted node
//     fencing a peer it simply has not heard yet.
//   - auto_tie_breaker: in an exact half split (4 nodes → 2+2), the half
//     holding the tie-breaker node (default: the lowest id) keeps quorum.
//   - last_man_standing: when the membership has been stable for
//     LastManStandingWindow, expected votes are lowered to the current
//     votes, so the cluster can shrink one node at a time down to two (or
//     one, with two_node-like tie breaking not provided here).
//   - a quorum device (Config.Device: a quorum disk, package quorum/disk,
//     or an arbiter node, package quorum/arbiter) adds its votes (ffsplit:
//     1, lms: node votes - 1) to the partition it votes for; the caller
//     feeds the device's verdict with UpdateWithDevice. A view the device
//     has not answered yet is undecided (State.Pending): no decisions, no
//     policy, as corosync's sync phase waits for qdevice. The device is
//     the tie-breaker, so two_node, auto_tie_breaker and last_man_standing
//     are refused with it. Package quorum/arbitration holds the rules the
//     devices use to pick a partition.
//
// Typical use (the DC loop):
//
//	calc, err := quorum.New(quorum.Config{Nodes: map[string]int{"n1": 1, "n2": 1, "n3": 1}})
//	st := calc.Update([]string{"n1", "n2"}, now)
//	if !st.Quorate { /* apply policy: never fence, never take over */ }
package quorum
