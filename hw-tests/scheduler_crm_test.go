package hwtests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/resources/cib"
	"palisade/resources/cib/cibtest"
	"palisade/resources/model"
	"palisade/resources/scheduler"
	"palisade/resources/scheduler/scenario"
)

// schedCorpus is the scheduler's case corpus, beside package scheduler.
const schedCorpus = "../resources/scheduler/testdata"

// TestSchedulerMatchesCrmSimulate runs Pacemaker's crm_simulate on every
// scheduler corpus case (converted to CIB XML) and compares the placement
// after the simulated transition with ours. Allocation score differences
// are logged, placement differences fail.
func TestSchedulerMatchesCrmSimulate(t *testing.T) {
	crm, err := exec.LookPath("crm_simulate")
	if err != nil {
		t.Skip("crm_simulate not installed (Debian package pacemaker-cli-utils)")
	}
	var agree, compared, skipped, scoreAgree, scoreTotal int
	for _, c := range scenario.LoadAll(t, schedCorpus) {
		name := filepath.Base(c.Path)
		if c.CrmSkip != "" {
			skipped++
			t.Logf("%s: not compared: %s", name, c.CrmSkip)
			continue
		}
		compared++
		crmPlace, crmScores, crmOut, err := schedRunCrm(t, crm, c)
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
		// The CIB crm_simulate wrote after executing its transition is a
		// real Pacemaker status section: read it back and check that we
		// see the same state and want to keep it.
		if c.CrmNoFixpoint != "" {
			t.Logf("%s: fixpoint not checked: %s", name, c.CrmNoFixpoint)
		} else if again := schedFixpoint(t, c, crmOut); again != "" && again != schedKeys(crmPlace) {
			t.Errorf("%s: on crm_simulate's resulting CIB palisade would move things\n  palisade:     %s\n  crm_simulate: %s", name, again, schedKeys(crmPlace))
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
func schedRunCrm(t *testing.T, crm string, c *scenario.Case) (map[string]int, map[string]string, *model.Document, error) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.xml")
	out := filepath.Join(dir, "out.xml")
	var buf bytes.Buffer
	if err := cibtest.Write(&buf, &c.Doc, c.Now); err != nil {
		return nil, nil, nil, err
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, crm, "-x", in, "-S", "-s", "-O", out, "-t", c.Now.Format("2006-01-02 15:04:05Z"))
	stdout, err := cmd.Output()
	if err != nil {
		return nil, nil, nil, err
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
		return nil, nil, nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(fh)
	if err != nil {
		return nil, nil, nil, err
	}
	doc, _, err := cib.ReadBytesWith(data, cib.Options{Scheduling: true})
	if err != nil {
		return nil, nil, nil, err
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
	return place, scores, doc, nil
}

// schedFixpoint schedules the CIB crm_simulate produced and returns our
// placement on it, normalized like the comparison.
func schedFixpoint(t *testing.T, c *scenario.Case, doc *model.Document) string {
	t.Helper()
	if doc == nil {
		return ""
	}
	out := scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status, Now: c.Now})
	m := map[string]int{}
	for _, p := range out.Placement {
		if p.Node != "" {
			m[schedPlaceKey(c, p.Rsc, p.Node, p.Role)]++
		}
	}
	return schedKeys(m)
}

// TestSchedulerReadsPacemakerAuthoredCIB builds a CIB with Pacemaker's own
// tools (cibadmin, crm_attribute, crm_resource --ban/--move), lets
// crm_simulate bring the nodes up and run the cluster, then checks that
// palisade reads that CIB as Pacemaker does: same placement at rest, and
// the same placement as crm_simulate after losing a node and after a
// monitor failure.
func TestSchedulerReadsPacemakerAuthoredCIB(t *testing.T) {
	var tools []string
	for _, tool := range []string{"cibadmin", "crm_attribute", "crm_resource", "crm_simulate"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed (Debian package pacemaker-cli-utils)", tool)
		}
		tools = append(tools, p)
	}
	cibadmin, crmAttr, crmRes, crm := tools[0], tools[1], tools[2], tools[3]
	dir := t.TempDir()
	path := filepath.Join(dir, "cib.xml")
	empty, err := exec.Command(cibadmin, "--empty").Output()
	if err != nil {
		t.Fatalf("cibadmin --empty: %v", err)
	}
	if err := os.WriteFile(path, empty, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "CIB_file="+path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
		}
	}
	for i := 1; i <= 3; i++ {
		run(cibadmin, "-C", "-o", "nodes", "-X", fmt.Sprintf(`<node id="%d" uname="n%d"/>`, i, i))
	}
	run(crmAttr, "--type", "crm_config", "--name", "stonith-enabled", "--update", "true")
	run(crmAttr, "--type", "crm_config", "--name", "enable-startup-probes", "--update", "false")
	run(cibadmin, "-C", "-o", "configuration", "-X", `<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-stick" name="resource-stickiness" value="100"/><nvpair id="rd-mt" name="migration-threshold" value="1"/></meta_attributes></rsc_defaults>`)
	for _, x := range []string{
		`<primitive id="fencing" class="stonith" type="fence_dummy"><meta_attributes id="f-m"><nvpair id="f-m1" name="target-role" value="Stopped"/></meta_attributes></primitive>`,
		`<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="a-mon" name="monitor" interval="10s"/></operations></primitive>`,
		`<group id="g"><primitive id="g1" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="g2" class="ocf" provider="heartbeat" type="Dummy"/></group>`,
		`<clone id="c"><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></clone>`,
		`<clone id="p"><meta_attributes id="p-m"><nvpair id="p-m1" name="promotable" value="true"/></meta_attributes><primitive id="s" class="ocf" provider="pacemaker" type="Stateful"/></clone>`,
	} {
		run(cibadmin, "-C", "-o", "resources", "-X", x)
	}
	run(cibadmin, "-C", "-o", "constraints", "-X", `<rsc_colocation id="a-with-g" rsc="a" with-rsc="g" score="-INFINITY"/>`)
	run(cibadmin, "-C", "-o", "constraints", "-X", `<rsc_location id="p-pref" rsc="p" role="Promoted" node="n3" score="50"/>`)
	run(crmRes, "--resource", "a", "--ban", "--node", "n1")
	run(crmRes, "--resource", "g", "--move", "--node", "n2")

	// Bring the cluster up; crm_simulate writes a real status section.
	up := filepath.Join(dir, "up.xml")
	if out, err := exec.Command(crm, "-x", path, "-q", "true", "-u", "n1", "-u", "n2", "-u", "n3", "-S", "-O", up).CombinedOutput(); err != nil {
		t.Fatalf("crm_simulate (nodes up): %v\n%s", err, out)
	}
	base := readCIBFile(t, up)
	c := &scenario.Case{Doc: *base, Now: time.Now()}
	at := func(doc *model.Document) string {
		m := map[string]int{}
		for _, r := range doc.Status.Resources {
			role := model.NormalizeRole(r.Role)
			if role == "" {
				role = model.RoleStarted
			}
			m[schedPlaceKey(c, r.Rsc, r.Node, role)]++
		}
		return schedKeys(m)
	}
	if got, want := schedFixpoint(t, c, base), at(base); got != want {
		t.Errorf("at rest palisade would change the cluster\n  palisade:     %s\n  crm_simulate: %s", got, want)
	}
	for _, ev := range []struct {
		name    string
		crmArgs []string
		inject  func(st *model.Status)
	}{
		{"node n2 lost", []string{"--node-fail", "n2"}, func(st *model.Status) { st.FailNode("n2") }},
		{"monitor of a fails", []string{"--op-inject", "a_monitor_10000@" + nodeOf(base, "a") + "=7"}, func(st *model.Status) {
			if err := st.FailOp("a:monitor:"+nodeOf(base, "a"), c.Now, true); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		next := filepath.Join(dir, "next.xml")
		if out, err := exec.Command(crm, append([]string{"-x", up, "-S", "-O", next}, ev.crmArgs...)...).CombinedOutput(); err != nil {
			t.Fatalf("crm_simulate (%s): %v\n%s", ev.name, err, out)
		}
		want := at(readCIBFile(t, next))
		st := base.Status.Clone()
		ev.inject(st)
		out := scheduler.Schedule(scheduler.Input{Config: &base.Config, Status: st, Now: c.Now})
		m := map[string]int{}
		for _, p := range out.Placement {
			if p.Node != "" {
				m[schedPlaceKey(c, p.Rsc, p.Node, p.Role)]++
			}
		}
		if got := schedKeys(m); got != want {
			t.Errorf("%s: placement differs\n  palisade:     %s\n  crm_simulate: %s", ev.name, got, want)
		} else {
			t.Logf("%s: same placement: %s", ev.name, got)
		}
	}
}

func readCIBFile(t *testing.T, path string) *model.Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := cib.ReadBytesWith(data, cib.Options{Scheduling: true})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func nodeOf(doc *model.Document, rsc string) string {
	for _, r := range doc.Status.Resources {
		if r.Rsc == rsc {
			return r.Node
		}
	}
	return ""
}
