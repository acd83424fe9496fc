package topology

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"palisade/fence"
	"palisade/fence/clock"
)

// The fencer, its delays, the device monitor, the priority delay and the
// history merge, on a logical clock: testdata/fencer.txt, testdata/
// priority.txt, testdata/monitor.txt and testdata/history.txt (commands
// are described at the top of each file). `go test -run Data -rewrite`
// regenerates the expected output (review the diff).

// testManual is a manual plugin for these tests (the fencer gives a level
// of it room for the operator: power_timeout).
var testManual = &fence.Plugin{Name: "fence_testmanual", OwnParams: true, Manual: true,
	Params: []fence.Param{
		{Name: fence.OptPlug, Type: fence.TypeString},
		{Name: fence.OptPowerTimeout, Type: fence.TypeSecond, Default: "600"},
		{Name: fence.OptDelay, Type: fence.TypeSecond, Default: "0"},
	},
	Open: func(fence.Options) (fence.Opener, error) { return nil, errors.New("not for use") }}

// testWatchdog stands for fence_watchdog: nothing to monitor.
var testWatchdog = &fence.Plugin{Name: "fence_testwatchdog", OwnParams: true, Unmonitored: "nothing to reach",
	Open: func(fence.Options) (fence.Opener, error) { return nil, errors.New("not for use") }}

func init() {
	fence.Register(testManual)
	fence.Register(testWatchdog)
}

// scriptedAgent is a device whose every use costs Cost of logical time and
// ends with Result; its monitor checks use Check (default: Result).
type scriptedAgent struct {
	name   string
	clk    *clock.Logical
	result string
	cost   time.Duration
	check  string
	calls  *[]string
}

func resultOf(word string) (fence.Result, bool) {
	switch word {
	case "ok":
		return fence.Result{OK: true, OffVerified: true, State: fence.PowerOff}, true
	case "unverified":
		return fence.Result{OK: true, State: fence.PowerOn}, true
	case "refused":
		return fence.Result{State: fence.PowerOn, Err: fmt.Errorf("%w: %w: power OFF: completion code 0xd5", fence.ErrTimedOutOff, fence.ErrRefused)}, true
	case "timeout":
		return fence.Result{State: fence.PowerOn, Err: fmt.Errorf("%w (last state ON): context deadline exceeded", fence.ErrTimedOutOff)}, true
	case "unreachable":
		return fence.Result{Err: fmt.Errorf("logging in: %w: no reply", fence.ErrNoAnswer)}, true
	case "denied":
		return fence.Result{Err: fmt.Errorf("logging in: %w", fence.ErrLoginDenied)}, true
	case "hang":
		return fence.Result{}, true
	}
	return fence.Result{}, false
}

func (a *scriptedAgent) Do(ctx context.Context, action fence.Action) fence.Result {
	*a.calls = append(*a.calls, fmt.Sprintf("%s %s @%v", a.name, action, a.clk.Now().Sub(t0)))
	word := a.result
	if action == fence.ActionMonitor && a.check != "" {
		word = a.check
	}
	if word == "hang" {
		err := a.clk.Sleep(ctx, clock.Forever)
		return fence.Result{Err: fmt.Errorf("%w: %w", fence.ErrNoAnswer, err)}
	}
	if err := a.clk.Sleep(ctx, a.cost); err != nil {
		return fence.Result{Err: fmt.Errorf("%w: %w", fence.ErrTimedOutOff, err)}
	}
	r, _ := resultOf(word)
	r.Action = action
	return r
}

var t0 = time.Unix(1e9, 0)

// quiet drops the fencer's and the monitor's log lines.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fencerEnv is one scenario: a config, the scripted devices, the clock.
type fencerEnv struct {
	clk    *clock.Logical
	cfg    *Config
	agents map[string]*scriptedAgent
	calls  []string
	f      *Fencer
	mon    *Monitor
	alerts []string
	rnd    time.Duration
}

func parseDur(d *datadriven.TestData, t *testing.T, s string) time.Duration {
	v, err := time.ParseDuration(s)
	if err != nil {
		d.Fatalf(t, "bad duration %q", s)
	}
	return v
}

// setup reads the "fencer" directive:
//
//	option: value                   (action, attempt_timeout, rand)
//	device NAME key=value ...       (result, cost, check, plugin, delay_base, delay_base.NODE, delay_max, power_timeout)
//	topology NODE: a,b | c          (levels separated by |, devices by ,)
func (e *fencerEnv) setup(t *testing.T, d *datadriven.TestData) string {
	e.clk = clock.NewLogical(t0)
	e.cfg = &Config{Action: fence.ActionOff, AttemptTimeout: DefaultAttemptTimeout, Devices: map[string]Device{}, Levels: map[string][][]string{}}
	e.agents, e.calls, e.alerts, e.rnd, e.mon = map[string]*scriptedAgent{}, nil, nil, 0, nil
	for _, line := range strings.Split(d.Input, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "action:":
			e.cfg.Action = fence.Action(f[1])
		case f[0] == "attempt_timeout:":
			e.cfg.AttemptTimeout, e.cfg.AttemptTimeoutSet = parseDur(d, t, f[1]), true
		case f[0] == "rand:":
			e.rnd = parseDur(d, t, f[1])
		case f[0] == "device":
			dev := Device{Name: f[1], Plugin: "fence_scripted", Params: map[string]string{}}
			a := &scriptedAgent{name: f[1], clk: e.clk, result: "ok", calls: &e.calls}
			for _, kv := range f[2:] {
				k, v, _ := strings.Cut(kv, "=")
				switch {
				case k == "result":
					a.result = v
				case k == "check":
					a.check = v
				case k == "cost":
					a.cost = parseDur(d, t, v)
				case k == "plugin":
					dev.Plugin = v
				case k == "power_timeout":
					dev.Params[fence.OptPowerTimeout] = v
				case k == "delay_base":
					dev.DelayBase = parseDur(d, t, v)
				case strings.HasPrefix(k, "delay_base."):
					if dev.DelayBaseFor == nil {
						dev.DelayBaseFor = map[string]time.Duration{}
					}
					dev.DelayBaseFor[strings.TrimPrefix(k, "delay_base.")] = parseDur(d, t, v)
				case k == "delay_max":
					dev.DelayMax = parseDur(d, t, v)
				default:
					d.Fatalf(t, "device: unknown key %q", k)
				}
			}
			e.cfg.Devices[dev.Name] = dev
			e.agents[dev.Name] = a
		case f[0] == "topology":
			node := strings.TrimSuffix(f[1], ":")
			for _, l := range strings.Split(strings.Join(f[2:], " "), "|") {
				e.cfg.Levels[node] = append(e.cfg.Levels[node], strings.Split(strings.ReplaceAll(l, " ", ""), ","))
			}
		default:
			d.Fatalf(t, "fencer: cannot read %q", line)
		}
	}
	var err error
	e.f, err = NewFencer(e.cfg, func(dv Device) (Agent, error) { return e.agents[dv.Name], nil }, WithClock(e.clk), WithLogger(quiet),
		WithRand(func(n time.Duration) time.Duration { return min(e.rnd, n-1) }))
	if err != nil {
		e.f = nil
		return err.Error()
	}
	var b strings.Builder
	for _, n := range e.f.Targets() {
		fmt.Fprintf(&b, "%s attempt_timeout=%v\n", n, e.f.AttemptTimeout(n))
	}
	return strings.TrimSpace(b.String())
}

// fence runs "fence NODE [delay=D] [cancel-after=D]" and renders the
// outcome, each step, and its history entry.
func (e *fencerEnv) fence(t *testing.T, d *datadriven.TestData) string {
	req := Request{}
	ctx := context.Background()
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "delay":
			req.Delay = parseDur(d, t, a.Vals[0])
		case "timeout":
			var cancel context.CancelFunc
			ctx, cancel = e.clk.WithTimeout(ctx, parseDur(d, t, a.Vals[0]))
			defer cancel()
		default:
			req.Target = a.Key
		}
	}
	e.calls = nil
	start := e.clk.Now()
	out := e.f.Do(ctx, req)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s level=%d last_level=%d devices=%s elapsed=%v confirmed=%v\n", out.Target, out.Result, out.Level, out.LastLevel, out.Devices, out.Elapsed, out.Confirmed())
	for _, s := range out.Steps {
		fmt.Fprintf(&b, "  step level %d %s: %s delay=%v elapsed=%v\n", s.Level, s.Device, s.Result, s.Delay, s.Elapsed)
	}
	for _, c := range e.calls {
		fmt.Fprintf(&b, "  call %s\n", c)
	}
	if out.Err != nil {
		fmt.Fprintf(&b, "  error: %v\n", out.Err)
	}
	h := out.Entry("n1", "n1", "node lost", 1)
	if !h.Start.Equal(start) || h.End.Sub(h.Start) != out.Elapsed {
		d.Fatalf(t, "history entry times %v..%v, outcome %v + %v", h.Start, h.End, start, out.Elapsed)
	}
	fmt.Fprintf(&b, "  history: action=%s level=%d result=%s steps=%d", h.Action, h.Level, h.Result, len(h.Steps))
	return b.String()
}

func (e *fencerEnv) monitor(t *testing.T, d *datadriven.TestData) string {
	if e.mon == nil {
		cfg := MonitorConfig{Interval: time.Minute, Timeout: 20 * time.Second, Failures: 2,
			Alert: func(dev, msg string) { e.alerts = append(e.alerts, dev+": "+msg) }}
		for _, a := range d.CmdArgs {
			switch a.Key {
			case "failures":
				cfg.Failures, _ = strconv.Atoi(a.Vals[0])
			case "timeout":
				cfg.Timeout = parseDur(d, t, a.Vals[0])
			}
		}
		e.mon = e.f.Monitor(cfg)
	}
	e.calls, e.alerts = nil, nil
	e.mon.Round(context.Background())
	var b strings.Builder
	for _, c := range e.mon.Devices() {
		if c.Unmonitored != "" {
			fmt.Fprintf(&b, "%s: unmonitored (%s)\n", c.Device, c.Unmonitored)
			continue
		}
		fmt.Fprintf(&b, "%s: ok=%v result=%s latency=%v failures=%d checks=%d failed=%d alerted=%v skipped=%d targets=%v at=+%v\n",
			c.Device, c.OK, c.Result, c.Latency, c.Failures, c.Checks, c.Failed, c.Alerted, c.Skipped, c.Targets, c.Time.Sub(t0))
	}
	for _, a := range e.alerts {
		fmt.Fprintf(&b, "alert %s\n", a)
	}
	return b.String()
}

// set changes devices between fences: "set NAME result=... check=...".
func (e *fencerEnv) set(t *testing.T, d *datadriven.TestData) string {
	for _, line := range strings.Split(d.Input, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		a := e.agents[f[0]]
		if a == nil {
			d.Fatalf(t, "set: no device %q", f[0])
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "result":
				a.result = v
			case "check":
				a.check = v
			case "cost":
				a.cost = parseDur(d, t, v)
			default:
				d.Fatalf(t, "set: unknown key %q", k)
			}
		}
	}
	return "ok"
}

func TestFencerData(t *testing.T) {
	datadriven.RunTest(t, "testdata/fencer.txt", func(t *testing.T, d *datadriven.TestData) string {
		return fencerDirective(t, d)
	})
}

func TestMonitorData(t *testing.T) {
	datadriven.RunTest(t, "testdata/monitor.txt", func(t *testing.T, d *datadriven.TestData) string {
		return fencerDirective(t, d)
	})
}

var env fencerEnv

func fencerDirective(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "fencer":
		return env.setup(t, d)
	case "fence":
		return env.fence(t, d)
	case "monitor":
		return env.monitor(t, d)
	case "set":
		return env.set(t, d)
	case "busy":
		// busy NAME on|off: a fence is (not) using the device.
		n := env.f.inUse[d.CmdArgs[0].Key]
		if d.CmdArgs[1].Key == "on" {
			n.Add(1)
		} else {
			n.Add(-1)
		}
		return "ok"
	case "advance":
		env.clk.Advance(parseDur(d, t, d.CmdArgs[0].Key))
		return fmt.Sprintf("now +%v", env.clk.Now().Sub(t0))
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

// TestPriorityData runs testdata/priority.txt: "priority delay=D
// target=N" with one node a line ("NAME PRIORITY [online]").
func TestPriorityData(t *testing.T) {
	datadriven.RunTest(t, "testdata/priority.txt", func(t *testing.T, d *datadriven.TestData) string {
		var delay time.Duration
		var target string
		for _, a := range d.CmdArgs {
			switch a.Key {
			case "delay":
				delay = parseDur(d, t, a.Vals[0])
			case "target":
				target = a.Vals[0]
			}
		}
		var nodes []NodePriority
		for _, line := range strings.Split(d.Input, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			p, err := strconv.Atoi(f[1])
			if err != nil {
				d.Fatalf(t, "priority %q", f[1])
			}
			nodes = append(nodes, NodePriority{Name: f[0], Priority: p, Online: slices.Contains(f[2:], "online")})
		}
		return PriorityDelay(delay, target, nodes).String()
	})
}

// TestHistoryData runs testdata/history.txt: "merge limit=N" with two
// lists of entries separated by "--" ("ID START_SECONDS TARGET RESULT").
func TestHistoryData(t *testing.T) {
	datadriven.RunTest(t, "testdata/history.txt", func(t *testing.T, d *datadriven.TestData) string {
		limit := 0
		for _, a := range d.CmdArgs {
			if a.Key == "limit" {
				limit, _ = strconv.Atoi(a.Vals[0])
			}
		}
		lists := [][]HistoryEntry{nil, nil}
		k := 0
		for _, line := range strings.Split(d.Input, "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 0:
			case f[0] == "--":
				k = 1
			case len(f) == 4:
				s, _ := strconv.Atoi(f[1])
				lists[k] = append(lists[k], HistoryEntry{ID: f[0], Start: t0.Add(time.Duration(s) * time.Second), Target: f[2], Result: fence.Class(f[3])})
			default:
				d.Fatalf(t, "cannot read %q", line)
			}
		}
		a0, b0 := slices.Clone(lists[0]), slices.Clone(lists[1])
		out := MergeHistory(lists[0], lists[1], limit)
		if !slices.EqualFunc(a0, lists[0], func(x, y HistoryEntry) bool { return x.ID == y.ID }) || !slices.EqualFunc(b0, lists[1], func(x, y HistoryEntry) bool { return x.ID == y.ID }) {
			d.Fatalf(t, "MergeHistory changed its input")
		}
		var b strings.Builder
		for _, e := range out {
			fmt.Fprintf(&b, "%s +%v %s %s\n", e.ID, e.Start.Sub(t0), e.Target, e.Result)
		}
		return b.String()
	})
}

// TestHistoryEntryJSON: an entry survives the CIB's JSON round trip, and
// Clip bounds long error texts.
func TestHistoryEntryJSON(t *testing.T) {
	long := strings.Repeat("é", 400)
	o := Outcome{Target: "n2", Action: fence.ActionOff, LastLevel: 2, Result: fence.ClassRefused, Start: t0, End: t0.Add(32 * time.Millisecond),
		Err: errors.New(long), Error: long, Steps: []Step{{Level: 2, Device: "pdu", Result: fence.ClassRefused, Err: long, Elapsed: 32 * time.Millisecond}}}
	e := o.Entry("n1", "n1", "node lost", 3)
	// The steps say why: the attempt's own error (their concatenation)
	// is not repeated.
	if e.Level != 2 || e.Result != fence.ClassRefused || e.Error != "" || len(e.Steps[0].Error) > MaxErrorText || !strings.HasSuffix(e.Steps[0].Error, "…") {
		t.Fatalf("entry %+v", e)
	}
	// An attempt that ended for its own reason says so.
	o.Cause = "attempt_timeout 1m0s passed"
	if e := o.Entry("n1", "n1", "node lost", 3); e.Error != o.Cause {
		t.Fatalf("cause %q", e.Error)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back HistoryEntry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != e.ID || !back.Start.Equal(e.Start) || back.Steps[0].Elapsed != 32*time.Millisecond || back.Result != fence.ClassRefused {
		t.Fatalf("round trip: %+v", back)
	}
}

// TestHistoryBudget: however long and numerous the entries, the merged
// history stays within HistoryBudget bytes of JSON (the CIB is one
// message), keeping the newest.
func TestHistoryBudget(t *testing.T) {
	long := strings.Repeat("x", 400)
	var h []HistoryEntry
	for i := range 3 * HistoryLimit {
		o := Outcome{Target: "node-with-a-long-name", Action: fence.ActionOff, LastLevel: 3, Result: fence.ClassTimeout,
			Start: t0.Add(time.Duration(i) * time.Second), Cause: long}
		for l := 1; l <= 3; l++ {
			o.Steps = append(o.Steps, Step{Level: l, Device: fmt.Sprintf("device-%d-with-a-long-name", l), Err: long, Result: fence.ClassTimeout})
		}
		h = MergeHistory(h, []HistoryEntry{o.Entry("executor-node", "executor-node", "node lost: "+long, i)}, HistoryLimit)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > HistoryBudget+HistoryLimit || len(h) == 0 || h[len(h)-1].Attempt != 3*HistoryLimit-1 {
		t.Fatalf("%d entries, %d bytes (budget %d), newest attempt %d", len(h), len(b), HistoryBudget, h[len(h)-1].Attempt)
	}
	t.Logf("%d worst-case entries in %d bytes", len(h), len(b))
}

// TestHistoryOversizedEntry: an entry from another node with a huge text
// and many steps is bounded on merge; it does not push the others out.
func TestHistoryOversizedEntry(t *testing.T) {
	var h []HistoryEntry
	for i := range 5 {
		h = MergeHistory(h, []HistoryEntry{{ID: fmt.Sprintf("e%d", i), Target: "n2", Result: fence.ClassOK, Start: t0.Add(time.Duration(i) * time.Second)}}, HistoryLimit)
	}
	huge := HistoryEntry{ID: "huge", Target: "n3", Result: fence.ClassRefused, Start: t0.Add(time.Minute), Error: strings.Repeat("x", 1<<20)}
	for range 1000 {
		huge.Steps = append(huge.Steps, HistoryStep{Device: "d", Error: strings.Repeat("y", 1000)})
	}
	h = MergeHistory(h, []HistoryEntry{huge}, HistoryLimit)
	if len(h) != 6 || h[5].ID != "huge" || len(h[5].Steps) != MaxHistorySteps || len(h[5].Error) > MaxErrorText {
		t.Fatalf("%d entries, last %q with %d steps and a %d-byte error", len(h), h[len(h)-1].ID, len(h[len(h)-1].Steps), len(h[len(h)-1].Error))
	}
	if len(huge.Steps) != 1000 {
		t.Fatal("MergeHistory changed its input")
	}
}
