package agent

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestClassify runs testdata/classify.txt (datadriven; -rewrite
// regenerates): each input row of a classify directive is STATUS RC
// EXPECTED, printed back with the class.
func TestClassify(t *testing.T) {
	statuses := map[string]Status{"done": StatusDone, "timeout": StatusTimeout, "error": StatusError, "cancelled": StatusCancelled}
	datadriven.RunTest(t, "testdata/classify.txt", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "classify" {
			d.Fatalf(t, "unknown directive %q (want classify)", d.Cmd)
		}
		var out []string
		for _, row := range strings.Split(d.Input, "\n") {
			fs := strings.Fields(row)
			if len(fs) != 3 {
				d.Fatalf(t, "row %q: want STATUS RC EXPECTED", row)
			}
			st, ok := statuses[fs[0]]
			rc, err := strconv.Atoi(fs[1])
			if !ok || err != nil {
				d.Fatalf(t, "row %q: want STATUS RC EXPECTED (STATUS done|timeout|error|cancelled, EXPECTED an rc or probe)", row)
			}
			res := Result{Status: st, RC: RC(rc)}
			var got Class
			if fs[2] == "probe" {
				got = ClassifyProbe(res)
			} else {
				exp, err := strconv.Atoi(fs[2])
				if err != nil {
					d.Fatalf(t, "row %q: expected rc %q is not a number or probe", row, fs[2])
				}
				got = Classify(res, RC(exp))
			}
			out = append(out, strings.Join(fs, " ")+" -> "+got.String())
		}
		return strings.Join(out, "\n")
	})
}
