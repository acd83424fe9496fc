package fence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// firstPoll is the first pause between status reads while verifying a
// power change. Reads back off (doubling) up to Request.StatusSleep, so a
// fast device is confirmed in milliseconds and a slow one is not hammered.
const firstPoll = 10 * time.Millisecond

// Execute runs one request against the device that open connects to, in a
// single session: delay, login (bounded by LoginTimeout), then the action
// with every power change verified by reading the state back. ctx is the
// whole request's deadline; when it expires the request fails.
func Execute(ctx context.Context, open Opener, req Request) (res Result) {
	start := time.Now()
	res = Result{Action: req.Action, Plug: req.Plug}
	defer func() { res.Elapsed = time.Since(start) }()
	log := slog.Default().With("action", string(req.Action))

	switch req.Action {
	case ActionOff, ActionReboot, ActionDiag:
		if req.Delay > 0 {
			log.Info("delaying before fencing", "delay", req.Delay)
			if err := sleep(ctx, req.Delay); err != nil {
				res.Err = fmt.Errorf("waiting %s before fencing: %w", req.Delay, err)
				return res
			}
		}
	}

	dev, err := login(ctx, open, req.LoginTimeout)
	if err != nil {
		res.Err = err
		return res
	}
	defer func() {
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

	st, err := dev.Status(ctx, req.Plug)
	res.State = st
	if err != nil || st == PowerUnknown {
		res.Err = statusErr(err, st)
		return res
	}
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
		res.State, res.Err = setAndVerify(ctx, dev, req, want, attempts)
		res.OK = res.Err == nil
		res.OffVerified = res.OK && want == PowerOff
		return res
	case ActionReboot:
		return reboot(ctx, dev, req, st, res)
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

func reboot(ctx context.Context, dev Device, req Request, st PowerState, res Result) Result {
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
		if err := sleep(ctx, req.PowerWait); err != nil {
			res.Err = err
			return res
		}
		res.OK = true
		return res
	}
	if st != PowerOff {
		var err error
		if res.State, err = setAndVerify(ctx, dev, req, PowerOff, 1); err != nil {
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
	if res.State, err = setAndVerify(ctx, dev, req, PowerOn, req.RetryOn); err != nil {
		res.Warnings = append(res.Warnings, "Timed out waiting to power ON: "+err.Error())
	}
	return res
}

// setAndVerify sends the power command and reads the state back until it
// matches want, power_timeout passes, or ctx ends. A command the device
// rejects fails at once (after one read, in case it was already done).
func setAndVerify(ctx context.Context, dev Device, req Request, want PowerState, attempts int) (PowerState, error) {
	on := want == PowerOn
	timeoutErr := ErrTimedOutOff
	if on {
		timeoutErr = ErrTimedOutOn
	}
	last := PowerUnknown
	var lastErr error
	for a := 0; a < attempts; a++ {
		if err := dev.SetPower(ctx, req.Plug, on); err != nil {
			st, serr := dev.Status(ctx, req.Plug)
			if serr == nil && st == want {
				return st, nil
			}
			return st, fmt.Errorf("%w: device refused power %s: %w", timeoutErr, want, err)
		}
		if err := sleep(ctx, req.PowerWait); err != nil {
			return last, fmt.Errorf("%w: %w", timeoutErr, err)
		}
		vctx, cancel := ctx, context.CancelFunc(func() {})
		if req.PowerTimeout > 0 {
			vctx, cancel = context.WithTimeout(ctx, req.PowerTimeout)
		}
		last, lastErr = poll(vctx, dev, req, want)
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

func poll(ctx context.Context, dev Device, req Request, want PowerState) (PowerState, error) {
	wait := firstPoll
	limit := req.StatusSleep
	if limit <= 0 {
		limit = time.Second
	}
	last := PowerUnknown
	var lastErr error
	for {
		st, err := dev.Status(ctx, req.Plug)
		if err == nil {
			last = st
			if st == want {
				return st, nil
			}
		} else {
			lastErr = err
		}
		if err := sleep(ctx, wait); err != nil {
			if lastErr != nil {
				return last, fmt.Errorf("%w (last read error: %w)", err, lastErr)
			}
			return last, err
		}
		wait = min(2*wait, limit)
	}
}

func login(ctx context.Context, open Opener, timeout time.Duration) (Device, error) {
	lctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		lctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	dev, err := open(lctx)
	if err == nil {
		return dev, nil
	}
	if errors.Is(err, ErrLoginDenied) || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrConfig) {
		return nil, fmt.Errorf("logging in: %w", err)
	}
	if lctx.Err() != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("logging in: %w within login_timeout %s: %w", ErrUnreachable, timeout, err)
	}
	return nil, fmt.Errorf("logging in: %w", err)
}

func statusErr(err error, st PowerState) error {
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStatus, err)
	}
	return fmt.Errorf("%w: device reported %s", ErrStatus, st)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
