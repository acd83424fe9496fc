package fence

import (
	"context"
	"errors"
	"fmt"
)

// PowerState is what a device reports for one plug.
type PowerState int

const (
	// PowerUnknown means the state could not be read or was not ON/OFF.
	PowerUnknown PowerState = iota
	PowerOn
	PowerOff
)

func (s PowerState) String() string {
	switch s {
	case PowerOn:
		return "ON"
	case PowerOff:
		return "OFF"
	}
	return "UNKNOWN"
}

// Device is one open connection (session) to a fence device. Plugins
// implement it; everything else (verification, retries, timeouts, the
// reboot sequence) is done once in Execute. A Device is used by one request
// at a time and closed by Execute when the request ends, so a plugin can keep
// a single session for the whole action instead of logging in per step.
//
// plug is the plug/outlet/port identifier; devices that control a single
// machine (IPMI BMCs) ignore it.
type Device interface {
	// Status reads the current power state of plug.
	Status(ctx context.Context, plug string) (PowerState, error)
	// SetPower asks the device to switch plug on or off. It must not wait
	// for the change: Execute verifies it by polling Status.
	SetPower(ctx context.Context, plug string, on bool) error
	// Close ends the session. Errors are logged, never fatal: the fence
	// result is already known when Close runs.
	Close() error
}

// Cycler is implemented by devices that can power-cycle in one command
// (method=cycle, IPMI "chassis power cycle").
type Cycler interface {
	Cycle(ctx context.Context, plug string) error
}

// Diagnoser is implemented by devices that can send a diagnostic interrupt
// (NMI), fence-agents' "diag" action.
type Diagnoser interface {
	Diag(ctx context.Context, plug string) error
}

// Plug is one entry of a device's outlet list.
type Plug struct {
	ID    string
	Alias string
	State PowerState
}

// Lister is implemented by devices with several plugs (PDUs, hypervisors).
// Devices without it answer "list" like fence-agents does for single-machine
// devices.
type Lister interface {
	List(ctx context.Context) ([]Plug, error)
}

// Monitorer is implemented by devices that have a cheaper or more thorough
// health check than reading the power state. Without it, monitor = status.
type Monitorer interface {
	Monitor(ctx context.Context) error
}

// Noter is implemented by devices with something to say about the request
// that the result does not carry (meatware: who confirmed); Execute puts
// it in Result.Note, and the fence history shows it.
type Noter interface {
	Note() string
}

// Opener connects to a device and returns an open session. Execute calls it
// under login_timeout.
type Opener func(ctx context.Context) (Device, error)

// Errors a plugin wraps so that Execute and callers can tell failures apart
// (errors.Is). Plugins must never put secrets into the wrapping text.
var (
	// ErrLoginDenied: the device answered and refused the credentials or
	// the privilege level.
	ErrLoginDenied = errors.New("login denied")
	// ErrUnreachable: the device cannot be reached: nothing listens at its
	// address (a refusal, reported at once) or it answers nothing at all
	// (ErrNoAnswer, which wraps it).
	ErrUnreachable = errors.New("device not answering")
	// ErrNoAnswer: the device stayed silent (no reply within the per-try
	// timeout). Execute logs in again with backoff while the request's
	// silent-device budget lasts, since a hung BMC often comes back; every
	// other failure is reported at once. errors.Is(err, ErrUnreachable)
	// holds for it too.
	ErrNoAnswer = fmt.Errorf("%w: no answer", ErrUnreachable)
	// ErrTimedOutOff: the device accepted "off" but never reported OFF
	// within power_timeout.
	ErrTimedOutOff = errors.New("timed out waiting to power OFF")
	// ErrTimedOutOn: the same for "on".
	ErrTimedOutOn = errors.New("timed out waiting to power ON")
	// ErrStatus: the state could not be read or was neither ON nor OFF.
	ErrStatus = errors.New("unable to obtain correct plug status")
	// ErrUnsupported: the device cannot do the requested action.
	ErrUnsupported = errors.New("action not supported by device")
	// ErrConfig: the parameters are invalid (missing address, bad value...).
	ErrConfig = errors.New("invalid fence device configuration")
	// ErrRefused: the device answered a power command with an error (an
	// IPMI completion code, an HTTP error, an SNMP wrongValue). Execute
	// wraps it together with ErrTimedOutOff/ErrTimedOutOn, which keep the
	// fence-agents message ("Timed out waiting to power OFF"), so that the
	// fence history can say what happened: a refusal, not a timeout.
	ErrRefused = errors.New("device refused the command")
)
