package model

import (
	"testing"

	"palisade/quorum"
)

// TestOptionDefaults: Pacemaker's defaults and the canonical words, as
// every reader gets them.
func TestOptionDefaults(t *testing.T) {
	var o Options
	if !o.Stonith() || !o.Symmetric() || !o.StartFatal() || !o.StopOrphans() || o.QuorumPolicy() != quorum.PolicyStop ||
		o.Placement() != "default" || o.FenceAction() != "reboot" || o.FenceActionSet() || o.HealthStrategy() != "none" {
		t.Fatalf("defaults of an empty Options wrong: %+v", o)
	}
	no := false
	o = Options{StonithEnabled: &no, SymmetricCluster: &no, StartFailureIsFatal: &no, StopOrphanResources: &no,
		NoQuorumPolicy: " Suicide", PlacementStrategy: "Balanced", StonithAction: "poweroff", NodeHealthStrategy: "only-green"}
	if o.Stonith() || o.Symmetric() || o.StartFatal() || o.StopOrphans() || o.QuorumPolicy() != quorum.PolicySuicide ||
		o.Placement() != "balanced" || o.FenceAction() != "off" || !o.FenceActionSet() || o.HealthStrategy() != "only-green" {
		t.Fatalf("set options read wrong: %+v", o)
	}
	if p := o.WordProblems(); len(p) != 0 {
		t.Fatalf("problems in valid words: %+v", p)
	}
	// Every policy of the one enum is a word of the option, and only those.
	for _, p := range quorum.Policies {
		if got := (Options{NoQuorumPolicy: string(p)}).QuorumPolicy(); got != p {
			t.Errorf("no-quorum-policy %s read as %s", p, got)
		}
	}
	bad := Options{NoQuorumPolicy: "sucide", PlacementStrategy: "fair", StonithAction: "shutdown", NodeHealthStrategy: "green"}
	if bad.QuorumPolicy() != quorum.PolicyStop || bad.Placement() != "default" || bad.FenceAction() != "reboot" || bad.FenceActionSet() {
		t.Fatalf("unknown words must read as the default: %+v", bad)
	}
	got := bad.WordProblems()
	if len(got) != 4 || got[0].Option != OptNoQuorumPolicy || got[0].Value != "sucide" || got[3].Option != OptNodeHealthStrategy {
		t.Fatalf("problems: %+v", got)
	}
}
