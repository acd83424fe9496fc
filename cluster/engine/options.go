package engine

import (
	"time"

	"palisade/cluster/dc"
	"palisade/quorum"
	"palisade/resources/model"
)

// WithQuorumPolicy makes s schedule with no-quorum-policy p whatever the
// configuration's own option says: the quorum section's policy, when it
// names one, is what the recovery gate applies too (cluster/config's
// Cluster.NoQuorumPolicy), so the scheduler must not stop what the gate
// keeps, or the reverse. An empty p leaves s as it is.
func WithQuorumPolicy(s dc.Scheduler, p quorum.NoQuorumPolicy) dc.Scheduler {
	if p == "" || s == nil {
		return s
	}
	return func(cfg *model.Config, st model.Status, now time.Time) ([]dc.PlannedAction, error) {
		if cfg != nil && cfg.Options.QuorumPolicy() != p {
			cp := *cfg
			cp.Options.NoQuorumPolicy = string(p)
			cfg = &cp
		}
		return s(cfg, st, now)
	}
}
