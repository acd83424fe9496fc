package agent

import "fmt"

// RC is an OCF return code. LSB and Heartbeat results are mapped onto it.
type RC int

// OCF return codes with Pacemaker's meanings.
const (
	OK               RC = 0 // success; for monitor: running
	ErrGeneric       RC = 1 // soft error, recover in place
	ErrArgs          RC = 2 // bad arguments for this node
	ErrUnimplemented RC = 3 // action not implemented
	ErrPerm          RC = 4 // insufficient privileges
	ErrInstalled     RC = 5 // software missing on this node
	ErrConfigured    RC = 6 // configuration invalid everywhere
	NotRunning       RC = 7 // cleanly stopped (monitor)
	RunningPromoted  RC = 8 // running in the promoted role (monitor)
	FailedPromoted   RC = 9 // failed in the promoted role (monitor)
)

var rcNames = map[RC]string{
	OK:               "ok",
	ErrGeneric:       "error",
	ErrArgs:          "invalid parameter",
	ErrUnimplemented: "unimplemented feature",
	ErrPerm:          "insufficient privileges",
	ErrInstalled:     "not installed",
	ErrConfigured:    "not configured",
	NotRunning:       "not running",
	RunningPromoted:  "promoted",
	FailedPromoted:   "promoted (failed)",
}

func (rc RC) String() string {
	if n, ok := rcNames[rc]; ok {
		return n
	}
	return fmt.Sprintf("unknown rc %d", int(rc))
}

// Class is a failure class as Pacemaker's scheduler uses it.
type Class int

// Failure classes, from least to most severe.
const (
	ClassNone  Class = iota // expected result
	ClassSoft               // recover per on-fail (restart by default)
	ClassHard               // resource cannot run on this node
	ClassFatal              // resource cannot run anywhere
)

func (c Class) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassSoft:
		return "soft"
	case ClassHard:
		return "hard"
	case ClassFatal:
		return "fatal"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Classify maps a result to its failure class given the return code the
// caller expected (OK for start/stop, OK or RunningPromoted for monitors
// of started or promoted resources).
//
// Why these classes: Pacemaker treats bad arguments, missing software and
// permission problems as properties of the node (ban the resource there),
// a bad configuration as a property of the resource (ban everywhere), and
// everything else, timeouts included, as transient.
func Classify(res Result, expected RC) Class {
	switch res.Status {
	case StatusCancelled:
		return ClassNone
	case StatusTimeout:
		return ClassSoft
	case StatusError:
		return ClassHard
	}
	if res.RC == expected {
		return ClassNone
	}
	return classOf(res.RC)
}

// ClassifyProbe classifies a probe (a one-shot monitor that discovers the
// current state): running, stopped and promoted are all valid answers.
func ClassifyProbe(res Result) Class {
	if res.Status == StatusDone {
		switch res.RC {
		case OK, NotRunning, RunningPromoted:
			return ClassNone
		}
	}
	return Classify(res, OK)
}

func classOf(rc RC) Class {
	switch rc {
	case ErrArgs, ErrUnimplemented, ErrPerm, ErrInstalled:
		return ClassHard
	case ErrConfigured:
		return ClassFatal
	}
	return ClassSoft
}
