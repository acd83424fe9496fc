package reliable

import (
	"path/filepath"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs testdata/*.txt with github.com/cockroachdb/datadriven:
// each block is a command (see sim.run in harness_test.go), a "----" line
// and the expected output ("ok" when the command printed nothing), blocks
// separated by blank lines; lines starting with # are comments.
// `go test -run Scenarios -rewrite` updates the expected output (review the
// diff!).
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Ext(path) == ".txt" { // not a fuzz corpus under testdata/fuzz
			datadriven.RunTest(t, path, newSim(t).directive)
		}
	})
}

// directive runs one datadriven directive: the command line as sim.run
// takes it.
func (s *sim) directive(_ *testing.T, d *datadriven.TestData) string {
	return s.run(d.FullCmd())
}
