package executor

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/resources/agent"
)

// stateAgent is a small OCF agent: start creates $OCF_RESKEY_state, stop
// removes it, monitor checks it; $OCF_RESKEY_log collects the call order;
// the file $OCF_RESKEY_state.failstop makes stop fail.
const stateAgent = `#!/bin/sh
echo "$OCF_RESOURCE_INSTANCE $1" >> "$OCF_RESKEY_log"
case "$1" in
start) touch "$OCF_RESKEY_state"; exit 0 ;;
stop) [ -f "$OCF_RESKEY_state.failstop" ] && { echo "ocf-exit-reason:stuck" >&2; exit 1; }
      rm -f "$OCF_RESKEY_state"; exit 0 ;;
monitor) [ -f "$OCF_RESKEY_state" ] && exit 0; exit 7 ;;
hang) sleep 100 ;;
whereami) echo "$OCF_RESKEY_CRM_meta_on_node"; exit 0 ;;
*) exit 3 ;;
esac
`

type fixture struct {
	ex  *Executor
	dir string
	mu  sync.Mutex
	evs []Event
	got chan Event
}

func newFixture(t *testing.T, fencing bool) *fixture {
	t.Helper()
	root := t.TempDir()
	p := filepath.Join(root, "resource.d", "test")
	os.MkdirAll(p, 0o755)
	if err := os.WriteFile(filepath.Join(p, "State"), []byte(stateAgent), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: t.TempDir(), got: make(chan Event, 100)}
	f.ex = New(Config{Node: "n1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Agent: agent.NewRegistry(agent.Options{OCFRoot: root}), Fencing: fencing,
		Report: func(ev Event) {
			f.mu.Lock()
			f.evs = append(f.evs, ev)
			f.mu.Unlock()
			f.got <- ev
		}})
	t.Cleanup(f.ex.Close)
	return f
}

func (f *fixture) inst(id string) agent.Instance {
	return agent.Instance{ID: id, Class: "ocf", Provider: "test", Type: "State", Timeout: 10 * time.Second,
		Params: map[string]string{"state": filepath.Join(f.dir, id), "log": filepath.Join(f.dir, "log")}}
}

func (f *fixture) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-f.got:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event reported")
	}
	return Event{}
}

func TestExecStartMonitorFailStop(t *testing.T) {
	f := newFixture(t, true)
	in := f.inst("r1")
	ctx := context.Background()
	if ev := f.ex.Exec(ctx, Op{Instance: in, Action: agent.Monitor, Probe: true}); ev.Result.RC != agent.NotRunning || ev.Failed() {
		t.Fatalf("probe: %+v", ev)
	}
	f.next(t)
	if ev := f.ex.Exec(ctx, Op{Instance: in, Action: agent.Start, Ref: "t1:1"}); ev.Failed() || ev.Ref != "t1:1" {
		t.Fatalf("start: %+v", ev)
	}
	f.next(t)
	if err := f.ex.StartMonitor(Op{Instance: in, Action: agent.Monitor, Interval: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if ev := f.next(t); ev.Failed() || ev.Interval != 50*time.Millisecond {
		t.Fatalf("first monitor: %+v", ev)
	}
	os.Remove(in.Params["state"]) // the resource dies behind our back
	ev := f.next(t)
	if ev.Result.RC != agent.NotRunning || ev.Class != agent.ClassSoft || ev.OnFail != OnFailRestart || ev.FailCount != 1 {
		t.Fatalf("failed monitor: %+v", ev)
	}
	// Stop cancels the monitor first; then stop fails → fence.
	os.WriteFile(in.Params["state"]+".failstop", nil, 0o644)
	ev = f.ex.Exec(ctx, Op{Instance: in, Action: agent.Stop})
	if ev.OnFail != OnFailFence || ev.Result.ExitReason != "stuck" || ev.FailCount != 2 {
		t.Fatalf("failed stop: %+v", ev)
	}
	if m := f.ex.Monitors(); len(m) != 0 {
		t.Fatalf("monitor survived stop: %v", m)
	}
	st := f.ex.Status()
	if len(st) != 1 || st[0].FailCount != 2 || st[0].LastFailure.IsZero() {
		t.Fatalf("status: %+v", st)
	}
	f.ex.ClearFailures("r1")
	if n, _ := f.ex.FailCount("r1"); n != 0 {
		t.Fatalf("fail count after clear: %d", n)
	}
}

// Submitted actions on one resource run in order, different resources
// in parallel.
func TestSubmitOrder(t *testing.T) {
	f := newFixture(t, false)
	seq := []agent.Action{agent.Start, agent.Monitor, agent.Stop, agent.Start, agent.Stop}
	for _, id := range []string{"a", "b"} {
		for _, a := range seq {
			f.ex.Submit(Op{Instance: f.inst(id), Action: a})
		}
	}
	for range 2 * len(seq) {
		f.next(t)
	}
	b, _ := os.ReadFile(filepath.Join(f.dir, "log"))
	per := map[string][]string{}
	for l := range strings.Lines(string(b)) {
		id, a, _ := strings.Cut(strings.TrimSpace(l), " ")
		per[id] = append(per[id], a)
	}
	for _, id := range []string{"a", "b"} {
		if got := strings.Join(per[id], ","); got != "start,monitor,stop,start,stop" {
			t.Errorf("%s ran %s", id, got)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var last uint64
	for _, ev := range f.evs {
		if ev.CallID <= last {
			t.Errorf("call ids not increasing: %d after %d", ev.CallID, last)
		}
		last = ev.CallID
	}
}

func TestTimeoutIsReported(t *testing.T) {
	f := newFixture(t, true)
	in := f.inst("slow")
	in.Timeout = 200 * time.Millisecond
	ev := f.ex.Exec(context.Background(), Op{Instance: in, Action: "hang"})
	if ev.Result.Status != agent.StatusTimeout || ev.Class != agent.ClassSoft || ev.OnFail != OnFailRestart {
		t.Fatalf("got %+v", ev)
	}
	ev = f.ex.Exec(context.Background(), Op{Instance: in, Action: agent.Stop, OnFail: OnFailBlock})
	if ev.Failed() {
		t.Fatalf("stop: %+v", ev)
	}
}

func TestProbeMany(t *testing.T) {
	f := newFixture(t, true)
	in := f.inst("p1")
	os.WriteFile(in.Params["state"], nil, 0o644) // already running here
	evs := f.ex.Probe(context.Background(), []agent.Instance{in, f.inst("p2"),
		{ID: "p3", Class: "ocf", Provider: "test", Type: "Missing"}})
	want := []agent.RC{agent.OK, agent.NotRunning, agent.ErrInstalled}
	for i, ev := range evs {
		if ev.Result.RC != want[i] || !ev.Probe {
			t.Errorf("probe %s: rc %d, want %d", ev.Resource, ev.Result.RC, want[i])
		}
	}
	if evs[2].Class != agent.ClassHard {
		t.Errorf("missing agent on probe: class %s", evs[2].Class)
	}
}

func TestCancelledExecIsNotRecorded(t *testing.T) {
	f := newFixture(t, true)
	in := f.inst("c")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	ev := f.ex.Exec(ctx, Op{Instance: in, Action: "hang"})
	if ev.Result.Status != agent.StatusCancelled || ev.Failed() {
		t.Fatalf("got %+v", ev)
	}
	if st := f.ex.Status(); len(st) != 0 {
		t.Fatalf("cancelled action recorded: %+v", st)
	}
}

func TestStartMonitorValidates(t *testing.T) {
	f := newFixture(t, true)
	if err := f.ex.StartMonitor(Op{Instance: f.inst("x"), Action: agent.Monitor}); err == nil {
		t.Fatal("interval 0 accepted")
	}
	f.ex.Close()
	if err := f.ex.StartMonitor(Op{Instance: f.inst("x"), Action: agent.Monitor, Interval: time.Second}); err == nil {
		t.Fatal("accepted after Close")
	}
}

func TestOnNodeMeta(t *testing.T) {
	f := newFixture(t, true)
	ev := f.ex.Exec(context.Background(), Op{Instance: f.inst("w"), Action: "whereami"})
	if strings.TrimSpace(ev.Result.Output) != "n1" {
		t.Fatalf("CRM_meta_on_node = %q, want n1", ev.Result.Output)
	}
}
