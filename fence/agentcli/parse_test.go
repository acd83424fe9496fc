package agentcli

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"palisade/fence"
	"palisade/plugins/ipmi"
)

// TestParseData runs testdata/parse/*.txtar: each file gives the agent name
// (default fence_ipmilan), the command line ("args", split on spaces) or the
// stdin text, and either the expected options ("want": keys given in the
// input plus keys whose value differs from fence_ipmilan's defaults, sorted)
// or a substring of the expected error ("error").
func TestParseData(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test data: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sec := map[string]string{}
			for _, f := range ar.Files {
				sec[f.Name] = string(f.Data)
			}
			name := strings.TrimSpace(sec["name"])
			if name == "" {
				name = "fence_ipmilan"
			}
			var args []string
			if a, ok := sec["args"]; ok {
				args = strings.Fields(a)
			}
			got, err := parseAndNormalize(name, args, sec["stdin"])
			if want, ok := sec["error"]; ok {
				want = strings.TrimSpace(want)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error = %v, want one containing %q (options %v)", err, want, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if want := strings.TrimSpace(sec["want"]); got != want {
				t.Errorf("options:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// parseAndNormalize is the front half of Main, rendered for comparison.
func parseAndNormalize(name string, args []string, stdin string) (string, error) {
	p, err := fence.Lookup(name)
	if err != nil {
		return "", err
	}
	inv, err := Parse(args, strings.NewReader(stdin), p.Index(name), p.HasPlugs)
	if err != nil {
		return "", err
	}
	opts, err := fence.Normalize(p, name, inv.Raw)
	if err != nil {
		return "", err
	}
	base := map[string]string{}
	for _, prm := range ipmi.Plugin.AllParams("") {
		base[prm.Name] = prm.Default
	}
	var lines []string
	for k, v := range opts {
		if _, given := inv.Raw[k]; given || base[k] != v {
			lines = append(lines, k+"="+v)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), nil
}
