package disk

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

	"palisade/fence"
	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// fastTimeouts keep real-time tests short; the rules between them hold.
var fastTimeouts = Timeouts{Watchdog: 400 * time.Millisecond, MsgWait: 800 * time.Millisecond, Loop: 50 * time.Millisecond, IO: 100 * time.Millisecond, DeadAfter: 400 * time.Millisecond}

// fakeWatchdog records feeds and whether it was disarmed.
type fakeWatchdog struct {
	mu     sync.Mutex
	last   time.Time
	feeds  int
	closed bool
}

func (w *fakeWatchdog) Feed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.feeds++
	w.last = time.Now()
	return nil
}

func (w *fakeWatchdog) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return nil
}

func (w *fakeWatchdog) lastFeed() (time.Time, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.feeds
}

func quiet() *slog.Logger {
	if os.Getenv("DISK_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// createFileDisk formats a disk in a file.
func createFileDisk(t testing.TB, dir string, nodes ...string) string {
	t.Helper()
	path := filepath.Join(dir, "qdisk")
	h := Header{SectorSize: 4096, Slots: 8, Cluster: "test", Timeouts: fastTimeouts}
	if err := os.WriteFile(path, make([]byte, h.Size()), 0o600); err != nil {
		t.Fatal(err)
	}
	devs, disks := OpenDevices([]string{path}, 0)
	defer disks[0].Close()
	if err := Create(devs, h, nodes); err != nil {
		t.Fatal(err)
	}
	return path
}

type runningNode struct {
	r      *Runner
	wd     *fakeWatchdog
	fenced chan SelfFence
	cancel context.CancelFunc
	done   chan error
}

func startRunner(t testing.TB, paths []string, self string, nodes ...string) *runningNode {
	t.Helper()
	var ns []arbitration.Node
	for _, n := range nodes {
		ns = append(ns, arbitration.Node{Name: n, Votes: 1})
	}
	rn := &runningNode{wd: &fakeWatchdog{}, fenced: make(chan SelfFence, 1), done: make(chan error, 1)}
	r, err := Open(RunnerConfig{Core: Config{Self: self, Nodes: ns, Algorithm: quorum.AlgorithmLMS, DeviceVotes: len(nodes) - 1}, Paths: paths,
		Watchdog: rn.wd, SelfFence: func(f SelfFence) { rn.fenced <- f }, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	rn.r = r
	ctx, cancel := context.WithCancel(context.Background())
	rn.cancel = cancel
	go func() { rn.done <- r.Run(ctx) }()
	t.Cleanup(func() { rn.stop() })
	return rn
}

func (rn *runningNode) stop() {
	if rn.cancel != nil {
		rn.cancel()
		<-rn.done
		rn.cancel = nil
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestRunnerAndFenceAgentOnFile: two nodes run the real disk loop on a
// file; they elect a master and count the disk's votes; the fence agent
// then fences n2 with a reset pill: n2 fences itself at its next loop and
// never feeds its watchdog again, and the agent reports the fence only
// after msgwait.
func TestRunnerAndFenceAgentOnFile(t *testing.T) {
	path := createFileDisk(t, t.TempDir(), "n1", "n2")
	n1 := startRunner(t, []string{path}, "n1", "n1", "n2")
	n2 := startRunner(t, []string{path}, "n2", "n1", "n2")
	for _, n := range []*runningNode{n1, n2} {
		n.r.SetInput(Input{Quorate: true, View: 1, Members: []string{"n1", "n2"}})
	}
	waitUntil(t, "both nodes to count the disk's votes", func() bool {
		return n1.r.Vote().Voting && n2.r.Vote().Voting
	})
	if st := n1.r.Status(); st.Master == "" || st.Reached != 1 {
		t.Fatalf("status: %+v", st)
	}

	agent, err := NewFenceAgent(map[string]string{"devices": path, "plug": "n2"}, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if res := agent.Do(context.Background(), fence.ActionStatus); !res.OK || res.State != fence.PowerOn {
		t.Fatalf("status before the pill: %+v", res)
	}
	start := time.Now()
	res := agent.Do(context.Background(), fence.ActionReboot)
	elapsed := time.Since(start)
	if !res.Fenced() || res.Action != fence.ActionReboot {
		t.Fatalf("fence failed: %+v", res)
	}
	if elapsed < fastTimeouts.MsgWait {
		t.Fatalf("fenced after %s, before msgwait %s", elapsed, fastTimeouts.MsgWait)
	}
	var f SelfFence
	select {
	case f = <-n2.fenced:
	case <-time.After(time.Second):
		t.Fatal("n2 did not fence itself")
	}
	if f.Action != MsgReset || f.From != "n1" {
		t.Fatalf("self-fence: %+v", f)
	}
	last, feeds := n2.wd.lastFeed()
	time.Sleep(3 * fastTimeouts.Loop)
	if l2, f2 := n2.wd.lastFeed(); l2 != last || f2 != feeds {
		t.Fatalf("n2 fed its watchdog after fencing itself")
	}
	if !last.Before(start.Add(fastTimeouts.Loop + fastTimeouts.IO)) {
		t.Fatalf("n2's last feed %s is later than one loop after the pill", last.Sub(start))
	}
	// The list action shows the slots.
	if res := agent.Do(context.Background(), fence.ActionList); !res.OK || len(res.Plugs) != 2 {
		t.Fatalf("list: %+v", res)
	}
	// A fence timeout that cannot cover msgwait is refused.
	short, _ := NewFenceAgent(map[string]string{"devices": path, "plug": "n2", "power_timeout": "0.5"}, "n1")
	if res := short.Do(context.Background(), fence.ActionOff); res.OK || !strings.Contains(res.Err.Error(), "must exceed msgwait") {
		t.Fatalf("short power_timeout: %+v", res)
	}
	// no_quorum_policy suicide: n1 fences itself on request and never
	// feeds again, and a stop then leaves the watchdog armed.
	n1.r.FenceSelf("no quorum (no_quorum_policy suicide)")
	select {
	case f := <-n1.fenced:
		if f.Action != MsgReset || !strings.Contains(f.Reason, "suicide") {
			t.Fatalf("self-fence: %+v", f)
		}
	case <-time.After(time.Second):
		t.Fatal("FenceSelf did not call the hook")
	}
	_, fed := n1.wd.lastFeed()
	time.Sleep(3 * fastTimeouts.Loop)
	if _, f2 := n1.wd.lastFeed(); f2 != fed {
		t.Fatal("n1 fed its watchdog after FenceSelf")
	}
	n1.stop()
	if n1.wd.closed {
		t.Fatal("a fenced node disarmed its watchdog")
	}
	// A clean stop of a healthy node disarms its watchdog.
	n3 := startRunner(t, []string{path}, "n1", "n1", "n2")
	n3.r.SetInput(Input{Quorate: true, View: 3, Members: []string{"n1"}})
	waitUntil(t, "a step", func() bool { _, f := n3.wd.lastFeed(); return f > 0 })
	n3.stop()
	if !n3.wd.closed {
		t.Fatal("n1's watchdog was not disarmed on a clean stop")
	}
}

func TestFenceAgentParams(t *testing.T) {
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"plug": "n1"}, "devices lists 0 disks"},
		{map[string]string{"devices": "/a,/b", "plug": "n1"}, "devices lists 2 disks"},
		{map[string]string{"devices": "/a"}, "plug (the node to fence) is required"},
		{map[string]string{"devices": "/a", "plug": "n1", "ipaddr": "x"}, `unknown parameter "ipaddr"`},
		{map[string]string{"devices": "/a", "plug": "n1", "delay": "soon"}, `delay "soon": want seconds`},
	} {
		if _, err := NewFenceAgent(tc.params, "me"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.params, err, tc.want)
		}
	}
}
