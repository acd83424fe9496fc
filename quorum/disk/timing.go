package disk

import (
	"fmt"
	"strings"
	"time"
)

// Timing is what CheckTiming compares: the disk's header and the node's
// own settings.
type Timing struct {
	// Disk are the timeouts in the disk header.
	Disk Timeouts
	// Watchdog is the timeout this node's watchdog device runs with (0:
	// no watchdog, which a quorum disk does not allow).
	Watchdog time.Duration
	// FenceTimeout bounds one fence attempt through the disk
	// (fencing.attempt_timeout, or the disk device's power_timeout).
	FenceTimeout time.Duration
	// Deadtime is the cluster's timing.deadtime.
	Deadtime time.Duration
}

// CheckTiming refuses timings under which a poison pill could be counted
// as a fence before its target is dead, or a healthy node could reset
// itself. palisaded calls it at start (after reading the disk header) and
// refuses to start on an error; every line names the values to change:
//
//   - a watchdog is configured, and its timeout is not longer than the one
//     the disk was created for (msgwait was computed from it);
//   - watchdog timeout < msgwait, and msgwait >= watchdog + loop + io: a
//     target that cannot read its pill stops feeding within loop + io and
//     its watchdog fires within the watchdog timeout after that;
//   - msgwait < fence timeout: the fence request must outlive msgwait
//     (the error suggests PillTimeout);
//   - io timeout < watchdog timeout, and loop + io < watchdog: a healthy
//     node feeds its watchdog in time even with slow I/O;
//   - dead_after + master takeover <= deadtime: a dead node (or a dead
//     master) is dead on disk and replaced before the membership drops it,
//     so the survivors' new view gets the disk's votes without waiting.
func CheckTiming(t Timing) error {
	d := t.Disk
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if t.Watchdog <= 0 {
		add("no watchdog: a quorum disk needs this node's watchdog (a target that cannot read its pill must still die within msgwait); configure the watchdog device with a timeout of at most %s", d.Watchdog)
	} else if t.Watchdog > d.Watchdog {
		add("watchdog timeout %s is longer than the %s the quorum disk was created for: set the watchdog device's timeout to %s, or recreate the disk with palisade disk create --watchdog %s --msgwait %s", t.Watchdog, d.Watchdog, d.Watchdog, t.Watchdog, 2*t.Watchdog)
	}
	if d.Watchdog >= d.MsgWait {
		add("quorum disk watchdog timeout %s must be less than msgwait %s: recreate the disk with --msgwait %s (2 x watchdog)", d.Watchdog, d.MsgWait, 2*d.Watchdog)
	} else if need := d.Watchdog + d.Loop + d.IO; d.MsgWait < need {
		add("quorum disk msgwait %s is less than watchdog + loop + io-timeout (%s + %s + %s = %s): a target that cannot read its pill may outlive msgwait; recreate the disk with --msgwait %s or shorter --loop/--io-timeout", d.MsgWait, d.Watchdog, d.Loop, d.IO, need, need)
	}
	if t.FenceTimeout > 0 && d.MsgWait >= t.FenceTimeout {
		add("quorum disk msgwait %s must be less than the fence timeout %s: raise fencing.attempt_timeout (or the disk device's power_timeout) to at least %s", d.MsgWait, t.FenceTimeout, PillTimeout(d))
	}
	wd := t.Watchdog
	if wd <= 0 {
		wd = d.Watchdog
	}
	if d.IO >= wd {
		add("quorum disk io-timeout %s must be less than the watchdog timeout %s: recreate the disk with a shorter --io-timeout", d.IO, wd)
	} else if d.Loop+d.IO >= wd {
		add("quorum disk loop + io-timeout (%s + %s) must be less than the watchdog timeout %s, or a healthy node with slow I/O resets: recreate the disk with a shorter --loop or --io-timeout, or lengthen the watchdog (and msgwait)", d.Loop, d.IO, wd)
	}
	if t.Deadtime > 0 {
		takeover := d.DeadAfter + 2*(d.Loop+d.IO) + 2*d.Loop
		if takeover > t.Deadtime {
			add("timing.deadtime %s is shorter than the quorum disk's master takeover (dead-after %s + election 2 x (loop + io) %s + 2 loops = %s): raise timing.deadtime to %s, or recreate the disk with a shorter --dead-after/--loop", t.Deadtime, d.DeadAfter, 2*(d.Loop+d.IO), takeover, takeover)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("quorum disk timing refused:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}
