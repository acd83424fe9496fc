package engine

import (
	"testing"
	"time"

	"palisade/cluster/dc"
	"palisade/quorum"
	"palisade/resources/model"
)

// TestWithQuorumPolicy: the quorum section's policy reaches the scheduler
// whatever the configuration's own option says, without changing the
// configuration itself; no policy leaves the scheduler as it is.
func TestWithQuorumPolicy(t *testing.T) {
	var seen string
	sched := func(cfg *model.Config, _ model.Status, _ time.Time) ([]dc.PlannedAction, error) {
		seen = cfg.Options.NoQuorumPolicy
		return nil, nil
	}
	cfg := &model.Config{Options: model.Options{NoQuorumPolicy: "demote"}}
	if _, err := WithQuorumPolicy(sched, quorum.PolicyFreeze)(cfg, model.Status{}, time.Time{}); err != nil || seen != "freeze" {
		t.Fatalf("scheduled with %q", seen)
	}
	if cfg.Options.NoQuorumPolicy != "demote" {
		t.Fatal("the configuration itself was changed")
	}
	if _, _ = WithQuorumPolicy(sched, "")(cfg, model.Status{}, time.Time{}); seen != "demote" {
		t.Fatalf("no section policy: scheduled with %q", seen)
	}
	if !(*model.Config)(nil).StartFailureIsFatal() || (&model.Config{Options: model.Options{StartFailureIsFatal: new(bool)}}).StartFailureIsFatal() {
		t.Fatal("StartFailureIsFatal")
	}
}
