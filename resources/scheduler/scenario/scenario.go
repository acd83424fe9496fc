// Package scenario reads and writes the scheduler's data-driven test cases
// (resources/testdata/*.txt): a comment header, the input document and the
// expected outputs side by side, separated by "-- name --" lines:
//
//	# two-node failover with stickiness
//	# crm: skip <reason>      (optional: leave out of the crm_simulate comparison)
//	# crm: no-fixpoint <why>  (optional: compare, but do not re-run on crm_simulate's result)
//	-- input --
//	now: 2026-01-01T12:00:00Z  # optional, for failure-timeout
//	config: {...}
//	status: {...}
//	-- scores --
//	-- placement --
//	-- transition --
//
// Run computes the three output sections for a case; the corpus test
// compares them with the file and rewrites them with -update.
package scenario

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// Sections in file order.
var Sections = []string{"scores", "placement", "transition"}

// Case is one parsed scenario file.
type Case struct {
	Path     string
	Header   []string
	Input    string
	Doc      model.Document
	Now      time.Time
	Expected map[string]string
	CrmSkip  string
	// CrmNoFixpoint: the placement is compared with crm_simulate's, but
	// the case is no fixpoint in Pacemaker either (scheduling its result
	// again changes it), so that check is left out; the reason.
	CrmNoFixpoint string
}

type input struct {
	Now    time.Time      `yaml:"now"`
	Config model.Config   `yaml:"config"`
	Status model.Status   `yaml:"status"`
	Inject map[string]any `yaml:"inject,omitempty"`
}

// DefaultNow is the evaluation time of cases that do not set one.
var DefaultNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Load reads and parses a case file.
func Load(path string) (*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse splits a case file into its header, input and sections.
func Parse(path string, data []byte) (*Case, error) {
	c := &Case{Path: path, Expected: map[string]string{}}
	cur := ""
	var buf strings.Builder
	flush := func() {
		if cur == "input" {
			c.Input = buf.String()
		} else if cur != "" {
			c.Expected[cur] = buf.String()
		}
		buf.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		t := strings.TrimRight(line, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			cur = strings.TrimSpace(t[3 : len(t)-3])
			continue
		}
		if cur == "" {
			if strings.HasPrefix(t, "#") {
				h := strings.TrimSpace(strings.TrimPrefix(t, "#"))
				c.Header = append(c.Header, h)
				if strings.HasPrefix(h, "crm: no-fixpoint") {
					c.CrmNoFixpoint = strings.TrimSpace(strings.TrimPrefix(h, "crm: no-fixpoint"))
					if c.CrmNoFixpoint == "" {
						c.CrmNoFixpoint = "marked in case header"
					}
				}
				if strings.HasPrefix(h, "crm: skip") {
					c.CrmSkip = strings.TrimSpace(strings.TrimPrefix(h, "crm: skip"))
					if c.CrmSkip == "" {
						c.CrmSkip = "marked in case header"
					}
				}
			}
			continue
		}
		buf.WriteString(line)
	}
	flush()
	var in input
	dec := yaml.NewDecoder(strings.NewReader(c.Input))
	dec.KnownFields(true)
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%s: input: %w", path, err)
	}
	if err := in.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%s: input: %w", path, err)
	}
	c.Doc = model.Document{Config: in.Config, Status: in.Status}
	c.Now = in.Now
	if c.Now.IsZero() {
		c.Now = DefaultNow
	}
	return c, nil
}

// Run schedules the case and renders the output sections.
func (c *Case) Run() (scheduler.Output, map[string]string) {
	out := scheduler.Schedule(scheduler.Input{Config: &c.Doc.Config, Status: &c.Doc.Status, Now: c.Now, Scores: true})
	return out, map[string]string{
		"scores":     scheduler.FormatScores(out),
		"placement":  scheduler.FormatPlacement(out),
		"transition": scheduler.FormatTransition(out),
	}
}

// Render writes the case file back with new output sections.
func (c *Case) Render(got map[string]string) []byte {
	var b bytes.Buffer
	for _, h := range c.Header {
		b.WriteString("# " + h + "\n")
	}
	b.WriteString("-- input --\n")
	b.WriteString(c.Input)
	for _, s := range Sections {
		b.WriteString("-- " + s + " --\n")
		b.WriteString(got[s])
	}
	return b.Bytes()
}
