package node

import (
	"testing"
	"time"

	"palisade/cluster/membership"
)

// TestTickEvery checks the loop's tick period against the DC layer's
// freshness bound for the timings in use: the defaults, the lab and
// failover benches, and edge cases of the Heartbeat rules.
func TestTickEvery(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		keepalive, deadtime, want time.Duration
	}{
		{2 * time.Second, 30 * time.Second, 2 * time.Second}, // daemon defaults: every keepalive
		{100 * ms, 500 * ms, 50 * ms},                        // bench-mesh, lab
		{50 * ms, 250 * ms, 25 * ms},                         // failover harness
		{time.Second, 10 * time.Second, time.Second},         // ha.cf-style
		{time.Second, 3 * time.Second, 200 * ms},             // deadtime barely over 2 keepalives: keepalive/5
		{10 * ms, 21 * ms, 5 * ms},                           // the 5ms floor
	} {
		tm := membership.Timing{Keepalive: c.keepalive, Warntime: (c.keepalive + c.deadtime) / 2, Deadtime: c.deadtime, Initdead: c.deadtime}
		got := TickEvery(tm)
		if got != c.want {
			t.Errorf("keepalive %v deadtime %v: tick every %v, want %v", c.keepalive, c.deadtime, got, c.want)
		}
		if got > c.keepalive {
			t.Errorf("keepalive %v: tick %v longer than a keepalive", c.keepalive, got)
		}
		if c.keepalive%got != 0 {
			t.Errorf("keepalive %v: tick %v does not divide it (ticks would not fall on heartbeats)", c.keepalive, got)
		}
	}
}

func TestNextGridPoint(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct{ prev, every, now, want time.Duration }{
		{100 * ms, 100 * ms, 100 * ms, 200 * ms}, // on time
		{100 * ms, 100 * ms, 130 * ms, 200 * ms}, // a little late
		{100 * ms, 100 * ms, 200 * ms, 300 * ms}, // exactly one late: skip it
		{100 * ms, 100 * ms, 455 * ms, 500 * ms}, // overslept: no bunching
	} {
		if got := next(c.prev, c.every, c.now); got != c.want {
			t.Errorf("next(%v, %v, %v) = %v, want %v", c.prev, c.every, c.now, got, c.want)
		}
	}
}
