package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
)

func TestPrintFenceLog(t *testing.T) {
	es := []eventlog.Entry{
		{Wall: "w1", Writer: "n1", Event: eventlog.NodeLost, Target: "n2"},
		{Wall: "w2", Writer: "n1", Event: eventlog.FenceRequested, Target: "n2", Attempt: 1},
		{Wall: "w3", Writer: "n1", Event: eventlog.FenceConfirmed, Target: "n2", Attempt: 1, By: "operator:alice"},
	}
	var b bytes.Buffer
	if err := printFenceLog(&b, es, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "node_lost") || !strings.Contains(out, "fence_requested") || !strings.Contains(out, "operator:alice") {
		t.Fatalf("unexpected table:\n%s", out)
	}
}

func TestPrintHistory(t *testing.T) {
	h := api.History{
		Nodes:    []api.FenceNode{{Node: "n2", State: "fenced", Attempts: 2, Failures: 1, By: "device:bmc-n2"}},
		Attempts: []api.FenceAttempt{{Target: "n2", Error: "level 1 bmc-n2: timeout", Start: time.Unix(0, 0)}, {Target: "n2", Level: 1, Devices: "bmc-n2", Start: time.Unix(1, 0)}},
	}
	var b bytes.Buffer
	printHistory(&b, h)
	out := b.String()
	for _, want := range []string{"fenced", "device:bmc-n2", "failed", "timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("history output lacks %q:\n%s", want, out)
		}
	}
}

// TestPrintHistoryClasses: the history says what each attempt came to: a
// refusal is "refused" (not "timed out"), with the level it failed at, who
// asked and which node ran it; an operator's confirmation is "confirmed".
func TestPrintHistoryClasses(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := api.History{Attempts: []api.FenceAttempt{
		{Target: "n3", Action: "off", Result: "refused", Level: 2, Origin: "n1", Executor: "n1", Reason: "node lost", Start: t0, Elapsed: 32 * time.Millisecond,
			Steps: []api.FenceStep{
				{Level: 1, Device: "bmc-n3", Result: "unreachable", Error: "no answer", Elapsed: 5 * time.Second, Delay: 10 * time.Second},
				{Level: 2, Device: "pdu-a", Result: "refused", Error: "wrongValue", Elapsed: 32 * time.Millisecond}}},
		{Target: "n3", Action: "confirm", Result: "ok", Devices: "operator", Origin: "operator:alice", Executor: "n1", Start: t0.Add(time.Minute)},
	}}
	var b bytes.Buffer
	printHistory(&b, h)
	out := b.String()
	for _, want := range []string{"refused", "confirmed", "operator:alice", "level 1 bmc-n3: unreachable after 5s (waited 10s first): no answer",
		"level 2 pdu-a: refused after 32ms: wrongValue", "2026-01-02T03:04:05.000Z"} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "timed out") {
		t.Errorf("a refusal shown as a timeout:\n%s", out)
	}
}

func TestPrintDevices(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := api.Devices{Node: "n1", Interval: time.Minute, Devices: []api.FenceDevice{
		{Name: "bmc-n2", Plugin: "fence_ipmilan", Targets: []string{"n2"}, Checked: true, OK: true, Result: "ok", State: "ON", Time: now.Add(-12 * time.Second), Latency: 17 * time.Millisecond, Checks: 4},
		{Name: "pdu-a", Plugin: "fence_apc_snmp", Targets: []string{"n2", "n3"}, Checked: true, Result: "unreachable", Error: "no answer", Time: now.Add(-3 * time.Second),
			Latency: 5 * time.Second, Failures: 3, Alerted: true, Checks: 5, Failed: 3},
		{Name: "rf-n3", Plugin: "fence_redfish", Checked: true, OK: true, Result: "ok", Reused: true, Latency: 2130 * time.Microsecond, Time: now, Checks: 9},
		{Name: "wd", Plugin: "fence_watchdog", Unmonitored: "nothing to reach"},
		{Name: "new", Plugin: "fence_ipmilan"},
	}}
	var b bytes.Buffer
	printDevices(&b, d, now)
	out := b.String()
	for _, want := range []string{"checked every 1m0s", "12s ago", "17ms", "3 (alerted)", "no answer", "kept", "2.13ms", "not checked", "nothing to reach", "not yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("devices output lacks %q:\n%s", want, out)
		}
	}
}
