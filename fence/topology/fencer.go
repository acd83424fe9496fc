package topology

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"palisade/fence"
	"palisade/fence/clock"
)

// Agent is what the fencer needs from one device: run a power action
// (off or reboot) on the target and report whether OFF was verified.
// *fence.Agent satisfies it (and Prober, for the device monitor).
type Agent interface {
	Do(ctx context.Context, action fence.Action) fence.Result
}

// AgentFactory builds an Agent for a configured device.
type AgentFactory func(d Device) (Agent, error)

// FenceAgents builds devices with the fence core's plugin registry (import
// the plugins, e.g. _ "palisade/plugins/ipmi", for their registration).
func FenceAgents(d Device) (Agent, error) {
	a, err := fence.NewAgent(d.Plugin, d.Params)
	if err != nil {
		return nil, fmt.Errorf("fence device %s (line %d): %w", d.Name, d.Line, err)
	}
	return a, nil
}

// Step is one device's result within an attempt.
type Step struct {
	Level       int         `json:"level"`
	Device      string      `json:"device"`
	OK          bool        `json:"ok"`
	VerifiedOff bool        `json:"verified_off"`
	Result      fence.Class `json:"result"`
	Err         string      `json:"error,omitempty"`
	// Delay is what the step waited before using the device (requested
	// delay on the first device, delay_base and delay_max's random part).
	Delay   time.Duration `json:"delay_ns,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Note is the device's remark (who confirmed a manual fence).
	Note string `json:"note,omitempty"`
}

// Outcome is the result of one fence attempt over the target's topology.
type Outcome struct {
	Target string       `json:"target"`
	Action fence.Action `json:"action"`
	// Level is the level that fenced the node (1-based), 0 if none did.
	Level int `json:"level"`
	// LastLevel is the last level tried (the one that fenced, or the one
	// whose failure ended the attempt); 0 when none was tried.
	LastLevel int `json:"last_level"`
	// Devices names the devices of the successful level, comma-separated.
	Devices string `json:"devices,omitempty"`
	Steps   []Step `json:"steps,omitempty"`
	// Result classifies the attempt: ok, or why it failed (the last
	// step's class, cancelled, timeout for the attempt's own deadline).
	Result fence.Class `json:"result"`
	Err    error       `json:"-"`
	// Error is Err's text (for JSON: fence history over the socket).
	Error string `json:"error,omitempty"`
	// Cause is why the attempt as a whole ended when its steps do not
	// say it (no topology, attempt_timeout, withdrawn by the requester).
	Cause   string        `json:"cause,omitempty"`
	Start   time.Time     `json:"start"`
	End     time.Time     `json:"end"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Confirmed reports whether the node is proven off: a whole level
// succeeded with OFF verified on each of its devices.
func (o Outcome) Confirmed() bool { return o.Level > 0 && o.Err == nil }

// ErrNoTopology: the node has no fence devices configured.
var ErrNoTopology = errors.New("no fence topology for node")

// Request is one fence attempt to make.
type Request struct {
	Target string
	// Delay is waited before the first device of the first level only,
	// as Pacemaker's fencer does with a requested delay (the priority
	// fencing delay, see PriorityDelay). Device delays add to it.
	Delay time.Duration
}

// Option tunes NewFencer.
type Option func(*Fencer)

// WithClock runs the fencer's delays, timeouts and timestamps on c.
func WithClock(c clock.Clock) Option { return func(f *Fencer) { f.clk = clock.Or(c) } }

// WithRand draws the random part of device delays: a duration in [0, n).
// The default is math/rand/v2.
func WithRand(r func(n time.Duration) time.Duration) Option { return func(f *Fencer) { f.rand = r } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(f *Fencer) { f.log = l } }

// Fencer fences nodes through their topology. Safe for concurrent use;
// attempts for the same target are serialized (power commands are not
// idempotent, see DESIGN.md on ipmi_sim).
type Fencer struct {
	cfg    *Config
	agents map[string]Agent
	clk    clock.Clock
	rand   func(time.Duration) time.Duration
	log    *slog.Logger
	// timeouts is the attempt timeout per target (room for manual levels).
	timeouts map[string]time.Duration
	// inUse counts fence steps running on each device: the device monitor
	// leaves a device alone while a fence uses it.
	inUse map[string]*atomic.Int32

	mu      sync.Mutex
	busy    map[string]*sync.Mutex
	history []Outcome
}

// HistoryLen is how many outcomes History keeps.
const HistoryLen = 256

// NewFencer builds every device now, so configuration errors (a missing
// password file, an unknown plugin, an attempt_timeout that leaves a
// manual level no time) surface at start-up, not at the first fence.
func NewFencer(cfg *Config, build AgentFactory, opts ...Option) (*Fencer, error) {
	f := &Fencer{cfg: cfg, agents: map[string]Agent{}, busy: map[string]*sync.Mutex{}, clk: clock.Real,
		rand: func(n time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(n))) }, log: slog.Default(),
		timeouts: map[string]time.Duration{}, inUse: map[string]*atomic.Int32{}}
	for _, o := range opts {
		o(f)
	}
	var errs []error
	for _, name := range slices.Sorted(mapKeys(cfg.Devices)) {
		f.inUse[name] = &atomic.Int32{}
		a, err := build(cfg.Devices[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if fa, ok := a.(*fence.Agent); ok && fa.Clock == nil {
			fa.Clock = f.clk
		}
		f.agents[name] = a
	}
	for _, t := range slices.Sorted(mapKeys(cfg.Levels)) {
		d, err := attemptTimeout(cfg, t)
		if err != nil {
			errs = append(errs, err)
		}
		f.timeouts[t] = d
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(y func(string) bool) {
		for k := range m {
			if !y(k) {
				return
			}
		}
	}
}

// manualWait is how long a device waits for a person (its power_timeout)
// when its plugin is a manual one (fence_manual); ok is false otherwise.
func manualWait(d Device) (time.Duration, bool) {
	p, err := fence.Lookup(d.Plugin)
	if err != nil || !p.Manual {
		return 0, false
	}
	opts, err := fence.Normalize(p, d.Plugin, d.Params)
	if err != nil {
		return 0, false
	}
	return opts.Seconds(fence.OptPowerTimeout) + opts.Seconds(fence.OptDelay) + max(d.DelayMax, d.DelayBase), true
}

// attemptTimeout is the bound of one attempt on target. A level with a
// manual device needs its whole wait for the operator: without an
// attempt_timeout of its own, the target gets the default plus that
// wait; an attempt_timeout that is shorter than the wait is refused.
func attemptTimeout(cfg *Config, target string) (time.Duration, error) {
	var manual time.Duration
	var names []string
	for _, level := range cfg.Levels[target] {
		var wait time.Duration
		for _, name := range level {
			if w, ok := manualWait(cfg.Devices[name]); ok {
				wait = max(wait, w)
				names = append(names, name)
			}
		}
		manual += wait
	}
	switch {
	case manual == 0:
		return cfg.AttemptTimeout, nil
	case !cfg.AttemptTimeoutSet:
		return cfg.AttemptTimeout + manual, nil
	case cfg.AttemptTimeout <= manual:
		return cfg.AttemptTimeout, fmt.Errorf("fencing.attempt_timeout %v leaves the manual level of %s (%s) no time to wait for an operator (%v): raise it above %v, lower the device's power_timeout, or leave attempt_timeout unset (then %s gets %v + %v)",
			cfg.AttemptTimeout, target, strings.Join(names, ", "), manual, manual, target, DefaultAttemptTimeout, manual)
	}
	return cfg.AttemptTimeout, nil
}

// AttemptTimeout is the bound of one attempt on target.
func (f *Fencer) AttemptTimeout(target string) time.Duration {
	if d, ok := f.timeouts[target]; ok {
		return d
	}
	return f.cfg.AttemptTimeout
}

// Fence runs one attempt on target with no requested delay.
func (f *Fencer) Fence(ctx context.Context, target string) Outcome {
	return f.Do(ctx, Request{Target: target})
}

// Do runs one attempt: levels in order, devices of a level in order,
// stopping at the first level whose devices all verified OFF. ctx bounds
// the attempt; the target's AttemptTimeout applies on top.
func (f *Fencer) Do(ctx context.Context, req Request) (out Outcome) {
	target := req.Target
	f.mu.Lock()
	lk := f.busy[target]
	if lk == nil {
		lk = &sync.Mutex{}
		f.busy[target] = lk
	}
	f.mu.Unlock()
	lk.Lock()
	defer lk.Unlock()

	parent := ctx
	ctx, cancel := f.clk.WithTimeout(ctx, f.AttemptTimeout(target))
	defer cancel()
	action := f.cfg.Action
	if action == "" {
		action = fence.ActionOff
	}
	out = Outcome{Target: target, Action: action, Start: f.clk.Now()}
	defer func() {
		out.End = f.clk.Now()
		out.Elapsed = out.End.Sub(out.Start)
		if out.Err != nil {
			out.Error = out.Err.Error()
		}
		f.mu.Lock()
		f.history = append(f.history, out)
		if len(f.history) > HistoryLen {
			f.history = f.history[len(f.history)-HistoryLen:]
		}
		f.mu.Unlock()
	}()
	levels := f.cfg.Levels[target]
	if len(levels) == 0 {
		out.Err = fmt.Errorf("fence %s: %w", target, ErrNoTopology)
		out.Result, out.Cause = fence.ClassConfig, ErrNoTopology.Error()
		return out
	}
	var failures []string
	for i, level := range levels {
		ok := true
		out.LastLevel = i + 1
		for j, name := range level {
			var extra time.Duration
			if i == 0 && j == 0 {
				extra = req.Delay
			}
			st := f.runDevice(ctx, i+1, name, target, action, extra)
			out.Steps = append(out.Steps, st)
			if !st.OK || !st.VerifiedOff {
				ok = false
				out.Result = st.Result
				failures = append(failures, fmt.Sprintf("level %d %s: %s: %s", i+1, name, st.Result, st.Err))
				break // the level failed; the remaining devices of it are pointless
			}
		}
		if ok {
			out.Level, out.Devices, out.Result = i+1, strings.Join(level, ","), fence.ClassOK
			return out
		}
		if ctx.Err() != nil {
			break
		}
	}
	out.Err = fmt.Errorf("fence %s: every topology level failed: %s", target, strings.Join(failures, "; "))
	switch {
	case parent.Err() != nil:
		// Withdrawn (quorum or the DC role lost, an operator confirmed)
		// or the caller's own deadline: not the devices' doing.
		out.Cause = fmt.Sprintf("ended by its requester (%v)", parent.Err())
		out.Err = fmt.Errorf("fence %s: ended by its requester (%w): %s", target, parent.Err(), strings.Join(failures, "; "))
		out.Result = fence.Classify(parent.Err())
	case ctx.Err() != nil:
		out.Cause = fmt.Sprintf("attempt_timeout %v passed", f.AttemptTimeout(target))
		out.Err = fmt.Errorf("fence %s: %s: %s", target, out.Cause, strings.Join(failures, "; "))
		out.Result = fence.ClassTimeout
	}
	return out
}

// deviceDelay is Pacemaker's per-device delay: delay_base (for target),
// plus a random part that keeps the whole within delay_max.
func (f *Fencer) deviceDelay(d Device, target string) time.Duration {
	base := d.DelayBase
	if b, ok := d.DelayBaseFor[target]; ok {
		base = b
	}
	if d.DelayMax > base && f.rand != nil {
		return base + f.rand(d.DelayMax-base+1)
	}
	return base
}

func (f *Fencer) runDevice(ctx context.Context, level int, name, target string, action fence.Action, extra time.Duration) Step {
	st := Step{Level: level, Device: name}
	a := f.agents[name]
	if a == nil {
		st.Err, st.Result = "device not built", fence.ClassConfig
		return st
	}
	if n := f.inUse[name]; n != nil {
		n.Add(1)
		defer n.Add(-1)
	}
	st.Delay = extra + f.deviceDelay(f.cfg.Devices[name], target)
	if st.Delay > 0 {
		f.log.Info("delaying before fencing", "target", target, "device", name, "delay", st.Delay, "requested", extra)
		if err := f.clk.Sleep(ctx, st.Delay); err != nil {
			err = fmt.Errorf("waiting %v before fencing: %w", st.Delay, err)
			st.Err, st.Result = err.Error(), fence.Classify(err)
			return st
		}
	}
	start := f.clk.Now()
	res := a.Do(ctx, action)
	st.Elapsed = f.clk.Now().Sub(start)
	st.OK, st.VerifiedOff, st.Note = res.OK, res.Fenced(), res.Note
	st.Result = fence.Classify(res.Err)
	switch {
	case res.Err != nil:
		st.Err = res.Err.Error()
	case !res.OK:
		st.Err, st.Result = "device reported failure without a cause", fence.ClassError
	case !res.Fenced():
		st.Err, st.Result = "device reported success but OFF was not read back", fence.ClassUnverified
	}
	return st
}

// History returns the recorded outcomes, oldest first.
func (f *Fencer) History() []Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Outcome(nil), f.history...)
}

// Targets lists the nodes that have a topology.
func (f *Fencer) Targets() []string {
	return slices.Sorted(mapKeys(f.cfg.Levels))
}
