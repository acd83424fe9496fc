// Package dc is the cluster's coordination layer: the DC (designated
// coordinator) loop of the quorate partition and the member side that
// executes what the DC asks.
//
// The DC (lowest-id member of the view, as membership reports it):
//
//   - keeps the replicated CIB: the resources section of cluster.yaml
//     (resources, constraints, options, rsc_defaults, nodes) plus a status
//     snapshot, versioned (admin_epoch, epoch, num_updates) and identified
//     by a digest of the configuration. When a view forms, every member
//     reports its copy; the highest version wins (equal versions: the
//     highest digest, so every node picks the same copy) and is sent to
//     all. The DC bumps epoch on every accepted configuration change and
//     num_updates on every status change; admin_epoch is the operator's
//     (resources.admin_epoch in the YAML) and only goes up.
//   - accepts configuration changes (Proposal) from any member: SIGHUP
//     with an edited resources section, `palisade config push FILE`. Only
//     the DC of a quorate partition that is not rebuilding takes them; it
//     checks them (model.Validate, a dry run of the scheduler), bumps
//     epoch, replicates, and answers the proposer (ConfigResult). A
//     refused configuration changes nothing. Every node persists its copy
//     in state_dir/cib.json (Ready.Persist); StartCIB picks the start-up
//     copy: the persisted one, unless there is none (then the file's, at
//     admin_epoch.1.0). A file edited since the node last saw it is
//     proposed after joining; an unchanged (stale) one never undoes a
//     change made elsewhere.
//   - rebuilds status before acting: a new DC (or any view change) asks
//     every member for its executor status (StatusRequest) and schedules
//     nothing until all members answered. A node that has not probed yet
//     (it just started or rejoined) first sends only its replica; once
//     every member's is in, the DC sends the winning configuration
//     (KindConfigSync) and the node probes with it, never with its own
//     possibly outdated copy, and then reports. Reports carry what each
//     resource runs with (parameter digests, role), and every action
//     carries the primitive the DC scheduled with. Nodes outside the view keep the
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
// Runtime.Snapshot / Runtime.PushConfig / Runtime.ConfigInfo on its control
// socket (Attach wires all of it, including node.OnReload).
package dc
