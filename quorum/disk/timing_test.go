package disk

import (
	"strings"
	"testing"
	"time"
)

func TestCheckTiming(t *testing.T) {
	good := Timing{Disk: DefaultTimeouts, Watchdog: 5 * time.Second, FenceTimeout: 60 * time.Second, Deadtime: 15 * time.Second}
	if err := CheckTiming(good); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	s := time.Second
	for _, tc := range []struct {
		name string
		mod  func(*Timing)
		want []string
	}{
		{"no watchdog", func(t *Timing) { t.Watchdog = 0 }, []string{"no watchdog", "at most 5s"}},
		{"longer watchdog", func(t *Timing) { t.Watchdog = 8 * s }, []string{"watchdog timeout 8s is longer than the 5s", "--watchdog 8s --msgwait 16s"}},
		{"msgwait <= watchdog", func(t *Timing) { t.Disk.MsgWait = 5 * s }, []string{"watchdog timeout 5s must be less than msgwait 5s", "--msgwait 10s"}},
		{"msgwait too short for loop+io", func(t *Timing) { t.Disk.MsgWait = 6 * s }, []string{"msgwait 6s is less than watchdog + loop + io-timeout (5s + 1s + 1s = 7s)", "--msgwait 7s"}},
		{"fence timeout", func(t *Timing) { t.FenceTimeout = 10 * s }, []string{"msgwait 10s must be less than the fence timeout 10s", "to at least 15s"}},
		{"io timeout", func(t *Timing) { t.Disk.IO = 5 * s; t.Disk.MsgWait = 20 * s }, []string{"io-timeout 5s must be less than the watchdog timeout 5s"}},
		{"loop+io", func(t *Timing) {
			t.Disk.Loop = 3 * s
			t.Disk.IO = 2 * s
			t.Disk.MsgWait = 20 * s
			t.Deadtime = time.Minute
		}, []string{"loop + io-timeout (3s + 2s) must be less than the watchdog timeout 5s"}},
		{"deadtime", func(t *Timing) { t.Deadtime = 10 * s }, []string{"timing.deadtime 10s is shorter than the quorum disk's master takeover", "= 12s", "raise timing.deadtime to 12s"}},
	} {
		tt := good
		tc.mod(&tt)
		err := CheckTiming(tt)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v does not say %q", tc.name, err, w)
			}
		}
	}
	// Every violation is listed at once.
	bad := Timing{Disk: Timeouts{Watchdog: 5 * s, MsgWait: 5 * s, Loop: s, IO: s, DeadAfter: 6 * s}, Watchdog: 0, FenceTimeout: 5 * s, Deadtime: 5 * s}
	if err := CheckTiming(bad); err == nil || strings.Count(err.Error(), "\n") != 4 {
		t.Errorf("want four problems, got %v", err)
	}
}
