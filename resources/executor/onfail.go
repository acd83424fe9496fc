package executor

import (
	"fmt"

	"palisade/resources/agent"
)

// OnFail is a Pacemaker on-fail policy. The executor only reports it with
// the failure; the DC's scheduler carries it out.
type OnFail string

// The policies Pacemaker's op on-fail attribute accepts.
const (
	OnFailRestart OnFail = "restart" // stop and start again (default)
	OnFailStop    OnFail = "stop"    // stop and leave stopped
	OnFailBlock   OnFail = "block"   // leave alone, no further actions
	OnFailStandby OnFail = "standby" // move all resources off this node
	OnFailFence   OnFail = "fence"   // fence this node
	OnFailIgnore  OnFail = "ignore"  // pretend it succeeded
	OnFailDemote  OnFail = "demote"  // demote a promoted instance
)

// ParseOnFail checks a configured on-fail value; "" means the default.
func ParseOnFail(s string) (OnFail, error) {
	switch f := OnFail(s); f {
	case "", OnFailRestart, OnFailStop, OnFailBlock, OnFailStandby, OnFailFence, OnFailIgnore, OnFailDemote:
		return f, nil
	}
	return "", fmt.Errorf("on-fail %q: want restart, stop, block, standby, fence, ignore or demote", s)
}

// effectiveOnFail resolves the policy for a failed action. A failed stop
// leaves the resource in an unknown state, possibly still holding shared
// storage or an address: only fencing the node makes it safe to start it
// elsewhere, so that is the default when fencing is enabled, and blocking
// (manual intervention) otherwise — never "restart".
func effectiveOnFail(configured OnFail, action agent.Action, fencing bool) OnFail {
	if action == agent.Stop {
		switch {
		case configured == OnFailFence && !fencing:
			return OnFailBlock
		case configured != "" && configured != OnFailRestart:
			return configured
		case fencing:
			return OnFailFence
		default:
			return OnFailBlock
		}
	}
	if configured == OnFailFence && !fencing {
		return OnFailStop
	}
	if configured == "" {
		return OnFailRestart
	}
	return configured
}
