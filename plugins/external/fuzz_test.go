package external

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palisade/fence"
)

// FuzzParseMetadata feeds arbitrary documents to the metadata decoder (an
// installed agent's output is input like any other). It must never panic;
// what it accepts must be usable: a fence_ name, an action parameter,
// actions, parameter names the option parser can carry, select
// parameters with choices, and a plugin whose Normalize accepts the
// parameters' own defaults.
func FuzzParseMetadata(f *testing.F) {
	files, _ := filepath.Glob("testdata/metadata/*.xml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<resource-agent name="fence_x"><parameters><parameter name="action"><content type="select"><option value="off"/></content></parameter></parameters><actions><action name="off"/></actions></resource-agent>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseMetadata(b)
		if err != nil {
			return
		}
		if !strings.HasPrefix(md.Name, "fence_") || len(md.Actions) == 0 {
			t.Fatalf("accepted %q with actions %v", md.Name, md.Actions)
		}
		if _, ok := md.Param(fence.OptAction); !ok {
			t.Fatal("accepted metadata without an action parameter")
		}
		for _, p := range md.Params {
			if p.Name == "" || strings.ContainsAny(p.Name, " =\n-") {
				t.Fatalf("parameter name %q", p.Name)
			}
			if p.Type == fence.TypeSelect && len(p.Choices) == 0 {
				t.Fatalf("select %s without choices", p.Name)
			}
		}
		p := pluginFor("/nonexistent/"+md.Name, md)
		_, _ = fence.Normalize(p, p.Name, map[string]string{})
	})
}
