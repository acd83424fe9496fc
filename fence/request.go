package fence

import (
	"fmt"
	"strings"
	"time"
)

// Action is a fence-agents action name.
type Action string

const (
	ActionOn          Action = "on"
	ActionOff         Action = "off"
	ActionReboot      Action = "reboot"
	ActionStatus      Action = "status"
	ActionList        Action = "list"
	ActionListStatus  Action = "list-status"
	ActionMonitor     Action = "monitor"
	ActionMetadata    Action = "metadata"
	ActionManpage     Action = "manpage"
	ActionValidateAll Action = "validate-all"
	ActionDiag        Action = "diag"
)

// ParseAction maps an action string to an Action, accepting the aliases
// fence-agents accepts (meta-data, enable, disable).
func ParseAction(s string) (Action, bool) {
	switch a := Action(strings.ToLower(strings.TrimSpace(s))); a {
	case ActionOn, ActionOff, ActionReboot, ActionStatus, ActionList, ActionListStatus,
		ActionMonitor, ActionMetadata, ActionManpage, ActionValidateAll, ActionDiag:
		return a, true
	case "meta-data":
		return ActionMetadata, true
	}
	return "", false
}

// Method selects how reboot is done.
type Method string

const (
	// MethodOnOff: off, verify OFF, on, verify ON. The default, and the only
	// method that proves the machine was off.
	MethodOnOff Method = "onoff"
	// MethodCycle: one power-cycle command; nothing can be verified.
	MethodCycle Method = "cycle"
)

// Request is one fence operation with its timing. Build it with
// RequestFromOptions, or fill it directly in tests.
type Request struct {
	Action Action
	Plug   string
	Method Method
	// Delay is slept before off/reboot/diag (not before status), so that in
	// a two-node fence race one side is reliably slower.
	Delay time.Duration
	// LoginTimeout bounds opening the session; 0 means only ctx bounds it.
	LoginTimeout time.Duration
	// PowerTimeout bounds each verification of a power change; 0 means
	// only ctx bounds it.
	PowerTimeout time.Duration
	// PowerWait is slept after each power command before verifying.
	PowerWait time.Duration
	// StatusSleep caps the interval between status reads while verifying;
	// reads start fast and back off up to it.
	StatusSleep time.Duration
	// RetryOn is fence-agents' retry_on: "on" is attempted 1+RetryOn times,
	// the "on" half of a reboot RetryOn times.
	RetryOn int
}

// RequestFromOptions builds the request for action from normalized options.
func RequestFromOptions(action Action, o Options) (Request, error) {
	r := Request{
		Action:       action,
		Plug:         o[OptPlug],
		Method:       MethodOnOff,
		Delay:        o.Seconds(OptDelay),
		LoginTimeout: o.Seconds(OptLoginTimeout),
		PowerTimeout: o.Seconds(OptPowerTimeout),
		PowerWait:    o.Seconds(OptPowerWait),
		StatusSleep:  o.Seconds(OptStatusSleep),
		RetryOn:      o.Int(OptRetryOn),
	}
	switch m := Method(strings.ToLower(o[OptMethod])); m {
	case "", MethodOnOff:
	case MethodCycle:
		r.Method = m
	default:
		return r, fmt.Errorf("%w: method %q is not onoff or cycle", ErrConfig, m)
	}
	if r.RetryOn < 0 {
		return r, fmt.Errorf("%w: retry_on %d is negative", ErrConfig, r.RetryOn)
	}
	return r, nil
}
