package scheduler_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"palisade/resources/model"
	"palisade/resources/scheduler"
	"palisade/resources/scheduler/scenario"
)

// corpusDir holds the scheduler's cases (format: package scenario).
const corpusDir = "testdata"

// TestCorpus runs every case and compares scores, placement and the
// transition with the file; -rewrite rewrites them after an intended
// change (review the diff).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scheduler cases in %s: %v", corpusDir, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			datadriven.RunTestAny(t, f, scenario.New(f).Directive)
		})
	}
}

// TestNeverNegative checks the placement rule: a resource is only placed
// on a node whose allocation score is not negative, unless it was already
// active there and is left alone (unmanaged, blocked, frozen).
func TestNeverNegative(t *testing.T) {
	for _, c := range scenario.LoadAll(t, corpusDir) {
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
	for _, c := range scenario.LoadAll(t, corpusDir) {
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

// TestFencingRule checks the one rule on every case: a resource that was
// active on an unclean node is started or promoted elsewhere only after
// that node's fence action, and not at all when the node is not fenced.
func TestFencingRule(t *testing.T) {
	for _, c := range scenario.LoadAll(t, corpusDir) {
		out, _ := c.Run()
		unclean := map[string]bool{}
		for _, n := range c.Doc.Status.Nodes {
			if n.State == "unclean" {
				unclean[n.Name] = true
			}
		}
		fenced := map[string]int{}
		for _, a := range out.Actions {
			if a.Op == "fence" {
				fenced[a.Node] = a.ID
			}
		}
		byID := map[int]scheduler.Action{}
		for _, a := range out.Actions {
			byID[a.ID] = a
		}
		var reaches func(id, target int, seen map[int]bool) bool
		reaches = func(id, target int, seen map[int]bool) bool {
			if id == target {
				return true
			}
			if seen[id] {
				return false
			}
			seen[id] = true
			for _, d := range byID[id].After {
				if reaches(d, target, seen) {
					return true
				}
			}
			return false
		}
		for _, r := range c.Doc.Status.Resources {
			if !unclean[r.Node] {
				continue
			}
			for _, a := range out.Actions {
				if a.Op != "start" && a.Op != "promote" {
					continue
				}
				base := a.Rsc
				if i := strings.LastIndexByte(base, ':'); i >= 0 {
					base = base[:i]
				}
				if base != r.Rsc {
					continue
				}
				f, ok := fenced[r.Node]
				if !ok {
					t.Errorf("%s: %s on %s while %s (where it was active) is unclean and not fenced", c.Path, a.Key, a.Node, r.Node)
					continue
				}
				if !reaches(a.ID, f, map[int]bool{}) {
					t.Errorf("%s: %s on %s does not wait for the fence of %s", c.Path, a.Key, a.Node, r.Node)
				}
			}
		}
	}
}

// TestActionDetails checks what the executor needs from an action: the
// configured timeout and monitor interval, and the primitive behind a
// clone instance.
func TestActionDetails(t *testing.T) {
	d, err := model.DecodeYAML([]byte(`
config:
  options: {stonith-enabled: false}
  resources:
    - id: c
      kind: clone
      members:
        - id: d
          type: Dummy
          ops: [{name: start, timeout: 20s}, {name: monitor, interval: 10s, timeout: 30s}]
status:
  nodes: [{name: n1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	out := scheduler.Schedule(scheduler.Input{Config: &d.Config, Status: &d.Status})
	var start, mon *scheduler.Action
	for i, a := range out.Actions {
		switch a.Key {
		case "d:0_start_0":
			start = &out.Actions[i]
		case "d:0_monitor_10000":
			mon = &out.Actions[i]
		}
	}
	if start == nil || start.Timeout != 20000 {
		t.Errorf("start action: %+v", start)
	}
	if mon == nil || mon.Interval != 10000 || mon.Timeout != 30000 || len(mon.After) == 0 || mon.After[len(mon.After)-1] != start.ID {
		t.Errorf("monitor action: %+v", mon)
	}
	if p := d.Config.Primitive(start.Rsc); p == nil || p.Type != "Dummy" {
		t.Errorf("Primitive(%q) = %+v", start.Rsc, p)
	}
}
