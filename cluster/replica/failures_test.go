package replica

import (
	"testing"
	"time"

	"palisade/resources/model"
)

func TestFailureTimeoutLookup(t *testing.T) {
	cfg := &model.Config{RscDefaults: map[string]string{"failure-timeout": "60s"}, Resources: []*model.Resource{
		{ID: "g", Kind: model.KindGroup, Meta: map[string]string{"failure-timeout": "2m"}, Members: []*model.Resource{
			{ID: "a"}, {ID: "b", Meta: map[string]string{"failure-timeout": "5"}}}},
		{ID: "c"}, {ID: "d", Meta: map[string]string{"failure-timeout": "soon"}}}}
	for rsc, want := range map[string]time.Duration{"a": 2 * time.Minute, "b": 5 * time.Second, "c": time.Minute, "d": 0, "zz": time.Minute} {
		if got := FailureTimeout(cfg, rsc); got != want {
			t.Errorf("failureTimeout(%s) = %v, want %v", rsc, got, want)
		}
	}
	if got := PrimitivesOf(cfg, "g"); len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
		t.Errorf("primitivesOf(g) = %v", got)
	}
}
