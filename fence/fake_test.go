package fence

import (
	"context"
	"fmt"
	"sync"

	"palisade/fence/clock"
)

// fakeDevice is a scripted power device for Execute's tests.
type fakeDevice struct {
	// clk, when set, is the scenario's logical clock.
	clk *clock.Logical

	mu    sync.Mutex
	state PowerState
	// ignoreSet: accept power commands, change nothing (a BMC that never
	// performs); ignoreOn only for "on".
	ignoreSet, ignoreOn bool
	// setErr is returned by SetPower (a BMC that refuses).
	setErr error
	// statusErr is returned by Status.
	statusErr error
	// lagReads: a power change becomes visible only after this many reads.
	lagReads int
	pending  *PowerState
	cycle    bool // implements Cycler
	cycleErr error

	// silentReads: this many status reads fail as a device that went silent.
	silentReads int
	logins      int

	sets   []bool
	reads  int
	cycles int
	closed bool
}

func (f *fakeDevice) Status(ctx context.Context, _ string) (PowerState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.silentReads > 0 {
		f.silentReads--
		return PowerUnknown, fmt.Errorf("%w: bmc: no reply to chassis status", ErrNoAnswer)
	}
	if f.statusErr != nil {
		return PowerUnknown, f.statusErr
	}
	if f.pending != nil {
		if f.lagReads <= 0 {
			f.state, f.pending = *f.pending, nil
		} else {
			f.lagReads--
		}
	}
	return f.state, nil
}

func (f *fakeDevice) SetPower(ctx context.Context, _ string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets = append(f.sets, on)
	if f.setErr != nil {
		return f.setErr
	}
	if f.ignoreSet || (on && f.ignoreOn) {
		return nil
	}
	want := PowerOff
	if on {
		want = PowerOn
	}
	f.pending = &want
	return nil
}

func (f *fakeDevice) Close() error { f.closed = true; return nil }

// cyclingDevice adds Cycle.
type cyclingDevice struct{ *fakeDevice }

func (c cyclingDevice) Cycle(ctx context.Context, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cycles++
	return c.cycleErr
}

func (f *fakeDevice) opener() Opener {
	return func(ctx context.Context) (Device, error) {
		if f.cycle {
			return cyclingDevice{f}, nil
		}
		return f, nil
	}
}

// openerErr fails login with err.
func openerErr(err error) Opener {
	return func(ctx context.Context) (Device, error) { return nil, err }
}

// openerHang never answers, like a BMC that is down: only ctx ends it
// (on clk: its deadline there).
func openerHang(clk clock.Clock) Opener {
	return func(ctx context.Context) (Device, error) {
		err := clk.Sleep(ctx, clock.Forever)
		return nil, fmt.Errorf("no answer: %w", err)
	}
}
