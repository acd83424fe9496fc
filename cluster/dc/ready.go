package dc

import (
	"palisade/cluster/dcmsg"
	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/resources/executor"
)

// Ready is the work the Coordinator and the member side ask for (the
// Engine adds its own fencing and persistence: engine.Ready).
type Ready struct {
	Send     []dcmsg.Outgoing
	Exec     []ExecRequest
	Monitors []MonitorRequest
	// ClearFailures resets the executor's fail count of these resources.
	ClearFailures []string
	Alerts        []recovery.Alert
	Log           []eventlog.Entry
	// Errors are non-fatal problems to log (scheduler errors...).
	Errors []error
	// ConfigResults answer this node's configuration proposals.
	ConfigResults []dcmsg.ConfigResult
	// Answers answer this node's operator requests.
	Answers []dcmsg.OpAnswer
}

// ExecRequest asks the caller to run one resource operation on this node
// and to hand the executor's event back with ExecDone(Ref, ...).
type ExecRequest struct {
	Ref uint64
	Op  executor.Op
	// StartFailureIsFatal is the cluster option in force when the
	// operation was decided: how a failed start counts.
	StartFailureIsFatal bool
}

// MonitorRequest starts (Start) or cancels a recurring monitor; its
// results come back through MonitorEvent (changes only).
type MonitorRequest struct {
	Start bool
	Op    executor.Op
}
