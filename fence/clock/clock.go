// Package clock is the time source of the fencing core (package fence and
// fence/topology): every wait, deadline and timestamp of a fence request
// goes through a Clock, so the daemon runs on the wall clock (Real) and
// tests run whole fence attempts — delays, login retries, power
// verification, attempt timeouts — in logical time, in microseconds and
// without sleeping (Logical).
//
//	clk := clock.NewLogical(time.Unix(1e9, 0))
//	ctx, cancel := clk.WithTimeout(ctx, 60*time.Second) // fires in logical time
//	defer cancel()
//	err := clk.Sleep(ctx, 5*time.Second) // returns at once; Now() moved 5s
//
// The other cores (membership, the recovery gate, the DC engine) are pure
// state machines stepped with a "now"; the fencing core is not (it drives
// devices and waits for them), so it takes a Clock instead.
package clock

import (
	"context"
	"time"
)

// Clock is what the fencing core needs of time.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// Sleep waits d, or until ctx ends (then it returns ctx.Err()). A d of
	// zero or less returns ctx.Err() at once.
	Sleep(ctx context.Context, d time.Duration) error
	// WithTimeout is context.WithTimeout on this clock: the context ends
	// with context.DeadlineExceeded once d has passed on it.
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// Real is the wall clock.
var Real Clock = real{}

type real struct{}

func (real) Now() time.Time { return time.Now() }

func (real) Sleep(ctx context.Context, d time.Duration) error {
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

func (real) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// Or returns c, or Real when c is nil (for optional Clock fields).
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}
