package reliable

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt expected output")

// TestScenarios runs testdata/*.txt. Each block is a command, a "----"
// line and the expected output, blocks separated by blank lines; lines
// starting with # are comments. `go test -run Scenarios -rewrite` updates
// the expected output (review the diff!).
func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata/")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := newSim(t)
			var out strings.Builder
			lines := strings.Split(string(data), "\n")
			for i := 0; i < len(lines); i++ {
				line := lines[i]
				if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
					out.WriteString(line + "\n")
					continue
				}
				cmd := line
				if i+1 >= len(lines) || lines[i+1] != "----" {
					t.Fatalf("%s:%d: command %q not followed by ----", file, i+1, cmd)
				}
				i += 2
				var want strings.Builder
				for ; i < len(lines) && lines[i] != ""; i++ {
					want.WriteString(lines[i] + "\n")
				}
				i-- // the blank line is copied by the loop
				got := s.run(cmd)
				if got != want.String() && !*rewrite {
					t.Errorf("%s: %s\ngot:\n%swant:\n%s", file, cmd, got, want.String())
				}
				out.WriteString(cmd + "\n----\n" + got)
			}
			if *rewrite {
				if err := os.WriteFile(file, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
