package importer

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"palisade/fence/topology"
)

var clearPassword = regexp.MustCompile(`(?i)\bpass(wd|word)\s*:`)

// TestImportPacemakerCTS imports every CIB of Pacemaker's own scheduler
// regression suite (read in place from ../shared/pacemaker-cts, not copied
// into the project): each must either be refused as a whole with an error
// or give a resources section that the daemon's decoder accepts, with what
// was left out named in the report. Nothing may panic or be dropped
// without a word.
func TestImportPacemakerCTS(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "pacemaker-cts", "xml")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("no Pacemaker CTS CIBs in %s (they are public test data kept outside the project)", dir)
	}
	var ok, partial, refused int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Import(Input{CIB: &Source{Name: filepath.Base(f), Data: data}}, Options{})
		if err != nil {
			if !strings.Contains(err.Error(), filepath.Base(f)) {
				t.Errorf("%s: error does not name the file: %v", f, err)
			}
			refused++
			continue
		}
		if err := validateResources(f, res.ClusterYAML); err != nil {
			t.Errorf("%s: converted resources do not validate: %v", f, err)
		}
		// Fence device passwords go to files: the (commented) fencing
		// block has no clear-text password and decodes.
		if i := strings.Index(string(res.ClusterYAML), "# fencing:"); i >= 0 {
			var block strings.Builder
			for _, l := range strings.Split(string(res.ClusterYAML)[i:], "\n") {
				block.WriteString(strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ") + "\n")
			}
			if m := clearPassword.FindString(block.String()); m != "" {
				t.Errorf("%s: clear-text password in the fencing block: %q", f, m)
			}
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(block.String()), &n); err != nil {
				t.Errorf("%s: fencing block: %v", f, err)
			} else if _, err := topology.Decode(f, n.Content[0].Content[1]); err != nil {
				t.Errorf("%s: fencing block refused: %v", f, err)
			}
		}
		if clearPassword.MatchString(string(res.ClusterYAML)) && !res.Sensitive {
			t.Errorf("%s: a resource password parameter without the Sensitive flag", f)
		}
		if res.Report.Complete() {
			ok++
		} else {
			partial++
		}
	}
	t.Logf("%d CIBs: %d converted completely, %d with items not converted, %d refused", len(files), ok, partial, refused)
}
