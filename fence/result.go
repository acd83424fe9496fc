package fence

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Result is what one request achieved. OK is false whenever the requested
// state was not confirmed by reading it back: a power-off the device
// accepted but never showed is a failure (Err wraps ErrTimedOutOff).
type Result struct {
	Action Action
	Plug   string
	OK     bool
	// Already: on/off found the plug in the requested state and did nothing.
	Already bool
	// State is the last power state read (the verified one on success).
	State PowerState
	// OffVerified: a status read during this request showed OFF before the
	// request ended (off, or the off half of an onoff reboot). Only then is
	// the machine known to have been fenced; see Fenced.
	OffVerified bool
	// Plugs is the outlet list for list/list-status.
	Plugs []Plug
	// ListUnsupported: list on a single-machine device (fence-agents prints
	// a notice and succeeds).
	ListUnsupported bool
	// Err says why the request failed; it wraps one of the Err* sentinels
	// when the cause is known.
	Err error
	// Warnings are non-fatal problems, such as the "on" half of a reboot
	// that timed out after the machine was verified off.
	Warnings []string
	// Note is the device's remark about the request (Noter), such as who
	// confirmed a manual fence.
	Note    string
	Elapsed time.Duration
}

// Fenced reports whether the request proves the machine lost power: it
// succeeded and a status read showed OFF. A method=cycle reboot succeeds
// without proving it, so it is not "fenced" by this definition.
func (r Result) Fenced() bool { return r.OK && r.OffVerified }

// Message is the one-line failure text fence-agents prints for the cause
// ("Failed: Timed out waiting to power OFF").
func (r Result) Message() string {
	switch {
	case r.OK:
		return ""
	case errors.Is(r.Err, ErrTimedOutOff):
		return "Failed: Timed out waiting to power OFF"
	case errors.Is(r.Err, ErrTimedOutOn):
		return "Failed: Timed out waiting to power ON"
	case errors.Is(r.Err, ErrLoginDenied):
		return "Failed: Unable to connect/login to fencing device: login denied"
	case errors.Is(r.Err, ErrUnreachable):
		return "Failed: Unable to connect/login to fencing device: device not answering"
	case errors.Is(r.Err, ErrStatus):
		return "Failed: Unable to obtain correct plug status or plug is not available"
	case errors.Is(r.Err, ErrUnsupported):
		return "Failed: Action not supported by this fence device"
	}
	return "Failed: Fence action did not complete"
}

// String is a one-line summary for logs and fence history.
func (r Result) String() string {
	plug := ""
	if r.Plug != "" {
		plug = " plug " + r.Plug
	}
	if !r.OK {
		return fmt.Sprintf("%s%s failed after %s: %v", r.Action, plug, r.Elapsed.Round(time.Millisecond), r.Err)
	}
	s := fmt.Sprintf("%s%s ok in %s, power %s", r.Action, plug, r.Elapsed.Round(time.Millisecond), r.State)
	if r.Already {
		s += " (already)"
	}
	if r.OffVerified {
		s += ", OFF verified"
	}
	for _, w := range r.Warnings {
		s += "; warning: " + w
	}
	return s
}

// Class is what a failed (or successful) request came to, in words an
// operator reads in the fence history: a refusal is not a timeout, and a
// BMC that answers nothing is not one that denied the login.
type Class string

// Classes, from Classify.
const (
	ClassOK          Class = "ok"
	ClassRefused     Class = "refused"      // the device answered a power command with an error
	ClassDenied      Class = "login-denied" // credentials or privilege refused
	ClassUnreachable Class = "unreachable"  // nothing listening, or no answer at all
	ClassTimeout     Class = "timeout"      // accepted, but the state was never read back in time
	ClassStatus      Class = "status-error" // the power state could not be read
	ClassUnsupported Class = "unsupported"
	ClassConfig      Class = "config-error"
	ClassUnverified  Class = "unverified" // success reported without OFF read back
	ClassCancelled   Class = "cancelled"  // withdrawn (quorum or DC role lost, operator confirmed)
	ClassError       Class = "error"
)

// Classify names the cause of err (nil: ClassOK). The more specific cause
// wins: a refused power command also wraps ErrTimedOutOff (the
// fence-agents message), and is ClassRefused.
func Classify(err error) Class {
	switch {
	case err == nil:
		return ClassOK
	case errors.Is(err, context.Canceled):
		return ClassCancelled
	case errors.Is(err, ErrRefused):
		return ClassRefused
	case errors.Is(err, ErrLoginDenied):
		return ClassDenied
	case errors.Is(err, ErrUnreachable):
		return ClassUnreachable
	case errors.Is(err, ErrTimedOutOff), errors.Is(err, ErrTimedOutOn), errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout
	case errors.Is(err, ErrStatus):
		return ClassStatus
	case errors.Is(err, ErrUnsupported):
		return ClassUnsupported
	case errors.Is(err, ErrConfig):
		return ClassConfig
	}
	return ClassError
}
