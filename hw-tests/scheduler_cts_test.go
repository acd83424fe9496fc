package hwtests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/resources/cib"
	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// ctsDifferences lists the Pacemaker regression cases whose placement
// differs from crm_simulate's on purpose, one "NAME  reason" a line.
const ctsDifferences = "testdata/pacemaker-cts-differences.txt"

// TestSchedulerPacemakerCTS runs every case of Pacemaker's own scheduler
// regression suite (../shared/pacemaker-cts, kept outside the repository)
// through the CIB reader and the scheduler and compares the placement
// after the transition with the one crm_simulate computes on the same file
// now. A case that differs must be listed in ctsDifferences with a reason;
// a listed case that agrees must be removed from the list. Allocation
// score agreement is measured and logged.
func TestSchedulerPacemakerCTS(t *testing.T) {
	dir := findCTS()
	if dir == "" {
		t.Skip("Pacemaker's scheduler cases not found: no shared/pacemaker-cts beside the repository (or above it)")
	}
	crm, err := exec.LookPath("crm_simulate")
	if err != nil {
		t.Skip("crm_simulate not installed (Debian package pacemaker-cli-utils)")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "xml", "*.xml"))
	if len(files) == 0 {
		t.Fatalf("%s/xml holds no cases", dir)
	}
	known, err := loadCTSDifferences(ctsDifferences)
	if err != nil {
		t.Fatal(err)
	}
	basic := map[string]bool{}
	if data, err := os.ReadFile(filepath.Join(dir, "basic.txt")); err == nil {
		for _, l := range strings.Fields(string(data)) {
			basic[strings.TrimSuffix(l, ".xml")] = true
		}
	}
	now := time.Now().UTC()
	oracle := ctsRunOracle(t, crm, files)

	var ourTime time.Duration
	var agree, agreeBasic, nBasic, scoreAgree, scoreTotal int
	seen := map[string]bool{}
	for i, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		seen[name] = true
		if basic[name] {
			nBasic++
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		doc, rep, err := cib.ReadBytesWith(data, cib.Options{Scheduling: true})
		if err != nil {
			t.Errorf("%s: the CIB reader failed: %v", name, err)
			continue
		}
		// A difference listed as unsupported must be one that palisade
		// simulate names (the reader's report).
		if reason, ok := known[name]; ok && strings.HasPrefix(reason, "unsupported: ") {
			named := false
			for _, u := range rep.Unsupported {
				head, _, _ := strings.Cut(u, " (")
				named = named || strings.HasPrefix(strings.TrimPrefix(reason, "unsupported: "), head)
			}
			if !named {
				t.Errorf("%s: listed as %q, but the CIB reader names nothing of it: %v", name, reason, rep.Unsupported)
			}
		}
		at := now
		if !doc.Now.IsZero() {
			at = doc.Now
		}
		out := scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status, Now: at, Scores: true})
		ourTime += time.Since(start)
		o := oracle[i]
		if o.err != nil {
			t.Errorf("%s: crm_simulate: %v", name, o.err)
			continue
		}
		ours := ctsOurPlacement(out, o.unique)
		same := ours == o.placement
		reason, listed := known[name]
		switch {
		case same && listed:
			t.Errorf("%s: agrees with crm_simulate but is listed in %s (%s): remove it", name, ctsDifferences, reason)
		case !same && !listed:
			t.Errorf("%s: placement differs from crm_simulate\n  palisade:     %s\n  crm_simulate: %s", name, ours, o.placement)
		case !same && testing.Verbose():
			t.Logf("%s: differs as listed (%s)\n  palisade:     %s\n  crm_simulate: %s", name, reason, ours, o.placement)
		}
		if same {
			agree++
			if basic[name] {
				agreeBasic++
			}
		}
		for _, l := range out.Scores {
			if l.Kind != "allocation" {
				continue
			}
			if v, ok := o.scores[l.Rsc+" on "+l.Node]; ok {
				scoreTotal++
				if v == l.Score.String() {
					scoreAgree++
				}
			}
		}
	}
	for name := range known {
		if !seen[name] {
			t.Errorf("%s lists %s, which is not a case in %s/xml", ctsDifferences, name, dir)
		}
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	t.Logf("placement equal to crm_simulate's: %d/%d primitives-and-groups cases (%.1f %%), %d/%d all cases (%.1f %%); allocation scores %d/%d (%.1f %%); palisade read+schedule of all cases: %v",
		agreeBasic, nBasic, pct(agreeBasic, nBasic), agree, len(files), pct(agree, len(files)), scoreAgree, scoreTotal, pct(scoreAgree, scoreTotal), ourTime.Round(time.Millisecond))
}

// findCTS looks for shared/pacemaker-cts beside the repository, walking up
// from the package directory (worktrees sit deeper than the main checkout).
func findCTS() string {
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(d, "shared", "pacemaker-cts")
		if st, err := os.Stat(filepath.Join(p, "xml")); err == nil && st.IsDir() {
			return p
		}
		up := filepath.Dir(d)
		if up == d {
			return ""
		}
		d = up
	}
}

func loadCTSDifferences(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: case %s has no reason", path, ln, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s:%d: case %s listed twice", path, ln, name)
		}
		out[name] = reason
	}
	return out, nil
}

type ctsOracle struct {
	placement string
	// unique holds the ids of globally-unique clone instances ("rsc:N"),
	// whose instance numbers count; anonymous ones lose them.
	unique map[string]bool
	scores map[string]string
	err    error
}

// ctsRunOracle runs crm_simulate on every file, a bounded number at a time.
func ctsRunOracle(t *testing.T, crm string, files []string) []ctsOracle {
	t.Helper()
	out := make([]ctsOracle, len(files))
	workers := runtime.NumCPU()
	if workers < 2 {
		workers = 2
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = ctsSimulate(crm, files[i])
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// crmNode is the generic tree of crm_simulate's XML output.
type crmNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []crmNode  `xml:",any"`
}

func (n *crmNode) attr(k string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == k {
			return a.Value
		}
	}
	return ""
}

func ctsSimulate(crm, file string) ctsOracle {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, crm, "-x", file, "-S", "-s", "--output-as=xml")
	stdout, err := cmd.Output()
	if err != nil && len(stdout) == 0 {
		return ctsOracle{err: err}
	}
	var root crmNode
	if err := xml.Unmarshal(stdout, &root); err != nil {
		return ctsOracle{err: fmt.Errorf("reading its XML output: %w", err)}
	}
	o := ctsOracle{unique: map[string]bool{}, scores: map[string]string{}}
	place := map[string]int{}
	var walk func(n *crmNode, unique bool)
	walk = func(n *crmNode, unique bool) {
		switch n.XMLName.Local {
		case "clone":
			unique = n.attr("unique") == "true"
		case "resource":
			id := n.attr("id")
			if unique {
				o.unique[id] = true
			}
			role := model.NormalizeRole(n.attr("role"))
			for _, k := range n.Kids {
				if k.XMLName.Local == "node" {
					place[ctsKey(id, k.attr("name"), role)]++
				}
			}
			return
		}
		for i := range n.Kids {
			walk(&n.Kids[i], unique)
		}
	}
	for i := range root.Kids {
		k := &root.Kids[i]
		switch k.XMLName.Local {
		case "revised_cluster_status":
			walk(k, false)
		case "allocations":
			for _, w := range k.Kids {
				if w.XMLName.Local == "node_weight" {
					o.scores[w.attr("id")+" on "+w.attr("node")] = w.attr("score")
				}
			}
		}
	}
	if err != nil && len(place) == 0 {
		return ctsOracle{err: err}
	}
	o.placement = schedKeys(place)
	return o
}

func ctsKey(id, node, role string) string {
	if role != model.RolePromoted {
		role = model.RoleStarted
	}
	return id + "@" + node + "/" + role
}

// ctsOurPlacement normalizes our placement like crm_simulate's output:
// anonymous clone instances lose their number.
func ctsOurPlacement(out scheduler.Output, unique map[string]bool) string {
	m := map[string]int{}
	for _, p := range out.Placement {
		if p.Node == "" {
			continue
		}
		id := p.Rsc
		if i := strings.LastIndexByte(id, ':'); i >= 0 && !unique[id] {
			id = id[:i]
		}
		m[ctsKey(id, p.Node, p.Role)]++
	}
	return schedKeys(m)
}
