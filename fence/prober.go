package fence

import (
	"context"
	"fmt"
	"sync"

	"palisade/fence/clock"
)

// Prober checks one device's health again and again: the daemon's device
// monitor, which finds a dead BMC or PDU before a fence needs it. Where
// the plugin allows it (Plugin.KeepSession: Redfish, APC SNMP) the Prober
// keeps one session open between checks, so a check is one status read
// (a few milliseconds) instead of a login; a check that fails on the kept
// session is tried once more on a new one before it counts, since a BMC
// may have dropped an idle session. Other plugins run the monitor action
// as a whole request each time (login, status, logout).
//
// A check never changes power: it reads the state (the plug's, on a PDU)
// or runs the plugin's own monitor (fence.Monitorer), and fails on
// UNKNOWN. Safe for concurrent use; checks are serialized.
type Prober struct {
	a   *Agent
	clk clock.Clock

	mu  sync.Mutex
	dev Device
}

// Prober returns a Prober for a; Close it when done.
func (a *Agent) Prober() *Prober { return &Prober{a: a, clk: clock.Or(a.Clock)} }

// CheckResult is one check's outcome.
type CheckResult struct {
	// Reused: the check ran on the session kept from the last one.
	Reused bool
	// State is the power state read (PowerUnknown for a plugin monitor
	// that does not read one).
	State PowerState
	Err   error
}

// Check runs one health check bounded by ctx.
func (p *Prober) Check(ctx context.Context) CheckResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.a.Plugin.KeepSession {
		res := p.a.Do(ctx, ActionMonitor)
		return CheckResult{State: res.State, Err: res.Err}
	}
	req, err := RequestFromOptions(ActionMonitor, p.a.Options)
	if err != nil {
		return CheckResult{Err: err}
	}
	if p.dev != nil {
		st, err := p.probe(ctx, p.dev, req)
		if err == nil {
			return CheckResult{Reused: true, State: st}
		}
		// The session may be what failed (expired, socket gone): drop it
		// and judge the device on a new one.
		closeQuietly(p.dev)
		p.dev = nil
		if ctx.Err() != nil {
			return CheckResult{Reused: true, State: st, Err: err}
		}
	}
	dev, err := login(ctx, p.clk, p.a.open, req.LoginTimeout)
	if err != nil {
		return CheckResult{Err: err}
	}
	st, err := p.probe(ctx, dev, req)
	if err != nil {
		closeQuietly(dev)
		return CheckResult{State: st, Err: err}
	}
	p.dev = dev
	return CheckResult{State: st}
}

// probe is one monitor on an open session: on a device with outlets
// (a Lister) and a configured plug, a status read of that plug (one
// request, and it proves the node's outlets exist); otherwise the
// plugin's Monitorer, or a status read that must answer ON or OFF.
func (p *Prober) probe(ctx context.Context, dev Device, req Request) (PowerState, error) {
	_, outlets := dev.(Lister)
	if m, ok := dev.(Monitorer); ok && !(outlets && req.Plug != "") {
		cctx, cancel := withTimeout(ctx, p.clk, req.ShellTimeout)
		defer cancel()
		if err := m.Monitor(cctx); err != nil {
			return PowerUnknown, fmt.Errorf("monitoring device: %w", err)
		}
		return PowerUnknown, nil
	}
	st, err := status(ctx, p.clk, dev, req)
	if err != nil || st == PowerUnknown {
		return st, statusErr(err, st)
	}
	return st, nil
}

// Close ends the kept session, if any.
func (p *Prober) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dev == nil {
		return nil
	}
	err := p.dev.Close()
	p.dev = nil
	return err
}
