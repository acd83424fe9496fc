package main

import (
	"strings"
	"testing"

	"palisade/cluster/api"
	"palisade/resources/model"
)

func TestPrintDCStatus(t *testing.T) {
	snap := &api.DCStatus{
		Self: "n1", View: 7, DC: "n1", Quorate: true, Members: []string{"n1", "n2"}, Standby: []string{"n2"},
		CIB: api.Version{AdminEpoch: 0, Epoch: 3, NumUpdates: 9},
		Status: model.Status{
			Resources: []model.ResourceStatus{{Rsc: "vip", Node: "n1"}, {Rsc: "db", Node: "n1", Failed: true}},
			Failures:  []model.Failure{{Rsc: "db", Node: "n1", Op: "monitor", Count: 2}},
		},
		Fencing: []api.FenceNode{
			{Node: "n1", State: "member", Member: true},
			{Node: "n3", State: "fencing", Reason: "node lost", Attempts: 2, Failures: 1},
		},
	}
	var b strings.Builder
	printDCStatus(&b, snap)
	out := b.String()
	for _, want := range []string{
		"partition: quorate, DC n1, members n1 n2; configuration 0.3.9",
		"db        n1    Started  FAILED",
		"vip       n1    Started",
		"fail count: db on n1: monitor 2",
		"standby: n2 (palisade node online NODE)",
		"(clear with: palisade resource cleanup RESOURCE",
		"n3       fencing  2         1         node lost",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "n1       member") {
		t.Errorf("a clean member is listed under FENCING:\n%s", out)
	}
}
