package dc

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
	f.rec.add(fmt.Sprintf("%s %s %s", f.node, op.Action, id))
	if op.Action == agent.Start && f.failStart[id] {
		if f.fails == nil {
			f.fails = map[string]int{}
		}
		// As the executor does with start-failure-is-fatal (default).
		f.fails[id] = int(model.Infinity)
		return executor.Event{Node: f.node, Resource: id, Action: op.Action, Class: agent.ClassSoft, FailCount: f.fails[id],
			Result: agent.Result{RC: agent.ErrGeneric, Status: agent.StatusDone}}
	}
	switch op.Action {
	case agent.Start:
		f.running[id] = true
	case agent.Stop:
		delete(f.running, id)
	}
	return executor.Event{Node: f.node, Resource: id, Action: op.Action, FailCount: f.fails[id], Result: agent.Result{RC: agent.OK}}
}

func (f *fakeExec) ClearFailures(rsc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.fails, rsc)
	f.rec.add(fmt.Sprintf("%s clear %s", f.node, rsc))
}

func (f *fakeExec) StartMonitor(executor.Op) error { return nil }

func (f *fakeExec) Probe(_ context.Context, insts []agent.Instance) []executor.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []executor.Event
	for _, in := range insts {
		rc := agent.NotRunning
		if f.running[in.ID] {
			rc = agent.OK
		}
		out = append(out, executor.Event{Node: f.node, Resource: in.ID, Action: agent.Monitor, Probe: true, Result: agent.Result{RC: rc}})
	}
	return out
}

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
		rts[n] = NewRuntime(RuntimeConfig{
			Coordinator: Config{Self: n, Nodes: names, Quorum: q, Gate: recovery.New(recovery.Config{Self: n, Nodes: names}),
				Schedule: PackageScheduler, CIB: &CIB{Version: Version{Epoch: 1}, Config: cfg}},
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
		rts[n].OnView(1, names, "n1")
	}
	waitFor(t, func() bool { return rts["n3"].Snapshot().CIB.NumUpdates > 0 }, "CIB replicated to n3")
	if i := rec.index("n1 start vip"); i >= 0 {
		t.Fatalf("vip started on n1 although n2 runs it: %v", rec.log)
	}
	// n2 is lost.
	mu.Lock()
	up["n2"] = false
	mu.Unlock()
	for _, n := range []string{"n1", "n3"} {
		rts[n].OnView(2, []string{"n1", "n3"}, "n1")
	}
	waitFor(t, func() bool { return rec.index("n1 start dummy") >= 0 || rec.index("n3 start dummy") >= 0 }, "group restarted elsewhere")
	f := rec.index("fence n2")
	s := max(rec.index("n1 start vip"), rec.index("n3 start vip"))
	if f < 0 || s < f {
		t.Fatalf("start before fence: %v", rec.log)
	}
	es, err := eventlog.Read(bytes.NewReader(rec.buf.Bytes()))
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
	// An operator confirmation on a non-DC is forwarded to the DC.
	if msg, err := rts["n3"].Confirm("n2", "alice"); err != nil || !strings.Contains(msg, "forwarded to the DC n1") {
		t.Fatalf("confirm on n3: %q, %v", msg, err)
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
