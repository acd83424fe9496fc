package dcrun

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/engine"
	"palisade/cluster/replica"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/quorum"
	"palisade/resources/model"
)

// failCluster runs three runtimes over goroutine messaging with the real
// scheduler; db prefers n2 (score 100), and its start fails on failOn.
type failCluster struct {
	rts   map[string]*Runtime
	execs map[string]*fakeExec
	rec   *recorder
}

func startFailCluster(t *testing.T, meta map[string]string, failOn string) *failCluster {
	t.Helper()
	names := []string{"n1", "n2", "n3"}
	cfg := &model.Config{
		Resources:   []*model.Resource{{ID: "db", Class: "ocf", Provider: "heartbeat", Type: "Dummy", Meta: meta}},
		Constraints: model.Constraints{Locations: []model.Location{{ID: "db-prefers-n2", Rsc: "db", Node: "n2", Score: 100}}},
		Options:     model.Options{StonithEnabled: new(bool)},
	}
	fc := &failCluster{rts: map[string]*Runtime{}, execs: map[string]*fakeExec{}, rec: &recorder{}}
	events := eventlog.New(fc.rec, "")
	ctx, cancel := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	t.Cleanup(func() { cancel(); loops.Wait() })
	for _, n := range names {
		q, _ := quorum.New(quorum.Config{Nodes: map[string]int{"n1": 1, "n2": 1, "n3": 1}})
		fc.execs[n] = &fakeExec{node: n, rec: fc.rec, running: map[string]bool{}, failStart: map[string]bool{}}
		from := n
		fc.rts[n] = New(Config{
			Coordinator: dc.Config{Self: n, Nodes: names, Quorum: q, Gate: recovery.New(recovery.Config{Self: n, Nodes: names}),
				Schedule: engine.PackageScheduler, CIB: &replica.CIB{Version: replica.Version{Epoch: 1}, Config: cfg}},
			Executor: fc.execs[n], Events: events, TickEvery: 5 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Send: func(to string, b []byte) error {
				go fc.rts[to].Deliver(from, b)
				return nil
			},
		})
	}
	if failOn != "" {
		fc.execs[failOn].failStart["db"] = true
	}
	for _, rt := range fc.rts {
		loops.Add(1)
		go func(rt *Runtime) { defer loops.Done(); rt.Run(ctx) }(rt)
	}
	for _, n := range names {
		fc.rts[n].OnView(dcmsg.SimpleView(1, names...))
	}
	return fc
}

func (fc *failCluster) runs(node string) bool {
	fc.execs[node].mu.Lock()
	defer fc.execs[node].mu.Unlock()
	return fc.execs[node].running["db"]
}

// cleared returns the failures_cleared entries of the event log.
func (fc *failCluster) cleared(t *testing.T) []eventlog.Entry {
	es, err := eventlog.Read(strings.NewReader(fc.rec.text()))
	if err != nil {
		t.Fatal(err)
	}
	var out []eventlog.Entry
	for _, e := range es {
		if e.Event == eventlog.FailuresCleared {
			out = append(out, e)
		}
	}
	return out
}

// A failed start bans db from n2 (start-failure-is-fatal); once
// failure-timeout has passed, n2 clears its fail count by itself, the DC
// hears of it, and db goes back to the node it prefers.
func TestRuntimeFailureTimeoutExpires(t *testing.T) {
	fc := startFailCluster(t, map[string]string{"failure-timeout": "300ms"}, "n2")
	waitFor(t, func() bool { return fc.rec.index("n2 start db") >= 0 }, "db tried on n2")
	waitFor(t, func() bool { return fc.runs("n1") || fc.runs("n3") }, "db recovered on another node")
	// The DC got the failure with its time, which failure-timeout needs.
	waitFor(t, func() bool {
		for _, f := range fc.rts["n1"].Snapshot().Status.Failures {
			if f.Rsc == "db" && f.Node == "n2" && !f.LastFailure.IsZero() {
				return true
			}
		}
		return false
	}, "the DC knows db's last failure on n2")
	fc.execs["n2"].mu.Lock()
	fc.execs["n2"].failStart["db"] = false // repaired
	fc.execs["n2"].mu.Unlock()
	waitFor(t, func() bool { return fc.rec.index("n2 clear db") >= 0 }, "n2 cleared the expired fail count")
	waitFor(t, func() bool { return fc.runs("n2") && !fc.runs("n1") && !fc.runs("n3") }, "db back on n2")
	cl := fc.cleared(t)
	if len(cl) != 1 || cl[0].Node != "n2" || cl[0].Resource != "db" || !strings.Contains(cl[0].Detail, "failure-timeout expired") {
		t.Fatalf("failures_cleared entries: %+v", cl)
	}
}

// Without failure-timeout the ban stays until an operator cleans up, which
// works from any node and brings db back to n2.
func TestRuntimeCleanup(t *testing.T) {
	fc := startFailCluster(t, nil, "n2")
	waitFor(t, func() bool { return fc.runs("n1") || fc.runs("n3") }, "db recovered away from n2")
	time.Sleep(100 * time.Millisecond)
	if fc.rec.index("n2 clear db") >= 0 {
		t.Fatal("fail count cleared without failure-timeout or an operator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := fc.rts["n3"].Cleanup(ctx, "nope", "", "tester"); err == nil || !strings.Contains(err.Error(), "no such resource") {
		t.Fatalf("cleanup of an unknown resource: %v", err)
	}
	if ans, err := fc.rts["n3"].Cleanup(ctx, "db", "n9", "tester"); err == nil || ans.Code != string(api.UnknownNode) || !strings.Contains(err.Error(), "not a configured node") {
		t.Fatalf("cleanup on a node that is not configured: %+v %v", ans, err)
	}
	fc.execs["n2"].mu.Lock()
	fc.execs["n2"].failStart["db"] = false
	fc.execs["n2"].mu.Unlock()
	ans, err := fc.rts["n3"].Cleanup(ctx, "db", "n2", "tester")
	if err != nil || len(ans.Nodes) != 1 || ans.Nodes[0] != "n2" {
		t.Fatalf("cleanup: %v %v", ans, err)
	}
	waitFor(t, func() bool { return fc.runs("n2") && !fc.runs("n1") && !fc.runs("n3") }, "db back on n2 after the cleanup")
	// Every replica shows the failure gone, not only the DC's.
	waitFor(t, func() bool { return len(fc.rts["n3"].Snapshot().Status.Failures) == 0 }, "n3's replica without the failure")
	cl := fc.cleared(t)
	if len(cl) != 1 || cl[0].Node != "n2" || !strings.Contains(cl[0].Detail, "operator cleanup by tester (via n3)") || !strings.Contains(cl[0].Detail, "fail count was") {
		t.Fatalf("failures_cleared entries: %+v", cl)
	}
}
