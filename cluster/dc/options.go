package dc

import (
	"time"

	"palisade/quorum"
	"palisade/resources/model"
)

// StartFailureIsFatal is the cluster option start-failure-is-fatal of a
// configuration (Pacemaker's default, true, when it has none; the default
// itself lives with the options, model.Options.StartFatal).
func StartFailureIsFatal(cfg *model.Config) bool {
	return cfg == nil || cfg.Options.StartFatal()
}

// WithQuorumPolicy makes s schedule with no-quorum-policy p whatever the
// configuration's own option says: the quorum section's policy, when it
// names one, is what the recovery gate applies too (cluster/config's
// Cluster.NoQuorumPolicy), so the scheduler must not stop what the gate
// keeps, or the reverse. An empty p leaves s as it is.
func WithQuorumPolicy(s Scheduler, p quorum.NoQuorumPolicy) Scheduler {
	if p == "" || s == nil {
		return s
	}
	return func(cfg *model.Config, st model.Status, now time.Time) ([]PlannedAction, error) {
		if cfg != nil && cfg.Options.QuorumPolicy() != p {
			cp := *cfg
			cp.Options.NoQuorumPolicy = string(p)
			cfg = &cp
		}
		return s(cfg, st, now)
	}
}
