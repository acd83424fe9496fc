package executor

import (
	"time"

	"palisade/resources/agent"
	"palisade/resources/model"
)

// Op is one action the DC (or the node itself, for probes) asks for.
type Op struct {
	Instance agent.Instance // resource and parameters
	Action   agent.Action
	Timeout  time.Duration // > 0 overrides Instance.Timeout for this op
	Interval time.Duration // > 0 only for recurring monitors (StartMonitor)
	OnFail   OnFail        // "" = default (restart; fence/block for stop)
	Expected agent.RC      // expected rc of a monitor: OK (default) or RunningPromoted
	Probe    bool          // one-shot monitor that discovers state; 0/7/8 are all fine
	Ref      string        // caller's tag (transition key, view id), echoed in Event
}

func (op Op) expected() agent.RC {
	if op.Action == agent.Monitor && op.Expected != 0 {
		return op.Expected
	}
	return agent.OK
}

// Event reports one finished action; every result goes to Config.Report.
type Event struct {
	Node     string
	Resource string
	Action   agent.Action
	Interval time.Duration
	Probe    bool
	Ref      string
	CallID   uint64 // increases by one per recorded result on this node

	Result   agent.Result
	Expected agent.RC
	Class    agent.Class // ClassNone: the action did what was expected
	OnFail   OnFail      // effective policy when Class != ClassNone

	// Ran records the parameters a start, reload or probe that found the
	// resource running ran with: their digests (as Pacemaker's op-digest,
	// op-restart-digest, op-force-restart) and their values, secrets left
	// out. Empty for other operations.
	Ran model.ParamRecord

	FailCount   int // after this result
	LastFailure time.Time
	Started     time.Time
	Finished    time.Time
}

// Failed reports whether the event is a failure the DC must react to.
func (e Event) Failed() bool { return e.Class != agent.ClassNone }
