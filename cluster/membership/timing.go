package membership

import (
	"fmt"
	"time"
)

// Timing holds Heartbeat's failure-detection intervals.
type Timing struct {
	Keepalive time.Duration // interval between heartbeats sent
	Warntime  time.Duration // silence after which a peer or link is "warn"
	Deadtime  time.Duration // silence after which a peer or link is "dead"
	Initdead  time.Duration // deadtime used at start-up for peers not yet heard
}

// Validate applies Heartbeat's rules: deadtime must exceed two keepalives so
// one lost heartbeat never kills a node, warntime lies between keepalive and
// deadtime, and initdead is at least deadtime (boot is never faster than
// steady state).
func (t Timing) Validate() error {
	switch {
	case t.Keepalive <= 0:
		return fmt.Errorf("keepalive %v: must be positive", t.Keepalive)
	case t.Deadtime <= 2*t.Keepalive:
		return fmt.Errorf("deadtime %v: must be more than 2 × keepalive (%v)", t.Deadtime, 2*t.Keepalive)
	case t.Warntime <= t.Keepalive || t.Warntime >= t.Deadtime:
		return fmt.Errorf("warntime %v: must be between keepalive %v and deadtime %v", t.Warntime, t.Keepalive, t.Deadtime)
	case t.Initdead < t.Deadtime:
		return fmt.Errorf("initdead %v: must be at least deadtime %v", t.Initdead, t.Deadtime)
	}
	return nil
}
