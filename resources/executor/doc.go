// Package executor is the local resource manager (LRM) of one node: it
// runs resource agent actions with per-operation timeouts, one at a time
// per resource and in submission order, records the last result of every
// (resource, action, interval), runs recurring monitors, counts failures
// and reports every result so the node can forward it to the DC.
//
// The executor decides nothing about placement. A failed action's Event
// carries the failure class (soft, hard, fatal; see agent.Classify) and
// the effective on-fail policy (restart, stop, block, standby, fence,
// ignore, demote); the DC's scheduler acts on it. A failed stop defaults
// to "fence" when fencing is enabled (block otherwise): the resource may
// still hold its disk or address, so it must not start elsewhere before
// the node is fenced.
//
// Usage:
//
//	reg := agent.NewRegistry(agent.Options{})
//	reg.RegisterBuiltin("vip", vip.NewAgent(vip.Options{}))
//	ex := executor.New(executor.Config{
//		Node: "n1", Agent: reg, Fencing: true, StartFailureIsFatal: true,
//		Report: func(ev executor.Event) { toDC <- ev }, // must not block
//	})
//	defer ex.Close()
//	ex.Probe(ctx, instances)                      // at start-up / for a new DC
//	ev := ex.Exec(ctx, executor.Op{Instance: in, Action: agent.Start, Ref: "t42:7"})
//	ex.StartMonitor(executor.Op{Instance: in, Action: agent.Monitor, Interval: 10 * time.Second})
//	ex.Submit(executor.Op{Instance: in, Action: agent.Stop}) // async; cancels monitors first
//	ex.Status()   // per resource: Role, Failed, last ops, fail counts (total and per action)
//	ex.ClearFailures("web-ip")                    // cleanup / failure-timeout
//
// Status is what a new DC collects from every node to rebuild the cluster
// status: ResourceStatus.Role uses resources/model's role names (Stopped,
// Started, Unpromoted, Promoted) and Failed marks a resource that must be
// recovered; Failures maps to model.Failure (op, count, last failure).
// Roles are derived from the recorded results; when in doubt (a failed
// stop, an unreadable probe) a resource counts as active and failed.
//
// Parameters: a start (or reload, or a probe that finds the resource
// running) fixes the parameters the resource runs with here; every later
// action on it (stop, monitors, promote, demote) runs with those, whatever
// the configuration says meanwhile, as Pacemaker's controller keeps
// stop_params: a changed address is removed from where it is, and the new
// one starts only with the restart (StartedParams). Such events carry
// Event.Ran, the parameters' digests as Pacemaker records them (op-digest,
// and op-restart-digest / op-force-restart when the agent's meta-data
// advertises a reload), with secrets (private parameters) left out.
//
// Recurring monitors report their first result and then only changes, so
// a steady failure is counted once. Results of cancelled actions (a stop
// cancelling a monitor, Close) are neither recorded nor reported.
//
// History is the pure core (no I/O, time passed in) that Executor wraps;
// testdata/history.txt replays it deterministically.
package executor
