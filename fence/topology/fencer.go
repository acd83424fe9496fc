package topology

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"palisade/fence"
)

// Agent is what the fencer needs from one device: run a power action
// (off or reboot) on the target and report whether OFF was verified.
// *fence.Agent satisfies it.
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
	Level       int           `json:"level"`
	Device      string        `json:"device"`
	OK          bool          `json:"ok"`
	VerifiedOff bool          `json:"verified_off"`
	Err         string        `json:"error,omitempty"`
	Elapsed     time.Duration `json:"elapsed_ns"`
}

// Outcome is the result of one fence attempt over the target's topology.
type Outcome struct {
	Target string `json:"target"`
	// Level is the level that fenced the node (1-based), 0 if none did.
	Level int `json:"level"`
	// Devices names the devices of the successful level, comma-separated.
	Devices string `json:"devices,omitempty"`
	Steps   []Step `json:"steps,omitempty"`
	Err     error  `json:"-"`
	// Error is Err's text (for JSON: fence history over the socket).
	Error   string        `json:"error,omitempty"`
	Start   time.Time     `json:"start"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Confirmed reports whether the node is proven off: a whole level
// succeeded with OFF verified on each of its devices.
func (o Outcome) Confirmed() bool { return o.Level > 0 && o.Err == nil }

// ErrNoTopology: the node has no fence devices configured.
var ErrNoTopology = errors.New("no fence topology for node")

// Fencer fences nodes through their topology. Safe for concurrent use;
// attempts for the same target are serialized (power commands are not
// idempotent, see DESIGN.md on ipmi_sim).
type Fencer struct {
	cfg    *Config
	agents map[string]Agent

	mu      sync.Mutex
	busy    map[string]*sync.Mutex
	history []Outcome
}

// HistoryLen is how many outcomes History keeps.
const HistoryLen = 256

// NewFencer builds every device now, so configuration errors (a missing
// password file, an unknown plugin) surface at start-up, not at the first
// fence.
func NewFencer(cfg *Config, build AgentFactory) (*Fencer, error) {
	f := &Fencer{cfg: cfg, agents: map[string]Agent{}, busy: map[string]*sync.Mutex{}}
	var errs []error
	for name, d := range cfg.Devices {
		a, err := build(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.agents[name] = a
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// Fence runs one attempt: levels in order, devices of a level in order,
// stopping at the first level whose devices all verified OFF. ctx bounds
// the attempt; AttemptTimeout applies on top.
func (f *Fencer) Fence(ctx context.Context, target string) Outcome {
	f.mu.Lock()
	lk := f.busy[target]
	if lk == nil {
		lk = &sync.Mutex{}
		f.busy[target] = lk
	}
	f.mu.Unlock()
	lk.Lock()
	defer lk.Unlock()

	ctx, cancel := context.WithTimeout(ctx, f.cfg.AttemptTimeout)
	defer cancel()
	out := Outcome{Target: target, Start: time.Now()}
	defer func() {
		out.Elapsed = time.Since(out.Start)
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
		return out
	}
	var failures []string
	for i, level := range levels {
		ok := true
		for _, name := range level {
			st := f.runDevice(ctx, i+1, name)
			out.Steps = append(out.Steps, st)
			if !st.OK || !st.VerifiedOff {
				ok = false
				failures = append(failures, fmt.Sprintf("level %d %s: %s", i+1, name, st.Err))
				break // the level failed; the remaining devices of it are pointless
			}
		}
		if ok {
			out.Level, out.Devices = i+1, strings.Join(level, ",")
			return out
		}
		if ctx.Err() != nil {
			break
		}
	}
	out.Err = fmt.Errorf("fence %s: every topology level failed: %s", target, strings.Join(failures, "; "))
	return out
}

func (f *Fencer) runDevice(ctx context.Context, level int, name string) Step {
	st := Step{Level: level, Device: name}
	a := f.agents[name]
	if a == nil {
		st.Err = "device not built"
		return st
	}
	start := time.Now()
	action := f.cfg.Action
	if action == "" {
		action = fence.ActionOff
	}
	res := a.Do(ctx, action)
	st.Elapsed = time.Since(start)
	st.OK, st.VerifiedOff = res.OK, res.Fenced()
	switch {
	case res.Err != nil:
		st.Err = res.Err.Error()
	case res.OK && !res.Fenced():
		st.Err = "device reported success but OFF was not read back"
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
	var out []string
	for n := range f.cfg.Levels {
		out = append(out, n)
	}
	return out
}
