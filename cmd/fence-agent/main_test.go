package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palisade/fence"
	"palisade/fence/agentcli"
)

// referenceless are personalities that have no fence-agents counterpart
// (fence-agents 4.12.1 ships no fence_manual or fence_meatware).
var referenceless = map[string]bool{"fence_manual": true, "fence_meatware": true}

// TestMetadataListsReferenceParams: for every personality, under both of
// its names, our metadata lists every parameter the reference agent's
// metadata lists (testdata/reference-params, taken from fence-agents
// 4.12.1; hw-tests' TestFenceMetadataReference compares against the
// installed agents), so pcs and crmsh accept the same stonith
// configurations for ours as for the reference.
func TestMetadataListsReferenceParams(t *testing.T) {
	for _, name := range fence.Names() {
		if referenceless[name] {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", "reference-params", name+".txt"))
		if err != nil {
			t.Errorf("%s: no reference parameter list (add one from `%s -o metadata`, or list it in referenceless): %v", name, name, err)
			continue
		}
		var want []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				want = append(want, l)
			}
		}
		if len(want) == 0 {
			t.Errorf("%s: empty reference parameter list", name)
		}
		p, err := fence.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, as := range []string{name, fence.PalisadeName(name)} {
			var md bytes.Buffer
			if err := agentcli.WriteMetadata(&md, p, as); err != nil {
				t.Fatal(err)
			}
			for _, w := range want {
				if !strings.Contains(md.String(), `<parameter name="`+w+`"`) {
					t.Errorf("%s: metadata lacks the reference parameter %q", as, w)
				}
			}
		}
	}
}
