package topology

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"gopkg.in/yaml.v3"

	"palisade/fence"
)

// TestDecode runs testdata/decode_*.txt with github.com/cockroachdb/datadriven.
// The one command is
//
//	decode
//	<a fencing section of cluster.yaml>
//	----
//	<the summary of the decoded config, or the errors>
//
// `go test -run Decode -rewrite` regenerates the expected output (review the diff).
func TestDecode(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if strings.HasPrefix(filepath.Base(path), "decode_") { // not a fuzz corpus
			datadriven.RunTest(t, path, decodeDirective)
		}
	})
}

func decodeDirective(t *testing.T, d *datadriven.TestData) string {
	if d.Cmd != "decode" {
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	return decodeSummary([]byte(d.Input))
}

func decodeSummary(in []byte) string {
	var n yaml.Node
	if err := yaml.Unmarshal(in, &n); err != nil {
		return "yaml: " + err.Error()
	}
	c, err := Decode("cluster.yaml", &n)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "enabled=%v action=%s retry=%v..%v random=%v attempt=%v\n", c.Enabled, c.Action, c.RetryInitial, c.RetryMax, c.RandomDelayMax, c.AttemptTimeout)
	if c.AlertCommand != "" {
		fmt.Fprintf(&b, "alert_command %q\n", c.AlertCommand)
	}
	for _, k := range slices.Sorted(mapKeys(c.StaticDelay)) {
		fmt.Fprintf(&b, "delay %s %v\n", k, c.StaticDelay[k])
	}
	if c.PriorityDelay > 0 {
		fmt.Fprintf(&b, "priority_delay %v\n", c.PriorityDelay)
	}
	if c.MonitorInterval != DefaultMonitorInterval || c.MonitorTimeout != DefaultMonitorTimeout || c.MonitorFailures != DefaultMonitorFailures {
		fmt.Fprintf(&b, "monitor interval=%v timeout=%v failures=%d\n", c.MonitorInterval, c.MonitorTimeout, c.MonitorFailures)
	}
	if c.WatchdogDevice != "" {
		fmt.Fprintf(&b, "watchdog %s timeout=%v\n", c.WatchdogDevice, c.WatchdogTimeout)
	}
	for _, k := range slices.Sorted(mapKeys(c.Devices)) {
		d := c.Devices[k]
		fmt.Fprintf(&b, "device %s plugin=%s params=%v", k, d.Plugin, d.Params)
		if d.DelayBase > 0 || d.DelayMax > 0 || len(d.DelayBaseFor) > 0 {
			fmt.Fprintf(&b, " delay_base=%v delay_base_for=%v delay_max=%v", d.DelayBase, d.DelayBaseFor, d.DelayMax)
		}
		b.WriteString("\n")
	}
	for _, k := range slices.Sorted(mapKeys(c.Levels)) {
		fmt.Fprintf(&b, "topology %s %v\n", k, c.Levels[k])
	}
	return strings.TrimSpace(b.String())
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/decode_*.txt")
	for _, file := range files {
		// seed with the input of each "decode" directive: the lines between
		// the command line and "----"
		raw, _ := os.ReadFile(file)
		_, in, _ := strings.Cut(string(raw), "decode\n")
		in, _, _ = strings.Cut(in, "\n----\n")
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var n yaml.Node
		if yaml.Unmarshal(in, &n) != nil {
			return
		}
		c, err := Decode("fuzz.yaml", &n)
		if err != nil {
			return
		}
		for node, levels := range c.Levels {
			for _, l := range levels {
				for _, d := range l {
					if _, ok := c.Devices[d]; !ok {
						t.Fatalf("topology %s references unknown device %q", node, d)
					}
				}
			}
		}
	})
}

type fakeAgent struct {
	res   fence.Result
	calls *[]string
	name  string
}

func (a fakeAgent) Do(ctx context.Context, action fence.Action) fence.Result {
	*a.calls = append(*a.calls, a.name)
	if action != fence.ActionOff {
		*a.calls = append(*a.calls, string(action))
	}
	return a.res
}

func TestFencerLevels(t *testing.T) {
	cfg := &Config{AttemptTimeout: DefaultAttemptTimeout,
		Devices: map[string]Device{"bmc": {Name: "bmc"}, "pdu-a": {Name: "pdu-a"}, "pdu-b": {Name: "pdu-b"}, "flaky": {Name: "flaky"}},
		Levels: map[string][][]string{
			"n1": {{"bmc"}, {"pdu-a", "pdu-b"}},
			"n2": {{"flaky"}, {"pdu-a", "pdu-b"}},
			"n3": {{"flaky"}},
		}}
	var calls []string
	results := map[string]fence.Result{
		"bmc":   {OK: false, Err: fmt.Errorf("connect: %w", fence.ErrUnreachable)},
		"pdu-a": {OK: true, OffVerified: true, State: fence.PowerOff},
		"pdu-b": {OK: true, OffVerified: true, State: fence.PowerOff},
		// success without a verified OFF must not count
		"flaky": {OK: true, OffVerified: false},
	}
	f, err := NewFencer(cfg, func(d Device) (Agent, error) {
		return fakeAgent{res: results[d.Name], calls: &calls, name: d.Name}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		node      string
		confirmed bool
		level     int
		calls     []string
	}{
		{"n1", true, 2, []string{"bmc", "pdu-a", "pdu-b"}},
		{"n2", true, 2, []string{"flaky", "pdu-a", "pdu-b"}},
		{"n3", false, 0, []string{"flaky"}},
		{"n9", false, 0, nil},
	} {
		calls = nil
		out := f.Fence(context.Background(), tc.node)
		if out.Confirmed() != tc.confirmed || out.Level != tc.level || !slices.Equal(calls, tc.calls) {
			t.Errorf("%s: confirmed=%v level=%d calls=%v err=%v; want %v %d %v", tc.node, out.Confirmed(), out.Level, calls, out.Err, tc.confirmed, tc.level, tc.calls)
		}
	}
	if out := f.Fence(context.Background(), "n9"); !errors.Is(out.Err, ErrNoTopology) {
		t.Errorf("n9: err %v, want ErrNoTopology", out.Err)
	}
	if h := f.History(); len(h) != 5 || h[0].Target != "n1" {
		t.Errorf("history = %d entries", len(h))
	}
}

func TestNewFencerReportsBadDevices(t *testing.T) {
	cfg := &Config{Devices: map[string]Device{"x": {Name: "x", Plugin: "fence_nosuch", Line: 7}}}
	_, err := NewFencer(cfg, FenceAgents)
	if err == nil || !strings.Contains(err.Error(), "fence device x (line 7)") {
		t.Fatalf("err = %v", err)
	}
}

// TestFencerReboot: with action reboot the devices are asked to reboot, and
// the fence counts only when the reboot read OFF back on the way (a
// method=cycle reboot, which never shows OFF, does not count).
func TestFencerReboot(t *testing.T) {
	cfg := &Config{AttemptTimeout: DefaultAttemptTimeout, Action: fence.ActionReboot,
		Devices: map[string]Device{"bmc": {Name: "bmc"}, "cycle": {Name: "cycle"}},
		Levels:  map[string][][]string{"n1": {{"bmc"}}, "n2": {{"cycle"}}}}
	var calls []string
	results := map[string]fence.Result{
		"bmc":   {OK: true, OffVerified: true, State: fence.PowerOn},
		"cycle": {OK: true},
	}
	f, err := NewFencer(cfg, func(d Device) (Agent, error) {
		return fakeAgent{res: results[d.Name], calls: &calls, name: d.Name}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out := f.Fence(context.Background(), "n1"); !out.Confirmed() {
		t.Fatalf("reboot with OFF read back not confirmed: %v", out.Err)
	}
	if out := f.Fence(context.Background(), "n2"); out.Confirmed() {
		t.Fatal("a reboot that never showed OFF counted as a fence")
	}
	if want := []string{"bmc", "reboot", "cycle", "reboot"}; !slices.Equal(calls, want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
}
