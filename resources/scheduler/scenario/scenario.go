// Package scenario reads the scheduler's corpus (resources/scheduler/testdata/*.txt),
// one case a file, for the corpus test of package scheduler and for the
// tests that reuse the corpus elsewhere (the DC's flattening check, the
// crm_simulate comparison in hw-tests). It is test support: only tests and
// test programs import it.
//
// # One test format
//
// Every scenario corpus in Palisade is a set of
// github.com/cockroachdb/datadriven files, testdata/*.txt beside the package
// that reads it, and `go test PKG -rewrite` (datadriven's flag, the only
// rewrite flag) regenerates the expected outputs after an intended change.
// datadriven rather than txtar: most corpora are scripts (membership,
// reliable delivery, quorum, the recovery gate, the DC, the arbiter), a
// sequence of commands each followed by its expected output, which
// datadriven parses, compares with a diff naming FILE:LINE, and rewrites in
// place; txtar is a bag of named files, so every test would re-implement
// the comparison and the rewriting. Where a directive needs several files
// as input (the Heartbeat importer), its input is a txtar archive read with
// golang.org/x/tools/txtar.
//
// A scheduler case:
//
//	# what the case shows
//	crm skip                     (optional: leave the case out of the crm_simulate
//	REASON                        comparison; "crm no-fixpoint": compare, but do
//	----                          not re-run on crm_simulate's result)
//
//	schedule
//	now: 2026-01-01T12:00:00Z    (optional, for failure-timeout)
//	config: ...                  (the `resources:` schema of package model)
//	status: ...
//	----
//
//	scores
//	----
//	RSC allocation|promotion score on NODE: SCORE
//
//	placement
//	----
//	RSC NODE ROLE | RSC Stopped  (after the transition)
//
//	transition
//	----
//	Transition Summary: ...      (numbered actions with "after" edges, warnings)
//
// The input of schedule is also a valid `palisade simulate FILE` document.
package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"gopkg.in/yaml.v3"

	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// Sections are the output directives, in file order.
var Sections = []string{"scores", "placement", "transition"}

// Case is one scenario file.
type Case struct {
	Path string
	// Input is the YAML document of the schedule directive.
	Input string
	Doc   model.Document
	Now   time.Time
	// Expected holds each output section as the file has it.
	Expected map[string]string
	// CrmSkip: the case is a deliberate difference from Pacemaker and is
	// not compared with crm_simulate; the reason.
	CrmSkip string
	// CrmNoFixpoint: the placement is compared with crm_simulate's, but
	// the case is no fixpoint in Pacemaker either (scheduling its result
	// again changes it), so that check is left out; the reason.
	CrmNoFixpoint string

	got map[string]string
}

type input struct {
	Now    time.Time      `yaml:"now"`
	Config model.Config   `yaml:"config"`
	Status model.Status   `yaml:"status"`
	Inject map[string]any `yaml:"inject,omitempty"`
}

// DefaultNow is the evaluation time of cases that do not set one.
var DefaultNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// New starts an empty case for the file at path; feed it the file's
// directives with datadriven.RunTestAny(t, path, c.Directive).
func New(path string) *Case {
	return &Case{Path: path, Expected: map[string]string{}}
}

// Directive runs one directive of a case file and returns its output:
// crm and schedule print nothing, the sections print what the scheduler
// computes for the schedule directive above them.
func (c *Case) Directive(t testing.TB, d *datadriven.TestData) string {
	return c.directive(t, d, true)
}

func (c *Case) directive(t testing.TB, d *datadriven.TestData, run bool) string {
	t.Helper()
	switch d.Cmd {
	case "crm":
		reason := strings.Join(strings.Fields(d.Input), " ")
		if len(d.CmdArgs) != 1 || reason == "" {
			t.Fatalf("%s: want \"crm skip\" or \"crm no-fixpoint\" and the reason as input", c.pos(d))
		}
		switch d.CmdArgs[0].Key {
		case "skip":
			c.CrmSkip = reason
		case "no-fixpoint":
			c.CrmNoFixpoint = reason
		default:
			t.Fatalf("%s: crm %s: want skip or no-fixpoint", c.pos(d), d.CmdArgs[0].Key)
		}
		return ""
	case "schedule":
		if c.Input != "" {
			t.Fatalf("%s: a second schedule directive (one case a file)", c.pos(d))
		}
		var in input
		dec := yaml.NewDecoder(strings.NewReader(d.Input))
		dec.KnownFields(true)
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("%s: schedule input: %v", c.pos(d), err)
		}
		if err := in.Config.Validate(); err != nil {
			t.Fatalf("%s: schedule input: %v", c.pos(d), err)
		}
		c.Input = d.Input + "\n"
		c.Doc = model.Document{Config: in.Config, Status: in.Status}
		c.Now = in.Now
		if c.Now.IsZero() {
			c.Now = DefaultNow
		}
		return ""
	case "scores", "placement", "transition":
		if c.Input == "" {
			t.Fatalf("%s: %s before the schedule directive", c.pos(d), d.Cmd)
		}
		c.Expected[d.Cmd] = d.Expected
		if !run {
			return d.Expected
		}
		if c.got == nil {
			_, c.got = c.Run()
		}
		return c.got[d.Cmd]
	}
	t.Fatalf("%s: unknown directive %q (want crm, schedule, %s)", c.pos(d), d.Cmd, strings.Join(Sections, ", "))
	return ""
}

// pos names the directive's line in the case file.
func (c *Case) pos(d *datadriven.TestData) string {
	if _, line, ok := strings.Cut(d.Pos, ":"); ok && !strings.HasPrefix(d.Pos, c.Path+":") {
		return c.Path + ":" + line
	}
	return d.Pos
}

// Load reads a case file without running it, with datadriven's parser.
// The file is only read (never rewritten, even under -rewrite), and a
// file that does not parse fails t.
func Load(t testing.TB, path string) *Case {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := New(path)
	datadriven.RunTestFromStringAny(reader{t}, string(data), func(t testing.TB, d *datadriven.TestData) string {
		return c.directive(t, d, false)
	})
	if c.Input == "" {
		t.Fatalf("%s: no schedule directive", path)
	}
	return c
}

// LoadAll reads every case file (*.txt) of dir, in name order.
func LoadAll(t testing.TB, dir string) []*Case {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scheduler cases in %s", dir)
	}
	out := make([]*Case, 0, len(files))
	for _, f := range files {
		out = append(out, Load(t, f))
	}
	return out
}

// reader adapts the caller's testing.TB for reading a case: datadriven's
// echo of every directive is left out of the log (hw-tests runs -v over
// the whole corpus), and a failure the caller recorded before the read
// does not stop it (datadriven stops a file once t.Failed()).
type reader struct{ testing.TB }

func (reader) Logf(string, ...any) {}
func (reader) Failed() bool        { return false }

// Run schedules the case and renders the output sections.
func (c *Case) Run() (scheduler.Output, map[string]string) {
	out := scheduler.Schedule(scheduler.Input{Config: &c.Doc.Config, Status: &c.Doc.Status, Now: c.Now, Scores: true})
	return out, map[string]string{
		"scores":     scheduler.FormatScores(out),
		"placement":  scheduler.FormatPlacement(out),
		"transition": scheduler.FormatTransition(out),
	}
}

// Name is the case's file name without directory and extension.
func (c *Case) Name() string {
	return strings.TrimSuffix(filepath.Base(c.Path), filepath.Ext(c.Path))
}
