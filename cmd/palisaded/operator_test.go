package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"palisade/cluster/alert"
	"palisade/cluster/dc"
	"palisade/cluster/eventlog"
	"palisade/cluster/metrics"
	"palisade/cluster/recovery"
	"palisade/fence/topology"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// testOperator is an operator whose alerts are only logged (into buf).
func testOperator(buf *bytes.Buffer) *operator {
	log := slog.New(slog.NewTextHandler(buf, nil))
	op := &operator{log: log, lastOn: map[string]string{}, nodeIDs: map[string]uint32{"n1": 1, "n2": 2, "n3": 3},
		alerts: alert.NewRunner(alert.Config{}, log), fencing: &topology.Config{Action: "off"},
		metrics: metrics.New(metrics.Options{Cluster: "c", Node: "n1"})}
	return op
}

// TestAlertsFromDecisions: which event log entries raise which alert, and
// only from the DC runtime's entries.
func TestAlertsFromDecisions(t *testing.T) {
	var buf bytes.Buffer
	op := testOperator(&buf)
	op.isDC.Store(true)
	el := eventlog.New(&bytes.Buffer{}, "n1")
	el.Observe(op.onEntry)
	dcl := el.Source(eventlog.SourceDC)
	// Membership's own node_lost raises nothing; the DC's fence_needed
	// for a lost node raises node_lost once.
	el.Source(eventlog.SourceMembership).Append(eventlog.Entry{Event: eventlog.NodeLost, Target: "n2"})
	dcl.Append(eventlog.Entry{Event: eventlog.NodeLost, Target: "n2", Resources: []string{"vip"}})
	dcl.Append(eventlog.Entry{Event: eventlog.FenceNeeded, Target: "n2", Resources: []string{"vip"}, Detail: "node lost"})
	dcl.Append(eventlog.Entry{Event: eventlog.FenceNeeded, Target: "n3", Detail: "stop of db failed"})
	dcl.Append(eventlog.Entry{Event: eventlog.FenceRequested, Target: "n2", Attempt: 1})
	dcl.Append(eventlog.Entry{Event: eventlog.FenceFailed, Target: "n2", Attempt: 1, Detail: "login denied"})
	dcl.Append(eventlog.Entry{Event: eventlog.FenceConfirmed, Target: "n2", By: "device:bmc-n2"})
	dcl.Append(eventlog.Entry{Event: eventlog.ActionResult, Resource: "vip", Node: "n3", Action: "start", OK: eventlog.Bool(true)})
	// The same start reported again (the member's own entry): no second alert.
	dcl.Append(eventlog.Entry{Event: eventlog.ActionResult, Resource: "vip", Node: "n3", Action: "start", OK: eventlog.Bool(true)})
	op.dcAlert(recovery.Alert{Target: "n2", Message: "n2 runs with quorum/fencing settings that differ from the DC n1"})
	got := buf.String()
	for kind, n := range map[string]int{"node_lost": 1, "fence_requested": 1, "fence_failed": 1, "fence_succeeded": 1, "resource_moved": 1, "safety_mismatch": 1} {
		if c := strings.Count(got, "kind="+kind+" "); c != n {
			t.Errorf("%d %s alerts, want %d:\n%s", c, kind, n, got)
		}
	}
	for _, want := range []string{"kind=resource_moved node=n3 resource=vip operation=start from=n2", "kind=fence_succeeded node=n2 device=bmc-n2"} {
		if !strings.Contains(got, want) {
			t.Errorf("alerts lack %q:\n%s", want, got)
		}
	}
	// A node that is not DC does not report moves.
	buf.Reset()
	op.isDC.Store(false)
	dcl.Append(eventlog.Entry{Event: eventlog.ActionResult, Resource: "vip", Node: "n1", Action: "start", OK: eventlog.Bool(true)})
	if strings.Contains(buf.String(), "resource_moved") {
		t.Errorf("a member reported a move: %s", buf.String())
	}
}

func TestResourceEventsAndWrappers(t *testing.T) {
	var buf bytes.Buffer
	op := testOperator(&buf)
	op.resourceEvent(executor.Event{Node: "n1", Resource: "db", Action: agent.Action("monitor"), Interval: 10 * time.Second,
		Result: agent.Result{RC: 7, Status: agent.StatusDone, Duration: 30 * time.Millisecond}, Class: agent.ClassSoft})
	op.resourceEvent(executor.Event{Node: "n1", Resource: "db", Action: agent.Action("start"), Result: agent.Result{Status: agent.StatusDone}})
	op.resourceEvent(executor.Event{Node: "n1", Resource: "db", Action: agent.Action("stop"), Result: agent.Result{Status: agent.StatusCancelled}})
	if !strings.Contains(buf.String(), "kind=resource_failed node=n1 resource=db operation=monitor") || strings.Count(buf.String(), "kind=") != 1 {
		t.Errorf("alerts:\n%s", buf.String())
	}
	reg := op.metrics.Registry()
	if n, err := testutil.GatherAndCount(reg, "palisade_resource_operations_total"); err != nil || n != 2 {
		t.Errorf("resource operation series: %d, %v (the cancelled one must not count)", n, err)
	}

	f := op.fencer(fakeFencer{})
	o := f.Fence(context.Background(), "n2")
	if !o.Confirmed() {
		t.Fatal("the wrapper changed the outcome")
	}
	if n, _ := testutil.GatherAndCount(reg, "palisade_fence_operations_total"); n != 2 {
		t.Errorf("fence operation series: %d, want failure and success of bmc-n2", n)
	}
	sched := op.scheduler(func(*model.Config, model.Status, time.Time) ([]dc.PlannedAction, error) {
		return make([]dc.PlannedAction, 3), nil
	})
	if plan, _ := sched(nil, model.Status{}, time.Now()); len(plan) != 3 {
		t.Fatal("the wrapper changed the plan")
	}
	if n, _ := testutil.GatherAndCount(reg, "palisade_scheduler_run_duration_seconds"); n != 1 {
		t.Errorf("scheduler runs: %d", n)
	}
}

type fakeFencer struct{}

func (fakeFencer) Fence(_ context.Context, target string) topology.Outcome {
	return topology.Outcome{Target: target, Level: 1, Devices: "bmc-n2", Steps: []topology.Step{
		{Level: 1, Device: "bmc-n2", Err: "login timed out", Elapsed: time.Second},
		{Level: 1, Device: "bmc-n2", OK: true, VerifiedOff: true, Elapsed: 200 * time.Millisecond}}}
}
