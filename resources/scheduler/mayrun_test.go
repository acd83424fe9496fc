package scheduler

import (
	"slices"
	"testing"

	"palisade/resources/model"
)

func TestMayRun(t *testing.T) {
	no := false
	cfg := &model.Config{
		Resources: []*model.Resource{
			{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{{ID: "vip"}, {ID: "web"}}},
			{ID: "free"},
			{ID: "cl", Kind: model.KindClone, Members: []*model.Resource{{ID: "agent"}}},
			{ID: "ruled"},
		},
		Constraints: model.Constraints{Locations: []model.Location{
			{ID: "l1", Rsc: "grp", Node: "n3", Score: -model.Infinity},
			{ID: "l2", Rsc: "free", Node: "n1", Score: 100},
			{ID: "l3", Rsc: "cl", Node: "n2", Score: -model.Infinity},
			{ID: "l4", Rsc: "ruled", Rules: []model.Rule{{Score: -model.Infinity, Expressions: []model.Expression{{Attribute: "#uname", Operation: "ne", Value: "n2"}}}}},
		}},
	}
	nodes := []string{"n1", "n2", "n3"}
	got := MayRun(cfg, nodes)
	want := map[string][]string{"vip": {"n1", "n2"}, "web": {"n1", "n2"}, "free": {"n1", "n2", "n3"}, "agent": {"n1", "n3"}, "ruled": {"n2"}}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("%s may run on %v, want %v", id, got[id], w)
		}
	}
	// Asymmetric: only where a location allows it.
	cfg.Options.SymmetricCluster = &no
	got = MayRun(cfg, nodes)
	if !slices.Equal(got["free"], []string{"n1"}) || len(got["vip"]) != 0 {
		t.Errorf("asymmetric: free %v vip %v, want [n1] []", got["free"], got["vip"])
	}
}
