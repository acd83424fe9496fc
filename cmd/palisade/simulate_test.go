package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const simDoc = `
config:
  options: {stonith-enabled: true}
  resources:
    - {id: vip, type: IPaddr2, meta: {resource-stickiness: 100}}
    - {id: web, type: apache, meta: {migration-threshold: 1}}
  constraints:
    locations: [{id: l1, rsc: vip, node: n1, score: 50}]
    colocations: [{id: c1, rsc: web, with: vip, score: INFINITY}]
    orders: [{id: o1, first: vip, then: web}]
status:
  nodes: [{name: n1}, {name: n2}]
  resources: [{rsc: vip, node: n1}, {rsc: web, node: n1}]
`

func simulate(t *testing.T, f simulateFlags, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	if f.now == "" {
		f.now = "2026-01-01T12:00:00Z"
	}
	err := runSimulate(&out, &errb, f, args)
	return out.String(), errb.String(), err
}

func writeDoc(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "doc.yaml")
	if err := os.WriteFile(p, []byte(simDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSimulateNodeFail(t *testing.T) {
	out, _, err := simulate(t, simulateFlags{nodeFail: []string{"n1"}, showPlacement: true}, writeDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	if out != "vip n2 Started\nweb n2 Started\n" {
		t.Errorf("placement after losing n1:\n%s", out)
	}
	out, _, _ = simulate(t, simulateFlags{nodeFail: []string{"n1"}}, writeDoc(t))
	// Palisade fences with off unless told otherwise.
	for _, want := range []string{"Fence (off) n1", "pseudo vip_stop_0 on n1 after 1", "vip_start_0 on n2 after 1,"} {
		if !strings.Contains(out, want) {
			t.Errorf("transition lacks %q:\n%s", want, out)
		}
	}
}

func TestSimulateOpFailAndStandby(t *testing.T) {
	out, _, err := simulate(t, simulateFlags{opFail: []string{"web:monitor:n1"}, showPlacement: true}, writeDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	// migration-threshold=1 bans web from n1; as an INFINITY dependent it
	// drags vip along to n2 (Pacemaker's dependent influence).
	if out != "vip n2 Started\nweb n2 Started\n" {
		t.Errorf("placement after web failure:\n%s", out)
	}
	out, _, _ = simulate(t, simulateFlags{standby: []string{"n1"}, showPlacement: true}, writeDoc(t))
	if out != "vip n2 Started\nweb n2 Started\n" {
		t.Errorf("placement with n1 standby:\n%s", out)
	}
}

func TestSimulateScoresJSONDot(t *testing.T) {
	out, _, err := simulate(t, simulateFlags{showScores: true}, writeDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "vip allocation score on n1: 150\n") {
		t.Errorf("scores:\n%s", out)
	}
	out, _, _ = simulate(t, simulateFlags{json: true}, writeDoc(t))
	var v struct {
		Scores    []map[string]any `json:"scores"`
		Placement []map[string]any `json:"placement"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Scores) == 0 || len(v.Placement) != 2 {
		t.Errorf("json: %v\n%s", err, out)
	}
	out, _, _ = simulate(t, simulateFlags{dot: true, nodeFail: []string{"n1"}}, writeDoc(t))
	if !strings.HasPrefix(out, "digraph transition {") || !strings.Contains(out, "color=red") {
		t.Errorf("dot:\n%s", out)
	}
}

func TestSimulateCIB(t *testing.T) {
	out, errOut, err := simulate(t, simulateFlags{cib: "../../resources/cib/testdata/unsupported.xml", showPlacement: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "unsupported: no-quorum-policy=suicide") || strings.Contains(errOut, "rsc_ticket") {
		t.Errorf("unsupported features not reported:\n%s", errOut)
	}
	_ = out
	// Remote, guest and bundle nodes are modelled: nothing to report.
	_, errOut, err = simulate(t, simulateFlags{cib: "../../resources/cib/testdata/remote.xml", showPlacement: true})
	if err != nil || strings.Contains(errOut, "unsupported") {
		t.Errorf("remote, guest and bundle nodes reported as unsupported (%v):\n%s", err, errOut)
	}
	_, _, err = simulate(t, simulateFlags{cib: "../../resources/cib/testdata/unsupported.xml", strict: true})
	if ee, ok := err.(*exitError); !ok || ee.code != 2 {
		t.Errorf("--strict with unsupported features: %v", err)
	}
}

func TestSimulateErrors(t *testing.T) {
	if _, _, err := simulate(t, simulateFlags{}); err == nil {
		t.Error("no input accepted")
	}
	if _, _, err := simulate(t, simulateFlags{opFail: []string{"bogus"}}, writeDoc(t)); err == nil {
		t.Error("bad --op-fail accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("config: {resources: [{id: a, colour: red}]}"), 0o644)
	if _, _, err := simulate(t, simulateFlags{}, bad); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown key: %v", err)
	}
}

// TestSimulateFenceAction: the transition names the fence the cluster
// would do: the fencing section's action of --cluster, else stonith-action,
// else Palisade's off (Pacemaker's reboot for a CIB).
func TestSimulateFenceAction(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "authkey"), []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	clusterFile := func(action string) string {
		p := filepath.Join(dir, action+".yaml")
		body := "cluster: {name: c}\nnodes:\n  - {id: 1, name: n1, addresses: {ring0: 198.18.0.11}}\n" +
			"links:\n  - {name: ring0, kind: ucast, interface: lo}\nauth: {key_file: " + filepath.Join(dir, "authkey") + "}\n" +
			"fencing: {action: " + action + "}\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		f    simulateFlags
		want string
	}{
		{simulateFlags{nodeFail: []string{"n1"}}, "Fence (off) n1"},
		{simulateFlags{nodeFail: []string{"n1"}, cluster: clusterFile("reboot")}, "Fence (reboot) n1"},
		{simulateFlags{nodeFail: []string{"n1"}, cluster: clusterFile("off")}, "Fence (off) n1"},
	} {
		out, _, err := simulate(t, tc.f, writeDoc(t))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("--cluster %q: want %q in:\n%s", tc.f.cluster, tc.want, out)
		}
	}
}
