package recovery

import (
	"slices"
	"time"

	"palisade/quorum"
)

// Config tunes the gate.
type Config struct {
	// Self is the node this gate runs on (written into log entries).
	Self string
	// Nodes is every configured node.
	Nodes []string
	// StaticDelay is how long a fence request aimed at the key node waits
	// (the fence-race tie breaker). See DefaultStaticDelays.
	StaticDelay map[string]time.Duration
	// RandomDelayMax adds a random wait in [0, RandomDelayMax) drawn with
	// Rand (nil Rand: no random delay, which keeps tests deterministic).
	RandomDelayMax time.Duration
	Rand           func(max time.Duration) time.Duration
	// RetryInitial and RetryMax bound the retry backoff of failed fences.
	RetryInitial time.Duration
	RetryMax     time.Duration
	// StartupFencing treats configured nodes never seen since the gate
	// started as unclean (they may run resources we know nothing about).
	StartupFencing bool
	// NoQuorumPolicy decides whether an inquorate partition may start
	// resources it already owns (never a lost node's).
	NoQuorumPolicy quorum.NoQuorumPolicy
}

// Defaults for the retry backoff.
const (
	DefaultRetryInitial = time.Second
	DefaultRetryMax     = 16 * time.Second
	// DefaultTwoNodeDelay is the static delay given to the lowest-id node of
	// a two-node cluster when none is configured. It must exceed the time a
	// fence takes end to end (BMC login + power off + status check).
	DefaultTwoNodeDelay = 5 * time.Second
)

// DefaultStaticDelays returns the fence-race delays used when the
// configuration gives none: in a two-node cluster, fencing the lowest id
// waits d (DefaultTwoNodeDelay if d is 0); larger clusters settle races by
// quorum and get no delay.
func DefaultStaticDelays(nodes []string, d time.Duration) map[string]time.Duration {
	if len(nodes) != 2 {
		return map[string]time.Duration{}
	}
	if d == 0 {
		d = DefaultTwoNodeDelay
	}
	return map[string]time.Duration{slices.Min(nodes): d}
}

func (c *Config) fill() {
	if c.RetryInitial <= 0 {
		c.RetryInitial = DefaultRetryInitial
	}
	if c.RetryMax < c.RetryInitial {
		c.RetryMax = max(DefaultRetryMax, c.RetryInitial)
	}
	if c.StaticDelay == nil {
		c.StaticDelay = DefaultStaticDelays(c.Nodes, 0)
	}
	if c.NoQuorumPolicy == "" {
		c.NoQuorumPolicy = quorum.PolicyStop
	}
}
