package watchdog

import (
	"fmt"
	"time"
)

// CheckFenceTimeout refuses a watchdog_fence_timeout that is not safely
// above the watchdog timeout of the nodes it applies to.
//
// A lost node stops feeding at the latest one feed interval after it
// notices it lost quorum, and resets at the latest one watchdog timeout
// after its last feed. Its peers count from when they declared it lost;
// the node may notice up to lag later than they do (lag: the caller's
// bound on that difference plus the feed interval, e.g. keepalive +
// interval). So the peers must wait at least timeout + lag. On top of
// that the rule Pacemaker documents for stonith-watchdog-timeout applies:
// at least twice the watchdog timeout, which absorbs a driver that rounds
// or a kernel that is slow to reset.
//
// The error says what the minimum is and by how much the value falls
// short.
func CheckFenceTimeout(fenceTimeout, watchdogTimeout, lag time.Duration) error {
	if watchdogTimeout <= 0 {
		return fmt.Errorf("watchdog timeout %s: must be positive", watchdogTimeout)
	}
	if lag < 0 {
		return fmt.Errorf("detection lag %s: must not be negative", lag)
	}
	need, why := 2*watchdogTimeout, "twice the watchdog timeout"
	if alt := watchdogTimeout + lag; alt > need {
		need, why = alt, fmt.Sprintf("the watchdog timeout plus the detection lag %s", lag)
	}
	if fenceTimeout < need {
		return fmt.Errorf("watchdog_fence_timeout %s is not safely above the watchdog timeout %s: it must be at least %s (%s); it is %s short",
			fenceTimeout, watchdogTimeout, need, why, need-fenceTimeout)
	}
	return nil
}
