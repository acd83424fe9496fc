package watchdog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/fence"
)

// clock is a logical clock the Fake and the test share.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type health struct {
	mu  sync.Mutex
	ok  bool
	why string
}

func (h *health) set(ok bool, why string) { h.mu.Lock(); h.ok, h.why = ok, why; h.mu.Unlock() }
func (h *health) get() (bool, string)     { h.mu.Lock(); defer h.mu.Unlock(); return h.ok, h.why }

// harness runs a Watchdog on a Fake with hand-driven ticks. step advances
// the logical clock by one interval and delivers one tick, waiting until
// Run has handled it.
type harness struct {
	t     *testing.T
	clk   *clock
	dev   *Fake
	w     *Watchdog
	h     *health
	ticks chan time.Time
	acks  chan bool
	done  chan error
}

func newHarness(t *testing.T, timeout time.Duration) *harness {
	t.Helper()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	hz := &harness{t: t, clk: clk, dev: NewFake(clk.Now), h: &health{ok: true}, ticks: make(chan time.Time), acks: make(chan bool), done: make(chan error, 1)}
	w, err := New(hz.dev, Config{Timeout: timeout, Healthy: hz.h.get, Ticks: hz.ticks,
		OnTick: func(fed bool) { hz.acks <- fed }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hz.w = w
	go func() { hz.done <- w.Run(context.Background()) }()
	return hz
}

func (hz *harness) step(n int) {
	for i := 0; i < n; i++ {
		hz.clk.Advance(hz.w.cfg.Interval)
		hz.ticks <- hz.clk.Now()
		<-hz.acks
	}
}

func TestFeedsWhileHealthyAndMagicCloseOnStop(t *testing.T) {
	hz := newHarness(t, 9*time.Second)
	if hz.w.Timeout() != 9*time.Second || hz.w.cfg.Interval != 3*time.Second {
		t.Fatalf("timeout %s interval %s", hz.w.Timeout(), hz.w.cfg.Interval)
	}
	hz.step(100) // 300 s of logical time
	if fired, _ := hz.dev.Fired(); fired {
		t.Fatal("the watchdog fired although the node was healthy")
	}
	if got := hz.dev.Keepalives(); got != 101 {
		t.Errorf("%d keepalives, want 101 (one at arming, one per tick)", got)
	}
	if err := hz.w.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-hz.done; !errors.Is(err, ErrStopped) {
		t.Errorf("Run returned %v", err)
	}
	hz.clk.Advance(time.Hour)
	if fired, _ := hz.dev.Fired(); fired {
		t.Error("the watchdog fired after a magic close")
	}
	ops := hz.dev.Ops()
	if ops[0] != "open" || ops[1] != "settimeout 9" || ops[len(ops)-1] != "magic close" {
		t.Errorf("operations %v", ops)
	}
}

// TestStarvesForGoodWhenUnhealthy: the first failed health check stops
// feeding; health coming back does not resume it; the Fake fires one
// timeout after the last feed; Stop then refuses to disarm.
func TestStarvesForGoodWhenUnhealthy(t *testing.T) {
	hz := newHarness(t, 6*time.Second)
	hz.step(3)
	lastFeed := hz.clk.Now()
	hz.h.set(false, "partition lost quorum")
	hz.step(1)
	hz.h.set(true, "")
	hz.step(1) // 4 s after the last feed: not yet
	if fired, _ := hz.dev.Fired(); fired {
		t.Fatal("fired before the timeout")
	}
	hz.step(1) // 6 s: exactly the timeout
	if fired, _ := hz.dev.Fired(); fired {
		t.Fatal("fired at the timeout, not after it")
	}
	hz.clk.Advance(time.Millisecond)
	fired, at := hz.dev.Fired()
	if !fired || !at.Equal(lastFeed.Add(6*time.Second)) {
		t.Fatalf("fired %v at %v, want at %v", fired, at, lastFeed.Add(6*time.Second))
	}
	if ok, why := hz.w.Feeding(); ok || why != "partition lost quorum" {
		t.Errorf("Feeding() = %v %q", ok, why)
	}
	if err := hz.w.Stop(); err == nil || !strings.Contains(err.Error(), "must reset") {
		t.Errorf("Stop after starving: %v", err)
	}
	if got := hz.dev.Keepalives(); got != 4 {
		t.Errorf("%d keepalives, want 4", got)
	}
}

func TestAbandonClosesWithoutMagic(t *testing.T) {
	hz := newHarness(t, 3*time.Second)
	hz.step(2)
	if err := hz.w.Abandon("daemon lost its state directory"); err != nil {
		t.Fatal(err)
	}
	<-hz.done
	hz.clk.Advance(4 * time.Second)
	if fired, _ := hz.dev.Fired(); !fired {
		t.Error("an abandoned watchdog did not fire")
	}
	if ops := hz.dev.Ops(); ops[len(ops)-1] != "close without magic" {
		t.Errorf("operations %v", ops)
	}
}

func TestNewRefuses(t *testing.T) {
	clk := &clock{now: time.Unix(0, 0)}
	ok := func() (bool, string) { return true, "" }
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Timeout: 500 * time.Millisecond, Healthy: ok}, "below the one second"},
		{Config{Timeout: 10 * time.Second}, "no health predicate"},
		{Config{Timeout: 10 * time.Second, Interval: 10 * time.Second, Healthy: ok}, "not below the timeout"},
		{Config{Timeout: 100000 * time.Second, Healthy: ok}, "invalid argument"},
	} {
		if _, err := New(NewFake(clk.Now), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// The driver rounds up to whole seconds; the Watchdog reports what it set.
	w, err := New(NewFake(clk.Now), Config{Timeout: 2500 * time.Millisecond, Healthy: ok})
	if err != nil || w.Timeout() != 3*time.Second {
		t.Errorf("rounded timeout: %v %v", w, err)
	}
}

func TestCheckFenceTimeout(t *testing.T) {
	for _, tc := range []struct {
		fence, wd, lag time.Duration
		want           string
	}{
		{20 * time.Second, 10 * time.Second, 2 * time.Second, ""},
		{15 * time.Second, 10 * time.Second, 2 * time.Second, "must be at least 20s (twice the watchdog timeout); it is 5s short"},
		{10 * time.Second, 10 * time.Second, 0, "it is 10s short"},
		{25 * time.Second, 10 * time.Second, 16 * time.Second, "at least 26s (the watchdog timeout plus the detection lag 16s); it is 1s short"},
		{26 * time.Second, 10 * time.Second, 16 * time.Second, ""},
		{time.Minute, 0, 0, "must be positive"},
	} {
		err := CheckFenceTimeout(tc.fence, tc.wd, tc.lag)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckFenceTimeout(%s, %s, %s) = %v, want %q", tc.fence, tc.wd, tc.lag, err, tc.want)
		}
	}
}

func TestStandInFileRecordsOperations(t *testing.T) {
	p := filepath.Join(t.TempDir(), "wd.log")
	dev, err := Open("stand-in:" + p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(dev, Config{Timeout: 5 * time.Second, Healthy: func() (bool, string) { return true, "" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	for _, op := range []string{"open", "settimeout 5", "keepalive", "magic close"} {
		if !strings.Contains(string(b), " "+op+"\n") {
			t.Errorf("stand-in log lacks %q:\n%s", op, b)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "not-a-device")); err == nil {
		t.Error("a plain path that is not a watchdog device was accepted")
	}
}

// TestFenceWatchdog: the peers' side. Without the daemon's loss clock the
// plugin refuses like the reference; with it, a lost node is OFF once the
// fence timeout has passed since it was lost, and a member never is.
func TestFenceWatchdog(t *testing.T) {
	SetLossClock(nil)
	_, err := fence.NewAgent("fence_watchdog", map[string]string{"plug": "n2", OptFenceTimeout: "1"})
	if !errors.Is(err, fence.ErrUnsupported) || !strings.Contains(err.Error(), "may be initiated only by the cluster") {
		t.Fatalf("without the daemon: %v", err)
	}
	var mu sync.Mutex
	lost := map[string]time.Time{}
	SetLossClock(func(n string) (time.Time, bool) { mu.Lock(); defer mu.Unlock(); at, ok := lost[n]; return at, ok })
	defer SetLossClock(nil)
	a, err := fence.NewAgent("fence_watchdog", map[string]string{"plug": "n2", OptFenceTimeout: "0.3", "action": "off"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res := a.Do(ctx, fence.ActionStatus); !res.OK || res.State != fence.PowerOn {
		t.Fatalf("member: %v", res)
	}
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	res := a.Do(short, fence.ActionOff)
	cancelShort()
	if res.OK {
		t.Fatalf("a member was counted as fenced: %v", res)
	}
	mu.Lock()
	lost["n2"] = time.Now()
	mu.Unlock()
	start := time.Now()
	res = a.Do(ctx, fence.ActionOff)
	if !res.Fenced() || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("lost node: %v after %s", res, time.Since(start))
	}
	if _, err := fence.NewAgent("fence_watchdog", map[string]string{"plug": "n2"}); !errors.Is(err, fence.ErrConfig) {
		t.Errorf("without watchdog_fence_timeout: %v", err)
	}
}
