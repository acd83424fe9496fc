package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/resources/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPrintStatus renders each testdata/status/NAME.json (an api.Status as
// palisaded answers it) and compares with NAME.txt.
func TestPrintStatus(t *testing.T) {
	time.Local = time.UTC // last-failure times print in local time
	files, _ := filepath.Glob(filepath.Join("testdata", "status", "*.json"))
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var st api.Status
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			printStatus(&b, st)
			golden := strings.TrimSuffix(f, ".json") + ".txt"
			if *update {
				os.WriteFile(golden, []byte(b.String()), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

// An older daemon answers without the crm_mon fields: the flat resource
// list and the gate's records still show, and the health is the client's.
func TestPrintStatusOlderDaemon(t *testing.T) {
	st := api.Status{Cluster: "prod", Node: api.NodeRef{ID: 1, Name: "n1"}, View: api.ViewStatus{ID: 3, Agreed: true},
		Nodes: []api.NodeStatus{{NodeRef: api.NodeRef{ID: 1, Name: "n1"}, Self: true, State: "up"}},
		DC: &api.DCStatus{DC: "n1", Quorate: true, Members: []string{"n1"},
			Fencing: []api.FenceNode{{Node: "n2", State: "fencing", Reason: "node lost", Attempts: 1}}}}
	st.DC.Status.Resources = []model.ResourceStatus{{Rsc: "vip", Node: "n1", Failed: true}}
	var b strings.Builder
	printStatus(&b, st)
	for _, want := range []string{"vip", "FAILED", "n2       fencing", "health: DEGRADED", "problem: node n2 is UNCLEAN", "problem: resource vip FAILED on n1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
}
