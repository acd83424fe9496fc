package scheduler_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palisade/resources/scheduler"
	"palisade/resources/scheduler/scenario"
)

var update = flag.Bool("update", false, "rewrite the expected sections of resources/testdata cases")

func corpus(t *testing.T) []*scenario.Case {
	t.Helper()
	files, err := filepath.Glob("../testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scheduler cases in resources/testdata")
	}
	var out []*scenario.Case
	for _, f := range files {
		c, err := scenario.Load(f)
		if err != nil {
			t.Fatalf("loading case: %v", err)
		}
		out = append(out, c)
	}
	return out
}

// TestCorpus runs every case and compares scores, placement and the
// transition with the expected sections.
func TestCorpus(t *testing.T) {
	for _, c := range corpus(t) {
		t.Run(filepath.Base(c.Path), func(t *testing.T) {
			_, got := c.Run()
			if *update {
				if err := os.WriteFile(c.Path, c.Render(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, s := range scenario.Sections {
				if got[s] != c.Expected[s] {
					t.Errorf("%s: section %q differs\n--- want\n%s--- got\n%s", c.Path, s, c.Expected[s], got[s])
				}
			}
		})
	}
}

// TestNeverNegative checks the placement rule: a resource is only placed
// on a node whose allocation score is not negative, unless it was already
// active there and is left alone (unmanaged, blocked, frozen).
func TestNeverNegative(t *testing.T) {
	for _, c := range corpus(t) {
		out, _ := c.Run()
		score := map[string]int{}
		for _, l := range out.Scores {
			if l.Kind == "allocation" {
				score[l.Rsc+"@"+l.Node] = int(l.Score)
			}
		}
		active := map[string]bool{}
		for _, r := range c.Doc.Status.Resources {
			active[r.Rsc+"@"+r.Node] = true
		}
		for _, p := range out.Placement {
			if p.Node == "" {
				continue
			}
			base := p.Rsc
			if i := strings.LastIndexByte(base, ':'); i >= 0 {
				base = base[:i]
			}
			k := p.Rsc + "@" + p.Node
			if sc, ok := score[k]; ok && sc < 0 && !active[k] && !active[base+"@"+p.Node] {
				t.Errorf("%s: %s placed on %s with score %d", c.Path, p.Rsc, p.Node, sc)
			}
		}
	}
}

// TestDeterministic schedules every case twice and compares the JSON.
func TestDeterministic(t *testing.T) {
	for _, c := range corpus(t) {
		a, ga := c.Run()
		b, gb := c.Run()
		for _, s := range scenario.Sections {
			if ga[s] != gb[s] {
				t.Errorf("%s: %s differs between runs", c.Path, s)
			}
		}
		if !bytes.Equal([]byte(scheduler.FormatDot(a)), []byte(scheduler.FormatDot(b))) {
			t.Errorf("%s: dot output differs between runs", c.Path)
		}
	}
}
