package agentcli

import (
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"palisade/fence"
	"palisade/plugins/ipmi"
)

// TestParseData runs testdata/parse/*.txt (datadriven; -rewrite
// regenerates). A directive is "argv" (its input is the command line, split
// on spaces) or "stdin" (its input is the stdin text), with agent=NAME for
// another agent than fence_ipmilan. The output is the options (keys given
// in the input plus keys whose value differs from fence_ipmilan's
// defaults, sorted) or "error: " and the error.
func TestParseData(t *testing.T) {
	datadriven.Walk(t, "testdata/parse", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			name := "fence_ipmilan"
			d.MaybeScanArgs(t, "agent", &name)
			var args []string
			var stdin string
			switch d.Cmd {
			case "argv":
				args = strings.Fields(d.Input)
			case "stdin":
				stdin = d.Input + "\n"
			default:
				d.Fatalf(t, "unknown directive %q (want argv or stdin)", d.Cmd)
			}
			got, err := parseAndNormalize(name, args, stdin)
			if err != nil {
				return "error: " + err.Error()
			}
			return got
		})
	})
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
