package dcrun

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/engine"
	"palisade/cluster/replica"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/fence/topology"
	"palisade/quorum"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// recorder orders what happened across the fake cluster.
type recorder struct {
	mu  sync.Mutex
	log []string
	buf bytes.Buffer
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

// text is what was written so far (the loops may still write).
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *recorder) index(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, l := range r.log {
		if l == s {
			return i
		}
	}
	return -1
}

type fakeExec struct {
	node    string
	rec     *recorder
	mu      sync.Mutex
	running map[string]bool
	// failStart makes starts of these resources fail (generic error,
	// fatal: fail count INFINITY) until ClearFailures.
	failStart map[string]bool
	fails     map[string]int
}

func (f *fakeExec) Exec(_ context.Context, op executor.Op) executor.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := op.Instance.ID
	if !op.Probe {
		f.rec.add(fmt.Sprintf("%s %s %s", f.node, op.Action, id))
	}
	if op.Action == agent.Start && f.failStart[id] {
		if f.fails == nil {
			f.fails = map[string]int{}
		}
		// As the executor does with start-failure-is-fatal (default).
		f.fails[id] = int(model.Infinity)
		return executor.Event{Node: f.node, Resource: id, Action: op.Action, Class: agent.ClassSoft, FailCount: f.fails[id],
			Result: agent.Result{RC: agent.ErrGeneric, Status: agent.StatusDone}}
	}
	rc := agent.OK
	switch op.Action {
	case agent.Start:
		f.running[id] = true
	case agent.Stop:
		delete(f.running, id)
	case agent.Monitor:
		if !f.running[id] {
			rc = agent.NotRunning
		}
	}
	return executor.Event{Node: f.node, Resource: id, Action: op.Action, Probe: op.Probe, FailCount: f.fails[id], Result: agent.Result{RC: rc, Status: agent.StatusDone}}
}

func (f *fakeExec) ClearFailures(rsc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.fails, rsc)
	f.rec.add(fmt.Sprintf("%s clear %s", f.node, rsc))
}

func (f *fakeExec) StartMonitor(executor.Op) error           { return nil }
func (f *fakeExec) CancelMonitor(string, time.Duration) bool { return false }
func (f *fakeExec) SetStartFailureIsFatal(bool)              {}

type fakeFencer struct{ rec *recorder }

func (f fakeFencer) Fence(_ context.Context, target string) topology.Outcome {
	f.rec.add("fence " + target)
	return topology.Outcome{Target: target, Level: 1, Devices: "bmc-" + target}
}

func TestRuntimeFailover(t *testing.T) {
	names := []string{"n1", "n2", "n3"}
	cfg := &model.Config{Resources: []*model.Resource{{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{
		{ID: "vip", Class: "palisade", Type: "vip"}, {ID: "dummy", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}}}}
	rec := &recorder{}
	events := eventlog.New(rec, "")
	var mu sync.Mutex
	up := map[string]bool{"n1": true, "n2": true, "n3": true}
	rts := map[string]*Runtime{}
	execs := map[string]*fakeExec{}
	ctx, cancel := context.WithCancel(context.Background())
	// Every loop must have returned before the temporary state
	// directories are removed: a loop may still be persisting.
	var loops sync.WaitGroup
	defer func() { cancel(); loops.Wait() }()
	for _, n := range names {
		q, _ := quorum.New(quorum.Config{Nodes: map[string]int{"n1": 1, "n2": 1, "n3": 1}})
		execs[n] = &fakeExec{node: n, rec: rec, running: map[string]bool{}}
		from := n
		rts[n] = New(Config{
			Coordinator: dc.Config{Self: n, Nodes: names, Quorum: q, Gate: recovery.New(recovery.Config{Self: n, Nodes: names}),
				Schedule: engine.PackageScheduler, CIB: &replica.CIB{Version: replica.Version{Epoch: 1}, Config: cfg}},
			Fencer: fakeFencer{rec}, Executor: execs[n], Events: events, TickEvery: 5 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Send: func(to string, b []byte) error {
				mu.Lock()
				ok := up[to] && up[from]
				mu.Unlock()
				if ok {
					go rts[to].Deliver(from, b)
				}
				return nil
			},
		})
		loops.Add(1)
		go func(rt *Runtime) { defer loops.Done(); rt.Run(ctx) }(rts[n])
	}
	// n2 already runs the group.
	execs["n2"].running["vip"], execs["n2"].running["dummy"] = true, true
	for _, n := range names {
		rts[n].OnView(dcmsg.SimpleView(1, names...))
	}
	waitFor(t, func() bool { return rts["n3"].Snapshot().CIB.NumUpdates > 0 }, "dc.CIB replicated to n3")
	if i := rec.index("n1 start vip"); i >= 0 {
		t.Fatalf("vip started on n1 although n2 runs it: %v", rec.log)
	}
	// n2 is lost.
	mu.Lock()
	up["n2"] = false
	mu.Unlock()
	for _, n := range []string{"n1", "n3"} {
		rts[n].OnView(dcmsg.SimpleView(2, "n1", "n3"))
	}
	waitFor(t, func() bool { return rec.index("n1 start dummy") >= 0 || rec.index("n3 start dummy") >= 0 }, "group restarted elsewhere")
	f := rec.index("fence n2")
	s := max(rec.index("n1 start vip"), rec.index("n3 start vip"))
	if f < 0 || s < f {
		t.Fatalf("start before fence: %v", rec.log)
	}
	es, err := eventlog.Read(strings.NewReader(rec.text()))
	if err != nil {
		t.Fatal(err)
	}
	if vs := recovery.Verify(es); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
	// n3 shuts down cleanly: the group (now on n1) stays, n3 may go.
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	if err := rts["n3"].Shutdown(sctx); err != nil {
		t.Fatalf("clean shutdown of n3: %v", err)
	}
	// An operator confirmation on a non-DC is decided by the DC, and its
	// answer comes back: n2 is already fenced, so it is confirmed again;
	// n1 is a member, so the DC refuses, and n3 says so.
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	defer ccancel()
	if a, err := rts["n3"].Confirm(cctx, "n2", "alice"); err != nil || !strings.Contains(a.Result, "confirmed by the DC n1") {
		t.Fatalf("confirm on n3: %+v, %v", a, err)
	}
	if _, err := rts["n3"].Confirm(cctx, "n1", "alice"); err == nil || !strings.Contains(err.Error(), "member of this partition") {
		t.Fatalf("confirm of a member on n3: %v, want the DC's refusal", err)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
