package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palisade/cluster/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/view")

// TestCRMView runs crmView on each testdata/view/NAME.json (the DC layer's
// plain status and what the view joins to it) and compares the crm_mon
// fields and the health with NAME.golden.json.
func TestCRMView(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "view", "*.json"))
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Comment string        `json:"comment"`
				Input   viewInput     `json:"input"`
				DC      *api.DCStatus `json:"dc"`
			}
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			crmView(c.Input, c.DC)
			st := api.Status{View: api.ViewStatus{ID: c.DC.View, Agreed: c.DC.Agreed}, Nodes: c.Input.Nodes, DC: c.DC}
			out, _ := json.MarshalIndent(struct {
				Quorum     *api.QuorumStatus `json:"quorum"`
				NodeStates []api.ClusterNode `json:"node_states"`
				Resources  []api.Resource    `json:"resources"`
				FenceOps   []api.FenceOp     `json:"fence_ops"`
				Health     api.Health        `json:"health"`
			}{c.DC.Quorum, c.DC.NodeStates, c.DC.Resources, c.DC.FenceOps, st.Assess()}, "", "  ")
			golden := strings.TrimSuffix(f, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if strings.TrimSpace(string(want)) != string(out) {
				t.Errorf("%s differs from %s (rerun with -update after checking):\n%s", f, golden, out)
			}
		})
	}
	if n == 0 {
		t.Fatal("no cases in testdata/view")
	}
}
