package topology

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"palisade/fence"
	"palisade/fence/clock"
)

// MonitorConfig tunes a Monitor.
type MonitorConfig struct {
	// Interval is the time between two rounds of checks.
	Interval time.Duration
	// Timeout bounds one check.
	Timeout time.Duration
	// Failures is how many failed checks in a row raise an alert.
	Failures int
	// Alert is told (device, message) when a device reaches Failures
	// failed checks in a row, and when it answers again after that.
	Alert func(device, message string)
	// Logger receives one line per failed check and per recovery.
	Logger *slog.Logger
}

// Checker checks one device's health (a *fence.Prober).
type Checker interface {
	Check(ctx context.Context) fence.CheckResult
	Close() error
}

// DeviceCheck is what the monitor knows of one device: `palisade fence
// devices` shows it.
type DeviceCheck struct {
	Device string `json:"device"`
	Plugin string `json:"plugin"`
	// Targets are the nodes whose topology uses the device.
	Targets []string `json:"targets,omitempty"`
	// Unmonitored says why the device is never checked.
	Unmonitored string `json:"unmonitored,omitempty"`
	// Checked: at least one check ended; the fields below are the last.
	Checked bool          `json:"checked"`
	OK      bool          `json:"ok"`
	Result  fence.Class   `json:"result,omitempty"`
	Error   string        `json:"error,omitempty"`
	Time    time.Time     `json:"time,omitempty"`
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Reused: the check ran on the session kept from the previous one.
	Reused bool   `json:"reused,omitempty"`
	State  string `json:"state,omitempty"`
	// Failures counts the failed checks in a row (0 after a good one).
	Failures int `json:"failures,omitempty"`
	Checks   int `json:"checks"`
	Failed   int `json:"failed"`
	// Alerted: the current run of failures raised an alert.
	Alerted bool `json:"alerted,omitempty"`
	// Skipped counts checks left out because a fence was using the device.
	Skipped int `json:"skipped,omitempty"`
}

// Monitor checks the fencer's devices periodically: a BMC whose password
// was changed, a PDU that lost its network, a management switch that died
// are found while nothing needs fencing, not when a fence fails. A device
// that fails Failures checks in a row raises an alert (once, until it
// answers again). A device a fence is using is left alone.
type Monitor struct {
	cfg    MonitorConfig
	clk    clock.Clock
	inUse  func(device string) bool
	names  []string
	checks map[string]Checker

	mu    sync.Mutex
	state map[string]*DeviceCheck
}

// Monitor returns a device monitor over the fencer's devices, with the
// fencer's clock. Devices built as *fence.Agent (or anything with a
// Prober method) are checked through a fence.Prober; a plugin with
// Unmonitored set is listed but never checked.
func (f *Fencer) Monitor(cfg MonitorConfig) *Monitor {
	if cfg.Logger == nil {
		cfg.Logger = f.log
	}
	if cfg.Failures < 1 {
		cfg.Failures = 1
	}
	m := &Monitor{cfg: cfg, clk: f.clk, checks: map[string]Checker{}, state: map[string]*DeviceCheck{},
		inUse: func(d string) bool { n := f.inUse[d]; return n != nil && n.Load() > 0 }}
	targets := map[string][]string{}
	for _, t := range f.Targets() {
		for _, level := range f.cfg.Levels[t] {
			for _, d := range level {
				if !slices.Contains(targets[d], t) {
					targets[d] = append(targets[d], t)
				}
			}
		}
	}
	for _, name := range slices.Sorted(mapKeys(f.cfg.Devices)) {
		d := f.cfg.Devices[name]
		dc := &DeviceCheck{Device: name, Plugin: d.Plugin, Targets: targets[name]}
		m.state[name] = dc
		m.names = append(m.names, name)
		if p, err := fence.Lookup(d.Plugin); err == nil && p.Unmonitored != "" {
			dc.Unmonitored = p.Unmonitored
			continue
		}
		switch a := f.agents[name].(type) {
		case nil:
			dc.Unmonitored = "not built"
		case interface{ Prober() *fence.Prober }:
			m.checks[name] = a.Prober()
		default:
			m.checks[name] = actionChecker{a}
		}
	}
	return m
}

// actionChecker checks a device that has no Prober with the monitor action.
type actionChecker struct{ a Agent }

func (c actionChecker) Check(ctx context.Context) fence.CheckResult {
	r := c.a.Do(ctx, fence.ActionMonitor)
	if r.Err == nil && !r.OK {
		r.Err = fmt.Errorf("monitor failed without a cause")
	}
	return fence.CheckResult{State: r.State, Err: r.Err}
}

func (actionChecker) Close() error { return nil }

// Run checks every device now and then every Interval until ctx ends,
// then closes the kept sessions.
func (m *Monitor) Run(ctx context.Context) {
	defer m.Close()
	for {
		m.Round(ctx)
		if m.clk.Sleep(ctx, m.cfg.Interval) != nil {
			return
		}
	}
}

// Round checks every monitored device once, one after the other.
func (m *Monitor) Round(ctx context.Context) {
	for _, name := range m.names {
		if ctx.Err() != nil {
			return
		}
		c := m.checks[name]
		if c == nil {
			continue
		}
		if m.inUse(name) {
			m.mu.Lock()
			m.state[name].Skipped++
			m.mu.Unlock()
			continue
		}
		cctx, cancel := m.clk.WithTimeout(ctx, m.cfg.Timeout)
		start := m.clk.Now()
		r := c.Check(cctx)
		end := m.clk.Now()
		cancel()
		if ctx.Err() != nil {
			return // shutting down: not the device's fault
		}
		m.record(name, r, start, end)
	}
}

func (m *Monitor) record(name string, r fence.CheckResult, start, end time.Time) {
	m.mu.Lock()
	s := m.state[name]
	s.Checked, s.OK, s.Time, s.Latency, s.Reused = true, r.Err == nil, end, end.Sub(start), r.Reused
	s.Result, s.Error, s.State = fence.Classify(r.Err), "", ""
	if r.State != fence.PowerUnknown {
		s.State = r.State.String()
	}
	s.Checks++
	var alert, recovered string
	if r.Err != nil {
		s.Error = Clip(r.Err.Error())
		s.Failed++
		s.Failures++
		if s.Failures >= m.cfg.Failures && !s.Alerted {
			s.Alerted = true
			alert = fmt.Sprintf("fence device %s (%s) failed its monitor %d times in a row (%s: %s); fencing through it will fail until it is fixed",
				name, s.Plugin, s.Failures, s.Result, s.Error)
		}
	} else {
		if s.Alerted {
			recovered = fmt.Sprintf("fence device %s (%s) answers its monitor again after %d failed checks", name, s.Plugin, s.Failures)
		}
		s.Failures, s.Alerted = 0, false
	}
	failures := s.Failures
	m.mu.Unlock()
	switch {
	case r.Err != nil:
		m.cfg.Logger.Warn("fence device monitor failed", "device", name, "failures", failures, "result", fence.Classify(r.Err), "err", r.Err)
	case recovered != "":
		m.cfg.Logger.Info(recovered, "device", name)
	}
	if m.cfg.Alert != nil {
		if alert != "" {
			m.cfg.Alert(name, alert)
		}
		if recovered != "" {
			m.cfg.Alert(name, recovered)
		}
	}
}

// Devices reports every device's last check, by name.
func (m *Monitor) Devices() []DeviceCheck {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DeviceCheck, 0, len(m.names))
	for _, n := range m.names {
		d := *m.state[n]
		d.Targets = slices.Clone(d.Targets)
		out = append(out, d)
	}
	return out
}

// Close ends the kept sessions.
func (m *Monitor) Close() {
	for _, n := range m.names {
		if c := m.checks[n]; c != nil {
			if err := c.Close(); err != nil {
				m.cfg.Logger.Debug("closing a monitor session", "device", n, "err", err)
			}
		}
	}
}
