package hwtests

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/resources/cib"
	"palisade/resources/model"
	"palisade/resources/scheduler/scenario"
)

// TestSchedulerMatchesCrmSimulate runs Pacemaker's crm_simulate on every
// scheduler corpus case (converted to CIB XML) and compares the placement
// after the simulated transition with ours. Allocation score differences
// are logged, placement differences fail.
func TestSchedulerMatchesCrmSimulate(t *testing.T) {
	crm, err := exec.LookPath("crm_simulate")
	if err != nil {
		t.Skip("crm_simulate not installed (Debian package pacemaker-cli-utils)")
	}
	files, _ := filepath.Glob("../resources/testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no scheduler corpus in resources/testdata")
	}
	var agree, compared, skipped, scoreAgree, scoreTotal int
	for _, f := range files {
		c, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if c.CrmSkip != "" {
			skipped++
			t.Logf("%s: not compared: %s", name, c.CrmSkip)
			continue
		}
		compared++
		crmPlace, crmScores, err := schedRunCrm(t, crm, c)
		if err != nil {
			t.Errorf("%s: crm_simulate: %v", name, err)
			continue
		}
		out, _ := c.Run()
		ours := map[string]int{}
		for _, p := range out.Placement {
			if p.Node != "" {
				ours[schedPlaceKey(c, p.Rsc, p.Node, p.Role)]++
			}
		}
		if a, b := schedKeys(ours), schedKeys(crmPlace); a != b {
			t.Errorf("%s: placement differs\n  palisade:     %s\n  crm_simulate: %s", name, a, b)
		} else {
			agree++
		}
		for _, l := range out.Scores {
			if l.Kind != "allocation" {
				continue
			}
			if v, ok := crmScores[l.Rsc+" on "+l.Node]; ok {
				scoreTotal++
				if v == l.Score.String() {
					scoreAgree++
				} else if testing.Verbose() {
					t.Logf("%s: score %s on %s: palisade %s, crm_simulate %s", name, l.Rsc, l.Node, l.Score, v)
				}
			}
		}
	}
	t.Logf("crm_simulate agreement: placement %d/%d cases (%d not comparable), allocation scores %d/%d", agree, compared, skipped, scoreAgree, scoreTotal)
}

// schedPlaceKey normalizes a placement for comparison: anonymous clone
// instances lose their number, Started and Unpromoted are the same role.
func schedPlaceKey(c *scenario.Case, rsc, node, role string) string {
	base := rsc
	if i := strings.LastIndexByte(rsc, ':'); i >= 0 && !schedUnique(c, rsc[:i]) {
		base = rsc[:i]
	}
	if role != model.RolePromoted {
		role = model.RoleStarted
	}
	return base + "@" + node + "/" + role
}

func schedUnique(c *scenario.Case, prim string) bool {
	for _, r := range c.Doc.Config.Resources {
		if r.KindOf() != model.KindClone {
			continue
		}
		v, ok := model.ParseBool(r.Meta["globally-unique"])
		if !ok || !v {
			continue
		}
		for _, m := range r.Members {
			if m.ID == prim {
				return true
			}
			for _, mm := range m.Members {
				if mm.ID == prim {
					return true
				}
			}
		}
	}
	return false
}

func schedKeys(m map[string]int) string {
	var ks []string
	for k, n := range m {
		if n > 1 {
			k += "*" + strconv.Itoa(n)
		}
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// schedRunCrm writes the case as a CIB, runs crm_simulate -S -s and reads
// back the resulting status.
func schedRunCrm(t *testing.T, crm string, c *scenario.Case) (map[string]int, map[string]string, error) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.xml")
	out := filepath.Join(dir, "out.xml")
	var buf bytes.Buffer
	if err := cib.Write(&buf, &c.Doc, c.Now); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, crm, "-x", in, "-S", "-s", "-O", out, "-t", c.Now.Format("2006-01-02 15:04:05Z"))
	stdout, err := cmd.Output()
	if err != nil {
		return nil, nil, err
	}
	scores := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		i := strings.Index(line, " allocation score on ")
		if i < 0 {
			continue
		}
		rsc := line[:i]
		if j := strings.LastIndex(rsc, ": "); j >= 0 {
			rsc = rsc[j+2:]
		}
		rest := line[i+len(" allocation score on "):]
		k := strings.LastIndex(rest, ": ")
		if k < 0 {
			continue
		}
		scores[rsc+" on "+rest[:k]] = rest[k+2:]
	}
	fh, err := os.Open(out)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	doc, _, err := cib.Read(fh)
	if err != nil {
		return nil, nil, err
	}
	place := map[string]int{}
	for _, r := range doc.Status.Resources {
		if r.Rsc == cib.FenceDeviceID {
			continue
		}
		role := model.NormalizeRole(r.Role)
		if role == "" {
			role = model.RoleStarted
		}
		place[schedPlaceKey(c, r.Rsc, r.Node, role)]++
	}
	return place, scores, nil
}
