package hwtests

// Parameter digests against Pacemaker: every scheduler corpus case whose
// status records what a resource runs with (digests) is written as a CIB
// with Pacemaker's op-digest / op-restart-digest / op-force-restart, and
// crm_simulate's transition summary must name the same reloads and
// restarts as ours. The digests are Pacemaker's own, so an unchanged
// resource must not restart there either.

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"palisade/resources/cib/cibtest"
	"palisade/resources/scheduler/scenario"
)

func TestSchedulerDigestsMatchCrmSimulate(t *testing.T) {
	crm, err := exec.LookPath("crm_simulate")
	if err != nil {
		t.Skip("crm_simulate not installed (Debian package pacemaker-cli-utils)")
	}
	compared := 0
	for _, c := range scenario.LoadAll(t, schedCorpus) {
		digests := false
		for _, r := range c.Doc.Status.Resources {
			digests = digests || r.Digest != ""
		}
		if !digests || c.CrmSkip != "" {
			continue
		}
		compared++
		name := filepath.Base(c.Path)
		theirs, err := crmSummary(t, crm, c)
		if err != nil {
			t.Errorf("%s: crm_simulate: %v", name, err)
			continue
		}
		out, _ := c.Run()
		var ours []string
		for _, l := range out.Summary {
			ours = append(ours, normalizeSummary(l))
		}
		slices.Sort(ours)
		if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
			t.Errorf("%s: transition summary differs\n  palisade:     %q\n  crm_simulate: %q", name, ours, theirs)
		} else {
			t.Logf("%s: %q", name, ours)
		}
	}
	if compared == 0 {
		t.Fatal("no corpus case records parameter digests")
	}
	t.Logf("%d cases with parameter digests: same reloads and restarts as crm_simulate", compared)
}

// crmSummary runs crm_simulate -S on the case and returns its transition
// summary lines, normalized and sorted.
func crmSummary(t *testing.T, crm string, c *scenario.Case) ([]string, error) {
	in := filepath.Join(t.TempDir(), "in.xml")
	var buf bytes.Buffer
	if err := cibtest.Write(&buf, &c.Doc, c.Now); err != nil {
		return nil, err
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stdout, err := exec.CommandContext(ctx, crm, "-x", in, "-S", "-t", c.Now.Format("2006-01-02 15:04:05Z")).Output()
	if err != nil {
		return nil, err
	}
	var out []string
	in2 := false
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "Transition Summary:":
			in2 = true
		case in2 && strings.HasPrefix(line, "* "):
			out = append(out, normalizeSummary(strings.TrimPrefix(line, "* ")))
		case in2 && line != "":
			in2 = false
		}
	}
	slices.Sort(out)
	return out, nil
}

// normalizeSummary collapses crm_simulate's column padding and drops the
// reasons Palisade does not print ("due to required vip start"), keeping
// "due to resource definition change".
func normalizeSummary(l string) string {
	l = strings.Join(strings.Fields(l), " ")
	if i := strings.Index(l, " due to "); i >= 0 && !strings.Contains(l[i:], "resource definition change") {
		l = l[:i]
	}
	return l
}
