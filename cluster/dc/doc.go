// Package dc is the DC (designated coordinator) half of the per-node core:
// the Coordinator, which takes the DC's decisions when this node is the DC
// of an agreed, quorate view (the lowest-id member, as membership reports
// it) and keeps this node's replica of the CIB on every node.
//
// As DC it:
//   - rebuilds status before acting: after any view change it asks every
//     member for its report (dcmsg.KindStatusRequest) and schedules
//     nothing until all answered; the highest replica (cluster/replica)
//     wins the join, and members that have not probed yet probe with it
//     (KindConfigSync), never with their own possibly outdated copy.
//     Nodes outside the view keep the status of the replicated snapshot
//     (cluster/reports), so a lost DC's resources are still known.
//   - runs the scheduler on every change, hands fence actions and lost
//     nodes to the recovery gate (cluster/recovery), asks the gate before
//     every start, holds starts until every member acknowledged the
//     replica that records them as pending, and sends actions tagged with
//     the view id (a member refuses any other view's, so a deposed DC
//     cannot start anything).
//   - accepts configuration changes (Propose: validated, dry-run through
//     the scheduler, epoch bumped, replicated) and operator requests
//     (Request: confirm, cleanup) only while quorate and rebuilt.
//
// The Coordinator is pure: no goroutines, no I/O, time passed in; its work
// goes into the Ready it was made with. The member side (cluster/member)
// shares that Ready, and cluster/engine composes both into the Engine that
// the daemon's runtime (cluster/dcrun) and the simulator (cluster/sim)
// drive. Quorum with the quorum device's vote is quorum.Tracker's.
package dc
