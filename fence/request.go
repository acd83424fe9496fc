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
	// ShellTimeout bounds each command once logged in (a status read, a
	// power command); 0 means only the plugin's own retransmissions and
	// ctx bound it.
	ShellTimeout time.Duration
	// SilentBudget is how long a device that answers nothing at all
	// (ErrNoAnswer) is tried again, with backoff, counted from the first
	// login attempt. A device that comes back within it is used; one that
	// refuses (port closed, login denied) is never retried. 0 = one try.
	SilentBudget time.Duration
	// Addr names the device in messages ("198.18.0.10:623").
	Addr string
}

// DefaultSilentBudget is the silent-device budget when fence-agents'
// timeouts are disabled (disable_timeout, the default under Pacemaker 2.0+)
// and none was given explicitly: about what the reference fence_ipmilan
// takes to give up on a BMC that answers nothing in that mode (measured:
// 28.2 s, ipmitool's own retransmissions), so that a long outage costs
// Pacemaker no more of its stonith-max-attempts than the reference does.
const DefaultSilentBudget = 28 * time.Second

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
		ShellTimeout: o.Seconds(OptShellTimeout),
		Addr:         deviceAddr(o),
	}
	// The reference kills each ipmitool call after power_timeout, so a
	// silent device fails there (20 s by default); login_timeout, when
	// larger, is one whole try. With the timeouts disabled and none given,
	// the reference waits for ipmitool itself (DefaultSilentBudget).
	r.SilentBudget = max(r.PowerTimeout, r.LoginTimeout)
	if r.SilentBudget == 0 {
		r.SilentBudget = DefaultSilentBudget
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

// deviceAddr is "ip:ipport" (or just ip) for messages.
func deviceAddr(o Options) string {
	ip, port := o[OptIP], o[OptIPPort]
	if ip == "" || port == "" {
		return ip
	}
	if strings.Contains(ip, ":") && !strings.HasPrefix(ip, "[") {
		ip = "[" + ip + "]"
	}
	return ip + ":" + port
}
