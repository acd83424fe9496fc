package fence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"palisade/fence/clock"
)

// firstPoll is the first pause between status reads while verifying a
// power change. Reads back off (doubling) up to Request.StatusSleep, so a
// fast device is confirmed in milliseconds and a slow one is not hammered.
const firstPoll = 10 * time.Millisecond

// Pauses between logins to a device that answered nothing: short at first
// (a BMC that was only busy answers the next try), doubling up to
// maxRetryPause so a long outage is not hammered.
const (
	firstRetryPause = 250 * time.Millisecond
	maxRetryPause   = 2 * time.Second
)

// Execute runs one request against the device that open connects to, in a
// single session: delay, login (each try bounded by LoginTimeout; a device
// that answers nothing is tried again with backoff for SilentBudget), then
// the action with every power change verified by reading the state back.
// ctx is the whole request's deadline; when it expires the request fails.
func Execute(ctx context.Context, open Opener, req Request) (res Result) {
	return ExecuteWith(ctx, clock.Real, open, req)
}

// ExecuteWith is Execute on clk: every delay, pause, poll interval and
// timeout of the request runs on it (tests pass a clock.Logical).
func ExecuteWith(ctx context.Context, clk clock.Clock, open Opener, req Request) (res Result) {
	clk = clock.Or(clk)
	start := clk.Now()
	res = Result{Action: req.Action, Plug: req.Plug}
	defer func() { res.Elapsed = clk.Now().Sub(start) }()
	log := slog.Default().With("action", string(req.Action))

	switch req.Action {
	case ActionOff, ActionReboot, ActionDiag:
		if req.Delay > 0 {
			log.Info("delaying before fencing", "delay", req.Delay)
			if err := clk.Sleep(ctx, req.Delay); err != nil {
				res.Err = fmt.Errorf("waiting %s before fencing: %w", req.Delay, err)
				return res
			}
		}
	}

	dev, st, err := connect(ctx, open, req, clk, needsStatus(req.Action))
	if err != nil {
		res.State = st
		res.Err = err
		return res
	}
	defer func() {
		if n, ok := dev.(Noter); ok {
			res.Note = n.Note()
		}
		if cerr := dev.Close(); cerr != nil {
			log.Debug("closing device session", "err", cerr)
		}
	}()

	switch req.Action {
	case ActionList, ActionListStatus:
		l, ok := dev.(Lister)
		if !ok {
			res.OK, res.ListUnsupported = true, true
			return res
		}
		plugs, err := l.List(ctx)
		if err != nil {
			res.Err = fmt.Errorf("listing plugs: %w", err)
			return res
		}
		res.OK, res.Plugs = true, plugs
		return res
	case ActionMonitor:
		if m, ok := dev.(Monitorer); ok {
			if err := m.Monitor(ctx); err != nil {
				res.Err = fmt.Errorf("monitoring device: %w", err)
				return res
			}
			res.OK = true
			return res
		}
	}

	if !needsStatus(req.Action) {
		st, err = status(ctx, clk, dev, req)
		if err != nil || st == PowerUnknown {
			res.State, res.Err = st, statusErr(err, st)
			return res
		}
	}
	res.State = st
	log.Debug("initial power state", "state", st)

	switch req.Action {
	case ActionStatus, ActionMonitor:
		res.OK = true
		return res
	case ActionOn, ActionOff:
		want := PowerOn
		attempts := 1 + req.RetryOn
		if req.Action == ActionOff {
			want, attempts = PowerOff, 1
		}
		if st == want {
			res.OK, res.Already = true, true
			res.OffVerified = want == PowerOff
			return res
		}
		res.State, res.Err = setAndVerify(ctx, clk, dev, req, want, attempts)
		res.OK = res.Err == nil
		res.OffVerified = res.OK && want == PowerOff
		return res
	case ActionReboot:
		return reboot(ctx, clk, dev, req, st, res)
	case ActionDiag:
		d, ok := dev.(Diagnoser)
		if !ok {
			res.Err = fmt.Errorf("diag: %w", ErrUnsupported)
			return res
		}
		if err := d.Diag(ctx, req.Plug); err != nil {
			res.Err = fmt.Errorf("sending diagnostic interrupt: %w", err)
			return res
		}
		res.OK = true
		return res
	}
	res.Err = fmt.Errorf("%w: action %q", ErrUnsupported, req.Action)
	return res
}

func reboot(ctx context.Context, clk clock.Clock, dev Device, req Request, st PowerState, res Result) Result {
	if req.Method == MethodCycle {
		c, ok := dev.(Cycler)
		if !ok {
			res.Err = fmt.Errorf("reboot with method=cycle: %w", ErrUnsupported)
			return res
		}
		var err error
		for i := 0; i < 1+req.RetryOn; i++ {
			if err = c.Cycle(ctx, req.Plug); err == nil {
				break
			}
		}
		if err != nil {
			res.Err = fmt.Errorf("power cycle: %w", err)
			return res
		}
		if err := clk.Sleep(ctx, req.PowerWait); err != nil {
			res.Err = err
			return res
		}
		res.OK = true
		return res
	}
	if st != PowerOff {
		var err error
		if res.State, err = setAndVerify(ctx, clk, dev, req, PowerOff, 1); err != nil {
			res.Err = err
			return res
		}
	}
	// From here on the machine is fenced; a failing "on" is reported as a
	// warning, as fence-agents does, never as a failed fence.
	res.OffVerified, res.OK = true, true
	if req.RetryOn < 1 {
		res.Warnings = append(res.Warnings, "Timed out waiting to power ON")
		return res
	}
	var err error
	if res.State, err = setAndVerify(ctx, clk, dev, req, PowerOn, req.RetryOn); err != nil {
		res.Warnings = append(res.Warnings, "Timed out waiting to power ON: "+err.Error())
	}
	return res
}

// setAndVerify sends the power command and reads the state back until it
// matches want, power_timeout passes, or ctx ends. A command the device
// rejects fails at once (after one read, in case it was already done).
func setAndVerify(ctx context.Context, clk clock.Clock, dev Device, req Request, want PowerState, attempts int) (PowerState, error) {
	on := want == PowerOn
	timeoutErr := ErrTimedOutOff
	if on {
		timeoutErr = ErrTimedOutOn
	}
	last := PowerUnknown
	var lastErr error
	for a := 0; a < attempts; a++ {
		if err := setPower(ctx, clk, dev, req, on); err != nil {
			st, serr := status(ctx, clk, dev, req)
			if serr == nil && st == want {
				return st, nil
			}
			if errors.Is(err, ErrUnreachable) {
				// Silent after the command was sent: we cannot know
				// whether it ran, and resending is not safe (power
				// commands are not idempotent on every device).
				return st, fmt.Errorf("power %s sent, then %w", want, err)
			}
			// fence-agents reports a refused command as a timeout; the
			// refusal stays visible to errors.Is for the fence history.
			return st, fmt.Errorf("%w: %w: power %s: %w", timeoutErr, ErrRefused, want, err)
		}
		if err := clk.Sleep(ctx, req.PowerWait); err != nil {
			return last, fmt.Errorf("%w: %w", timeoutErr, err)
		}
		vctx, cancel := ctx, context.CancelFunc(func() {})
		if req.PowerTimeout > 0 {
			vctx, cancel = clk.WithTimeout(ctx, req.PowerTimeout)
		}
		last, lastErr = poll(vctx, clk, dev, req, want)
		cancel()
		if lastErr == nil {
			return last, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return last, fmt.Errorf("%w (last state %s): %w", timeoutErr, last, lastErr)
}

func poll(ctx context.Context, clk clock.Clock, dev Device, req Request, want PowerState) (PowerState, error) {
	wait := firstPoll
	limit := req.StatusSleep
	if limit <= 0 {
		limit = time.Second
	}
	last := PowerUnknown
	var lastErr error
	for {
		st, err := status(ctx, clk, dev, req)
		if err == nil {
			last = st
			if st == want {
				return st, nil
			}
		} else {
			lastErr = err
		}
		if err := clk.Sleep(ctx, wait); err != nil {
			if lastErr != nil {
				return last, fmt.Errorf("%w (last read error: %w)", err, lastErr)
			}
			return last, err
		}
		wait = min(2*wait, limit)
	}
}

// needsStatus: every power action starts by reading the power state;
// reading it right after login also proves the session works, so a device
// that goes silent there is tried again. list and monitor may not need it
// (Lister, Monitorer); Execute reads it later when they do.
func needsStatus(a Action) bool {
	return a != ActionList && a != ActionListStatus && a != ActionMonitor
}

// connect logs in and (withStatus) reads the initial power state. A device
// that answers nothing (ErrNoAnswer, or a try that ran out of LoginTimeout)
// is tried again after a pause that doubles up to maxRetryPause, until
// SilentBudget has passed since the first try; anything else (refused,
// denied, bad configuration, an unreadable state) fails at once. The error
// for a silent device says how often and how long it was tried.
func connect(ctx context.Context, open Opener, req Request, clk clock.Clock, withStatus bool) (Device, PowerState, error) {
	first := clk.Now()
	pause := firstRetryPause
	odd := 0
	var lastErr error
	for attempt := 1; ; attempt++ {
		// Every try ends with the budget at the latest: a silent device
		// fails at SilentBudget, not up to a login_timeout later, and a
		// plugin without timeouts of its own cannot hang with
		// login_timeout disabled.
		try := req.LoginTimeout
		if req.SilentBudget > 0 {
			left := req.SilentBudget - clk.Now().Sub(first)
			if try <= 0 || left < try {
				try = max(left, time.Millisecond)
			}
		}
		dev, err := login(ctx, clk, open, try)
		if err == nil && !withStatus {
			return dev, PowerUnknown, nil
		}
		if err == nil {
			st, serr := status(ctx, clk, dev, req)
			if serr == nil && st != PowerUnknown {
				return dev, st, nil
			}
			closeQuietly(dev)
			err = statusErr(serr, st)
			if !errors.Is(serr, ErrNoAnswer) {
				return nil, st, err
			}
		}
		if ctx.Err() != nil {
			return nil, PowerUnknown, err
		}
		if !errors.Is(err, ErrNoAnswer) {
			// A failure we cannot classify (a garbled reply, a BMC that
			// answers stale requests after a hang) gets a few quick tries
			// more; a refusal or a bad configuration none.
			if !unclassified(err) || odd >= maxOddLogins {
				return nil, PowerUnknown, err
			}
			odd++
		}
		lastErr = err
		elapsed := clk.Now().Sub(first)
		silent := errors.Is(err, ErrNoAnswer)
		if req.SilentBudget <= 0 || elapsed+pause >= req.SilentBudget {
			if !silent {
				return nil, PowerUnknown, err
			}
			return nil, PowerUnknown, &SilentError{Addr: req.Addr, Attempts: attempt, Elapsed: elapsed,
				LoginTimeout: req.LoginTimeout, Budget: req.SilentBudget, Last: lastErr}
		}
		what := "device not answering; trying again"
		if !silent {
			what = "login failed for an unknown reason; trying again"
		}
		slog.Default().Warn(what, "addr", req.Addr, "attempt", attempt, "err", err,
			"elapsed", elapsed.Round(time.Millisecond), "budget", req.SilentBudget, "pause", pause)
		if err := clk.Sleep(ctx, pause); err != nil {
			return nil, PowerUnknown, fmt.Errorf("%w (waiting to try again: %w)", lastErr, err)
		}
		pause = min(2*pause, maxRetryPause)
	}
}

// maxOddLogins bounds the extra tries after a login failure that is
// neither silence nor a refusal.
const maxOddLogins = 2

func unclassified(err error) bool {
	for _, known := range []error{ErrLoginDenied, ErrUnreachable, ErrConfig, ErrUnsupported, ErrStatus} {
		if errors.Is(err, known) {
			return false
		}
	}
	return true
}

// SilentError is the failure of a device that never answered within the
// silent-device budget. It wraps ErrNoAnswer (and so ErrUnreachable).
type SilentError struct {
	Addr         string
	Attempts     int
	Elapsed      time.Duration
	LoginTimeout time.Duration
	Budget       time.Duration
	Last         error
}

func (e *SilentError) Error() string {
	per := "login_timeout disabled: each try ends when the client gives up"
	if e.LoginTimeout > 0 {
		per = fmt.Sprintf("login_timeout %s per try", e.LoginTimeout)
	}
	addr := e.Addr
	if addr == "" {
		addr = "the device"
	}
	tries := "1 login attempt"
	if e.Attempts != 1 {
		tries = fmt.Sprintf("%d login attempts", e.Attempts)
	}
	return fmt.Sprintf("no answer from %s to %s over %s (%s, retry budget %s); last: %v",
		addr, tries, e.Elapsed.Round(100*time.Millisecond), per, e.Budget, e.Last)
}

func (e *SilentError) Unwrap() error { return ErrNoAnswer }

func closeQuietly(dev Device) {
	if err := dev.Close(); err != nil {
		slog.Default().Debug("closing device session", "err", err)
	}
}

// status and setPower bound one command by ShellTimeout.
func status(ctx context.Context, clk clock.Clock, dev Device, req Request) (PowerState, error) {
	cctx, cancel := withTimeout(ctx, clk, req.ShellTimeout)
	defer cancel()
	st, err := dev.Status(cctx, req.Plug)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil && !errors.Is(err, ErrUnreachable) {
		err = fmt.Errorf("%w within shell_timeout %s: %w", ErrNoAnswer, req.ShellTimeout, err)
	}
	return st, err
}

func setPower(ctx context.Context, clk clock.Clock, dev Device, req Request, on bool) error {
	cctx, cancel := withTimeout(ctx, clk, req.ShellTimeout)
	defer cancel()
	err := dev.SetPower(cctx, req.Plug, on)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil && !errors.Is(err, ErrUnreachable) {
		err = fmt.Errorf("%w within shell_timeout %s: %w", ErrNoAnswer, req.ShellTimeout, err)
	}
	return err
}

func withTimeout(ctx context.Context, clk clock.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return clk.WithTimeout(ctx, d)
}

// login opens one session, bounded by timeout (0: only ctx bounds it). A
// try that runs out of timeout without an answer is ErrNoAnswer.
func login(ctx context.Context, clk clock.Clock, open Opener, timeout time.Duration) (Device, error) {
	lctx, cancel := withTimeout(ctx, clk, timeout)
	defer cancel()
	dev, err := open(lctx)
	if err == nil {
		return dev, nil
	}
	if errors.Is(err, ErrLoginDenied) || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrConfig) {
		return nil, fmt.Errorf("logging in: %w", err)
	}
	if lctx.Err() != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("logging in: %w within %s: %w", ErrNoAnswer, timeout, err)
	}
	return nil, fmt.Errorf("logging in: %w", err)
}

func statusErr(err error, st PowerState) error {
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStatus, err)
	}
	return fmt.Errorf("%w: device reported %s", ErrStatus, st)
}
