package membership

import "time"

// NodeID is a node's stable number from the configuration.
type NodeID uint32

// State is the liveness of a peer or of one link to a peer.
type State uint8

const (
	// StatePending: not heard since start-up and initdead not yet elapsed.
	StatePending State = iota
	// StateUp: heard within warntime.
	StateUp
	// StateWarn: silent for warntime or more (Heartbeat's "late heartbeat").
	StateWarn
	// StateDead: silent for deadtime (or never heard within initdead).
	StateDead
)

func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateUp:
		return "up"
	case StateWarn:
		return "warn"
	case StateDead:
		return "dead"
	}
	return "invalid"
}

// Alive reports whether the state counts the node as a member.
func (s State) Alive() bool { return s == StateUp || s == StateWarn }

// stateAt derives a state from the last time something was heard.
func stateAt(heard bool, last, now, bootDeadline time.Duration, t Timing) State {
	if !heard {
		if now < bootDeadline {
			return StatePending
		}
		return StateDead
	}
	switch age := now - last; {
	case age >= t.Deadtime:
		return StateDead
	case age >= t.Warntime:
		return StateWarn
	}
	return StateUp
}
