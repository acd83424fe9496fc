package node

import (
	"testing"
	"time"

	"palisade/cluster/membership"
)

// TestReportDue checks when the loop owes the DC layer its next report,
// for the timings in use: the defaults, the lab and failover benches, and
// a deadtime barely over two keepalives.
func TestReportDue(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name                         string
		keepalive, deadtime          time.Duration
		now, quiet, want             time.Duration
		addsWakeUpWhenHeartbeatsFlow bool
	}{
		// Defaults: the pause bound (3/4 of 15s) is far past the next
		// heartbeat; no wake-up of its own.
		{"defaults", 2 * time.Second, 30 * time.Second, 10 * time.Second, 2 * time.Second, 10*time.Second + 15*time.Second*3/4, false},
		// bench-mesh: the least recently heard of 15 peers ~94ms ago: it
		// would make the DC stale at now+156ms, after the next heartbeat.
		{"mesh", 100 * ms, 500 * ms, time.Second, 94 * ms, time.Second - 94*ms + 250*ms + 1, false},
		// A member late by a keepalive: the report comes just after the
		// instant it makes the DC stale, before the next heartbeat.
		{"late member", 100 * ms, 500 * ms, time.Second, 190 * ms, time.Second + 60*ms + 1, true},
		// A member silent for exactly StaleAfter: the DC is fresh for one
		// more instant; the next report (quiet over StaleAfter) tells it.
		{"silent member", 100 * ms, 500 * ms, time.Second, 250 * ms, time.Second + 1, true},
		// Silent for longer: the DC knows; only the pause bound is left
		// (no busy loop on a deadline already past).
		{"silent longer", 100 * ms, 500 * ms, time.Second, 250*ms + 1, time.Second + 250*ms*3/4, false},
		{"silent much longer", 100 * ms, 500 * ms, time.Second, 400 * ms, time.Second + 250*ms*3/4, false},
		// deadtime 3s, keepalive 2s: StaleAfter 1.5s is under a keepalive;
		// the pause bound adds reports between heartbeats.
		{"short deadtime", 2 * time.Second, 3 * time.Second, 0, 0, 1125 * ms, true},
	} {
		tm := membership.Timing{Keepalive: c.keepalive, Warntime: (c.keepalive + c.deadtime) / 2, Deadtime: c.deadtime, Initdead: c.deadtime}
		got := ReportDue(c.now, c.quiet, tm)
		if got != c.want {
			t.Errorf("%s: report due at %v, want %v", c.name, got, c.want)
		}
		if got <= c.now {
			t.Errorf("%s: report due at %v, not after now %v", c.name, got, c.now)
		}
		if adds := got < c.now+c.keepalive; adds != c.addsWakeUpWhenHeartbeatsFlow {
			t.Errorf("%s: due %v before the next heartbeat = %v, want %v", c.name, got-c.now, adds, c.addsWakeUpWhenHeartbeatsFlow)
		}
		// The report lands while the DC is still fresh on the pause check.
		if got-c.now > StaleAfter(tm) {
			t.Errorf("%s: report due %v after the last, over StaleAfter %v", c.name, got-c.now, StaleAfter(tm))
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

// TestBeatDelay checks that a heartbeat lands on the wall clock's
// keepalive phase and that no clock position, before 1970 included,
// bunches beats or stretches the gap past keepalive + keepalive/8.
func TestBeatDelay(t *testing.T) {
	ms := time.Millisecond
	k := 100 * ms
	for _, c := range []struct {
		name string
		wall time.Time
		want time.Duration
	}{
		{"on the phase", time.Unix(1000, 0), k},
		{"just past the phase (timer latency)", time.Unix(1000, int64(300*time.Microsecond)), k - 300*time.Microsecond},
		{"just before the phase (slewed back): skip it", time.Unix(1000, 0).Add(-50 * time.Microsecond), k + 50*time.Microsecond},
		{"an eighth before the phase: take it", time.Unix(1000, 0).Add(-k / 8), k / 8},
		{"halfway", time.Unix(1000, int64(50*ms)), 50 * ms},
		{"before 1970, on the phase", time.Unix(-1000, 0), k},
		{"before 1970, halfway", time.Unix(-1000, int64(50*ms)), 50 * ms},
		{"before 1970, just before the phase", time.Unix(-1000, 0).Add(-time.Microsecond), k + time.Microsecond},
	} {
		if got := beatDelay(c.wall, k); got != c.want {
			t.Errorf("%s: beatDelay(%v) = %v, want %v", c.name, c.wall.UnixNano(), got, c.want)
		}
	}
	// Every position within a keepalive, at 1µs steps around the
	// bounds: the delay stays within [k/8, k+k/8) and ends on a phase
	// point.
	base := time.Unix(1700000000, 0)
	for off := -k; off <= k; off += 97 * time.Microsecond {
		w := base.Add(off)
		d := beatDelay(w, k)
		if d < k/8 || d >= k+k/8 {
			t.Fatalf("beatDelay(base%+v) = %v, outside [%v, %v)", off, d, k/8, k+k/8)
		}
		if r := w.Add(d).UnixNano() % int64(k); r != 0 {
			t.Fatalf("beatDelay(base%+v) = %v ends %v past a phase point", off, d, time.Duration(r))
		}
	}
}
