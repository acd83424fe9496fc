// Package dc is the cluster's coordination layer: the DC (designated
// coordinator) loop of the quorate partition and the member side that
// executes what the DC asks.
//
// The DC (lowest-id member of the view, as membership reports it):
//
//   - keeps the replicated CIB: the resource configuration plus a status
//     snapshot, versioned (admin_epoch, epoch, num_updates). When a view
//     forms, every member reports its CIB version; the highest wins and is
//     sent to all. Operators bump epoch (config change) or admin_epoch
//     (forced); every status change bumps num_updates.
//   - rebuilds status before acting: a new DC (or any view change) asks
//     every member for its executor status (StatusRequest) and schedules
//     nothing until all members answered. Nodes outside the view keep the
//     status from the replicated CIB (or, never known, "anything may run
//     there"), so a lost DC's resources are still known to its successor.
//   - runs the scheduler on every change, hands fence actions and lost nodes
//     to the recovery gate, asks the gate before every start, and sends
//     actions tagged with the view id. A member refuses an action from any
//     other view (CheckView), so a deposed DC cannot start anything.
//
// Coordinator is the pure core (no I/O, time passed in, Ready returns the
// messages to send, fence requests and log entries). Runtime wraps it with
// goroutines, the transport, the executor and the fencer; the node daemon
// calls Runtime.OnView, Runtime.Deliver, and serves Runtime.Confirm /
// Runtime.Snapshot on its control socket.
package dc
