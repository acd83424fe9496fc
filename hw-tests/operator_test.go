package hwtests

// Operator experience (issue 14), against real daemons in a netns lab
// with ipmi_sim BMCs (package failover): `palisade status` text, JSON and
// exit status in each situation, --watch through a pseudo-terminal,
// simulate --live against what the DC then does, the Heartbeat verbs,
// the read group that cannot change anything, the alert command's
// environment, the metrics endpoint, and the daemon's log lines.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/vishvananda/netns"

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
	"palisade/hw-tests/lab"
)

// cliBin is the palisade binary the harness runs.
func cliBin(t *testing.T) string {
	if d := os.Getenv("PALISADE_FAILOVER_BIN"); d != "" {
		return filepath.Join(d, "palisade")
	}
	return binPath(t, "palisade")
}

// statusOf runs `palisade status --json` on node i: the status and the
// exit code.
func statusOf(t *testing.T, h *failover.Harness, i int) (api.Status, int) {
	t.Helper()
	cmd := exec.Command(cliBin(t), "--socket", h.Sockets[i], "status", "--json")
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("palisade status on n%d: %v", i+1, err)
	}
	var st api.Status
	if code != 3 {
		if err := json.Unmarshal(out, &st); err != nil {
			t.Fatalf("palisade status --json on n%d (exit %d): %v\n%s", i+1, code, err, out)
		}
	}
	return st, code
}

// waitStatus polls node i's status until cond holds.
func waitStatus(t *testing.T, h *failover.Harness, i int, timeout time.Duration, what string, cond func(api.Status, int) bool) (api.Status, int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, code := statusOf(t, h, i)
		if cond(st, code) {
			return st, code
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", " ")
			t.Fatalf("n%d: %s: not within %v (exit %d):\n%s", i+1, what, timeout, code, b)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func nodeState(st api.Status, name string) api.ClusterNode {
	if st.DC != nil {
		for _, n := range st.DC.NodeStates {
			if n.Name == name {
				return n
			}
		}
	}
	return api.ClusterNode{}
}

// primitive finds a primitive in the resource tree, with its parent's id.
func statusPrimitive(st api.Status, id string) (api.Resource, string) {
	var find func(rs []api.Resource, parent string) (api.Resource, string, bool)
	find = func(rs []api.Resource, parent string) (api.Resource, string, bool) {
		for _, r := range rs {
			if r.ID == id && r.Kind == "primitive" {
				return r, parent, true
			}
			if p, pp, ok := find(r.Members, r.ID); ok {
				return p, pp, true
			}
		}
		return api.Resource{}, "", false
	}
	if st.DC == nil {
		return api.Resource{}, ""
	}
	r, p, _ := find(st.DC.Resources, "")
	return r, p
}

// placement is where each primitive runs, from the status.
func placement(st api.Status) map[string]string {
	out := map[string]string{}
	if st.DC != nil {
		for _, r := range st.DC.Status.Resources {
			out[r.Rsc] = r.Node
		}
	}
	return out
}

func settled(st api.Status) bool { return st.DC != nil && len(st.DC.Inflight) == 0 && st.DC.Quorate }

// TestOperatorStatus walks one cluster through every situation `palisade
// status` must show: healthy, a node in standby, a failed resource with its
// fail count, a node killed with its BMC unreachable (UNCLEAN, its
// resources marked, fencing pending), confirmed by hand (fenced), and a
// node stopped cleanly (offline, not dead); text and JSON each time, the
// exit status, and every node answering the same within a second.
func TestOperatorStatus(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3, DummyMonitor: 500 * time.Millisecond,
		FenceTuning: "retry: {initial: 300ms, max: 1s}\nattempt_timeout: 5s"})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	a, b := (active+1)%3, (active+2)%3
	an, bn := fmt.Sprintf("n%d", a+1), fmt.Sprintf("n%d", b+1)

	// Healthy: exit 0, schema, every node online, the group with its
	// members where they run; and the same answer on every node.
	st, _ := waitStatus(t, h, active, 10*time.Second, "healthy", func(st api.Status, code int) bool { return code == 0 && settled(st) })
	if st.Schema != api.StatusSchema || st.Health == nil || st.Health.State != api.Healthy {
		t.Fatalf("healthy status: schema %q health %+v", st.Schema, st.Health)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		if s := nodeState(st, n); s.State != api.NodeOnline || !s.Member {
			t.Errorf("%s: %+v, want online", n, s)
		}
	}
	if q := st.DC.Quorum; q == nil || !q.Quorate || q.Votes != 3 || q.Needed != 2 || len(q.Sources) != 3 {
		t.Errorf("quorum: %+v", st.DC.Quorum)
	}
	vip, parent := statusPrimitive(st, "vip")
	if parent != "grp" || vip.Agent != "palisade:vip" || vip.State != "Started" || len(vip.Instances) != 1 || vip.Instances[0].Node != node {
		t.Errorf("vip in the tree: parent %q %+v, want in grp on %s", parent, vip, node)
	}
	for _, i := range []int{a, b} {
		other, c := statusOf(t, h, i)
		if c != 0 || !slices.Equal(nodeWords(other), nodeWords(st)) || !equalJSON(other.DC.Resources, st.DC.Resources) {
			t.Errorf("n%d answers otherwise (exit %d): %v %v", i+1, c, nodeWords(other), nodeWords(st))
		}
	}
	text := statusText(t, h, a, 0)
	for _, want := range []string{"partition: quorate, DC ", "quorum: 3 of 3 votes, 2 needed", "health: HEALTHY",
		"grp       group", "  vip     palisade:vip         Started  " + node, "  dummy   ocf:heartbeat:Dummy  Started  " + node} {
		if !strings.Contains(text, want) {
			t.Errorf("status text lacks %q:\n%s", want, text)
		}
	}

	// Standby: a warning, not a problem; shown on every node.
	if out, err := h.Palisade(active, "node", "standby", bn, "--by", "tester"); err != nil {
		t.Fatalf("node standby %s: %v: %s", bn, err, out)
	}
	change := time.Now()
	for _, i := range []int{active, a, b} {
		waitStatus(t, h, i, 3*time.Second, bn+" in standby", func(st api.Status, code int) bool {
			return code == 0 && nodeState(st, bn).State == api.NodeStandby
		})
	}
	// The issue asks for a second; a loaded CI machine gets three.
	if d := time.Since(change); d > 3*time.Second {
		t.Errorf("standby took %v to show on every node", d)
	} else {
		t.Logf("standby shown on all three nodes %v after the command returned", d.Round(time.Millisecond))
	}
	text = statusText(t, h, a, 0)
	if !regexp.MustCompile(`(?m)^`+bn+`\s+\d+\s+standby`).MatchString(text) || !strings.Contains(text, "warning: node "+bn+" is in standby") {
		t.Errorf("standby not shown:\n%s", text)
	}

	// A failed monitor: the fail count and its time in the table, the
	// status degraded until the count is reset.
	failDummy(t, h, active)
	st, _ = waitStatus(t, h, a, 10*time.Second, "dummy's fail count", func(st api.Status, code int) bool {
		d, _ := statusPrimitive(st, "dummy")
		return code == 1 && len(d.FailCounts) > 0
	})
	d, _ := statusPrimitive(st, "dummy")
	if fc := d.FailCounts[0]; fc.Node != node || fc.Op != "monitor" || fc.Count != 1 || fc.LastFailure.IsZero() {
		t.Errorf("fail count: %+v", fc)
	}
	if !slices.ContainsFunc(st.Health.Problems, func(p string) bool { return strings.Contains(p, "dummy has fail count 1 on "+node) }) {
		t.Errorf("health problems: %v", st.Health.Problems)
	}
	text = statusText(t, h, a, 1)
	if !regexp.MustCompile(`  dummy\s+ocf:heartbeat:Dummy\s+\S+\s+` + node + `\s+1 \(monitor\)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`).MatchString(text) {
		t.Errorf("the fail count is not in the resource table:\n%s", text)
	}
	out, err := h.Palisade(b, "failcount", "show", "grp")
	if err != nil || !regexp.MustCompile(`dummy\s+`+node+`\s+monitor\s+1\s`).MatchString(out) {
		t.Errorf("failcount show grp: %v\n%s", err, out)
	}
	if out, err := h.Palisade(b, "failcount", "reset", "dummy", "--node", node, "--by", "tester"); err != nil {
		t.Fatalf("failcount reset: %v: %s", err, out)
	}
	waitStatus(t, h, a, 10*time.Second, "healthy after the reset", func(st api.Status, code int) bool { return code == 0 && settled(st) })
	if out, _ := h.Palisade(b, "failcount", "show"); !strings.Contains(out, "no fail counts") {
		t.Errorf("failcount show after the reset:\n%s", out)
	}
	if out, err := h.Palisade(active, "node", "online", bn, "--by", "tester"); err != nil {
		t.Fatalf("node online: %v: %s", err, out)
	}

	// The holder dies with its BMC unreachable: UNCLEAN, its resources
	// marked where they were, fencing pending then failing; degraded.
	h.BreakBMC(active)
	if _, err := h.Isolate(active); err != nil {
		t.Fatal(err)
	}
	st, _ = waitStatus(t, h, a, 15*time.Second, node+" UNCLEAN with a failing fence", func(st api.Status, code int) bool {
		return code == 1 && nodeState(st, node).State == api.NodeUnclean && len(st.DC.FenceOps) > 0 && st.DC.FenceOps[0].Failures > 0
	})
	if f := st.DC.FenceOps[0]; f.Target != node || f.State != api.FenceFailed {
		t.Errorf("fence ops: %+v", st.DC.FenceOps)
	}
	vip, _ = statusPrimitive(st, "vip")
	if len(vip.Instances) != 1 || vip.Instances[0].Node != node || !vip.Instances[0].Unclean {
		t.Errorf("vip while %s is unclean: %+v, want marked unclean on it", node, vip.Instances)
	}
	text = statusText(t, h, a, 1)
	for _, re := range []string{`(?m)^` + node + `\s+\d+\s+UNCLEAN\s+dead`, `vip\s+palisade:vip\s+Started \(UNCLEAN\)\s+` + node,
		`(?m)^` + node + `\s+failed\s+\d+\s+[1-9]`, `problem: node ` + node + ` is UNCLEAN`, `problem: fencing of ` + node + ` is failing`} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("status text does not match %s:\n%s", re, text)
		}
	}

	// An operator confirms: fenced (a warning), the group moves.
	if out, err := h.Palisade(a, "fence", "confirm", node, "--yes", "--by", "tester"); err != nil {
		t.Fatalf("fence confirm: %v: %s", err, out)
	}
	st, _ = waitStatus(t, h, a, 15*time.Second, node+" fenced and the group moved", func(st api.Status, code int) bool {
		p := placement(st)
		return code == 0 && nodeState(st, node).State == api.NodeFenced && p["vip"] != "" && p["vip"] != node && settled(st)
	})
	if s := nodeState(st, node); !strings.Contains(s.Detail, "operator") {
		t.Errorf("fenced node's detail: %+v", s)
	}
	dcNode := currentDC(t, h)
	text = statusText(t, h, a, 0)
	if !regexp.MustCompile(`(?m)^` + node + `\s+\d+\s+OFFLINE \(fenced\)`).MatchString(text) {
		t.Errorf("fenced node not shown:\n%s", text)
	}

	// A node stopped cleanly is offline, not dead, and nobody fences it.
	holder := placement(st)["vip"]
	quiet := a
	if holder == an {
		quiet = b
	}
	qn := fmt.Sprintf("n%d", quiet+1)
	other := a + b - quiet
	if err := h.Procs[quiet].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Procs[quiet].Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("palisaded on %s did not stop", qn)
	}
	// Two of three nodes gone: the survivor has no quorum (degraded), but
	// the stopped node shows as a clean leave.
	st, _ = waitStatus(t, h, other, 10*time.Second, qn+" offline after a clean stop", func(st api.Status, _ int) bool {
		return nodeState(st, qn).State == api.NodeOffline
	})
	if s := nodeState(st, qn); !strings.Contains(s.Detail, "left cleanly") {
		t.Errorf("%s after SIGTERM: %+v", qn, s)
	}
	text = statusText(t, h, other, -1)
	if !regexp.MustCompile(`(?m)^` + qn + `\s+\d+\s+OFFLINE\s+dead.*left cleanly`).MatchString(text) {
		t.Errorf("cleanly stopped node not shown as OFFLINE / left cleanly:\n%s", text)
	}
	if fs := entries(t, h, 0, eventlog.FenceRequested, qn); len(fs) > 0 {
		t.Errorf("%s was fenced after a clean stop", qn)
	}

	// The daemon's default log on the DC: the operator's confirmation and
	// the fence decisions, one msg key per line.
	logs := daemonLog(t, h, dcNode)
	for _, want := range []string{`msg="fence requested" event=fence_requested target=` + node, `msg="fence device failed"`,
		`msg="fence confirmed by an operator" event=fence_confirmed target=` + node, `by="operator:root (as tester)"`,
		`msg="fence needed" event=fence_needed target=` + node} {
		if !strings.Contains(logs, want) {
			t.Errorf("n%d's log lacks %s", dcNode+1, want)
		}
	}
	checkOneMsg(t, h)
}

// nodeWords is each node's name and state, for comparing answers.
func nodeWords(st api.Status) []string {
	var out []string
	if st.DC != nil {
		for _, n := range st.DC.NodeStates {
			out = append(out, n.Name+":"+n.State)
		}
	}
	return out
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// statusText is `palisade status` on node i; want is the exit code (-1:
// any but 3).
func statusText(t *testing.T, h *failover.Harness, i, want int) string {
	t.Helper()
	out, err := exec.Command(cliBin(t), "--socket", h.Sockets[i], "status").Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if want >= 0 && code != want || want < 0 && code == 3 {
		t.Errorf("palisade status on n%d exited %d, want %d:\n%s", i+1, code, want, out)
	}
	return string(out)
}

// daemonLog is the text log of node i's palisaded.
func daemonLog(t *testing.T, h *failover.Harness, i int) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(h.Lab.LogDir, fmt.Sprintf("*-palisaded-n%d-*.log", i+1)))
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	if b.Len() == 0 {
		t.Fatalf("no log of n%d's palisaded in %s", i+1, h.Lab.LogDir)
	}
	return b.String()
}

// logfmtKeys lists the keys of one slog text line (values may be quoted
// with escapes).
func logfmtKeys(line string) []string {
	var keys []string
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		start := i
		for i < len(line) && line[i] != '=' && line[i] != ' ' {
			i++
		}
		if i >= len(line) || line[i] != '=' {
			for i < len(line) && line[i] != ' ' {
				i++
			}
			continue
		}
		keys = append(keys, line[start:i])
		i++
		if i < len(line) && line[i] == '"' {
			i++
			for i < len(line) && line[i] != '"' {
				if line[i] == '\\' {
					i++
				}
				i++
			}
			i++
		} else {
			for i < len(line) && line[i] != ' ' {
				i++
			}
		}
	}
	return keys
}

// checkOneMsg checks every line every daemon logged has one msg key.
func checkOneMsg(t *testing.T, h *failover.Harness) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(h.Lab.LogDir, "*-palisaded-*.log"))
	lines := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			if !strings.HasPrefix(l, "time=") {
				continue // an agent's or the Go runtime's own output
			}
			lines++
			n := 0
			for _, k := range logfmtKeys(l) {
				if k == "msg" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: %d msg keys: %s", filepath.Base(f), n, l)
			}
		}
		fh.Close()
	}
	if lines == 0 {
		t.Error("no log lines checked")
	}
}

// TestOperatorWatch runs `palisade status --watch` in a pseudo-terminal:
// it draws the status through the terminal's cursor addressing, redraws
// in place when the cluster changes, and quits on q with exit 0.
func TestOperatorWatch(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	other := (active + 1) % 3
	on := fmt.Sprintf("n%d", other+1)
	cmd := exec.Command(cliBin(t), "--socket", h.Sockets[active], "status", "--watch", "--interval", "200ms")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	screen := make(chan string, 1024)
	go func() {
		buf := make([]byte, 8192)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				screen <- string(buf[:n])
			}
			if err != nil {
				close(screen)
				return
			}
		}
	}()
	var seen strings.Builder
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for !ok(seen.String()) {
			select {
			case s, open := <-screen:
				if !open {
					t.Fatalf("watch ended before %s:\n%q", what, seen.String())
				}
				seen.WriteString(s)
			case <-deadline:
				t.Fatalf("watch did not show %s:\n%q", what, seen.String())
			}
		}
	}
	waitFor("the node list", func(s string) bool {
		return strings.Contains(s, "palisade status --watch") && strings.Contains(s, "HEALTHY") && strings.Contains(s, "grp")
	})
	// Drawn with cursor addressing (ESC [ row ; col H), not appended lines.
	if !regexp.MustCompile(`\x1b\[\d+;\d+H`).MatchString(seen.String()) {
		t.Errorf("no cursor addressing in the watch output: %q", seen.String()[:min(400, seen.Len())])
	}
	before := seen.Len()
	if out, err := h.Palisade(active, "node", "standby", on, "--by", "tester"); err != nil {
		t.Fatalf("standby: %v: %s", err, out)
	}
	waitFor("the standby", func(s string) bool { return strings.Contains(s[before:], "standby") })
	if _, err := f.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch exited with %v after q", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("watch did not quit on q")
	}
}

// TestOperatorSimulateLive predicts with `simulate --live` what the DC
// does on a standby and on a node failure, then makes it happen and
// compares the placement the cluster reaches.
func TestOperatorSimulateLive(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	other := (active + 1) % 3
	waitStatus(t, h, other, 10*time.Second, "settled", func(st api.Status, code int) bool { return code == 0 && settled(st) })

	predict := func(args ...string) map[string]string {
		t.Helper()
		out, err := h.Palisade(other, append([]string{"simulate", "--live", "--show-placement"}, args...)...)
		if err != nil {
			t.Fatalf("simulate --live %v: %v: %s", args, err, out)
		}
		p := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[2] == "Started" {
				p[f[0]] = f[1]
			}
		}
		if len(p) == 0 {
			t.Fatalf("no placement in:\n%s", out)
		}
		return p
	}
	want := predict("--standby", node)
	if want["vip"] == node || want["vip"] == "" || want["dummy"] != want["vip"] {
		t.Fatalf("prediction for standby %s: %v", node, want)
	}
	if out, err := h.Palisade(other, "node", "standby", node, "--by", "tester"); err != nil {
		t.Fatalf("standby: %v: %s", err, out)
	}
	st, _ := waitStatus(t, h, other, 15*time.Second, "the group moved", func(st api.Status, _ int) bool {
		p := placement(st)
		return p["vip"] != "" && p["vip"] != node && p["dummy"] == p["vip"] && settled(st)
	})
	if got := placement(st); !equalJSON(got, want) {
		t.Errorf("simulate --live predicted %v for the standby, the DC placed %v", want, got)
	}

	// Now the new holder loses power: the transition fences it with the
	// cluster's action (off) before starting the group elsewhere. The
	// node in standby watches (it stays a member).
	holderName := placement(st)["vip"]
	holder := int(holderName[1] - '1')
	out, err := h.Palisade(active, "simulate", "--live", "--node-fail", holderName)
	if err != nil || !strings.Contains(out, "Fence (off) "+holderName) {
		t.Errorf("simulate --live --node-fail %s: %v\n%s", holderName, err, out)
	}
	want = predict("--node-fail", holderName)
	fault, err := h.PowerCut(holder)
	if err != nil {
		t.Fatal(err)
	}
	waitTakeover(t, h, holder, fault, 20*time.Second)
	// Recovered: the group whole on another node (vip starts first).
	st, _ = waitStatus(t, h, active, 15*time.Second, "recovered", func(st api.Status, _ int) bool {
		p := placement(st)
		return p["vip"] != "" && p["vip"] != holderName && p["dummy"] == p["vip"] && settled(st)
	})
	if got := placement(st); !equalJSON(got, want) {
		t.Errorf("simulate --live predicted %v after losing %s, the DC placed %v", want, holderName, got)
	}
	checkRule(t, h, holder, fault)
}

// TestOperatorHeartbeatVerbs checks hb_standby / hb_takeover semantics on
// two haresources-style groups, each preferring its node.
func TestOperatorHeartbeatVerbs(t *testing.T) {
	res := `  options: {stonith-enabled: true, no-quorum-policy: stop}
  rsc_defaults: {resource-stickiness: 100}
  resources:
    - id: grpA
      kind: group
      members:
        - {id: a1, class: ocf, provider: heartbeat, type: Dummy}
    - id: grpB
      kind: group
      members:
        - {id: b1, class: ocf, provider: heartbeat, type: Dummy}
  constraints:
    locations:
      - {id: grpA-pref, rsc: grpA, node: n1, score: 100}
      - {id: grpB-pref, rsc: grpB, node: n2, score: 100}
`
	h := startFailover(t, failover.Options{Nodes: 3, Resources: res})
	at := func(what string, want map[string]string) {
		t.Helper()
		waitStatus(t, h, 2, 20*time.Second, what, func(st api.Status, _ int) bool {
			p := placement(st)
			for r, n := range want {
				if p[r] != n {
					return false
				}
			}
			return settled(st)
		})
	}
	verb := func(i int, args ...string) string {
		t.Helper()
		out, err := h.Palisade(i, append(args, "--by", "tester")...)
		if err != nil {
			t.Fatalf("palisade %s on n%d: %v: %s", strings.Join(args, " "), i+1, err, out)
		}
		return out
	}
	at("each group on its preferred node", map[string]string{"a1": "n1", "b1": "n2"})

	// hb_standby local on n1: what n1 is preferred for leaves it.
	verb(0, "standby", "local")
	waitStatus(t, h, 2, 20*time.Second, "grpA away from n1, grpB stays", func(st api.Status, _ int) bool {
		p := placement(st)
		return p["a1"] != "" && p["a1"] != "n1" && p["b1"] == "n2" && settled(st)
	})
	// hb_takeover local on n1: it comes back.
	verb(0, "takeover", "local")
	at("grpA back on n1", map[string]string{"a1": "n1", "b1": "n2"})
	// hb_takeover foreign on n1: n2's group comes to n1 too.
	verb(0, "takeover", "foreign")
	at("grpB taken over by n1", map[string]string{"a1": "n1", "b1": "n1"})
	// hb_standby foreign (failback) on n1: grpB goes home to n2.
	verb(0, "standby", "failback")
	at("grpB back home on n2", map[string]string{"a1": "n1", "b1": "n2"})
	// hb_standby (all) on n2: n2 in standby, everything off it.
	verb(1, "standby")
	st, _ := waitStatus(t, h, 2, 20*time.Second, "n2 in standby, nothing on it", func(st api.Status, _ int) bool {
		p := placement(st)
		return nodeState(st, "n2").State == api.NodeStandby && p["b1"] != "" && p["b1"] != "n2" && settled(st)
	})
	// hb_takeover (all) on n2: out of standby and everything on n2.
	verb(1, "takeover")
	at("everything on n2", map[string]string{"a1": "n2", "b1": "n2"})
	if s := nodeState(st, "n2"); s.State != api.NodeStandby {
		t.Errorf("n2 state during its standby: %+v", s)
	}
	// Each verb was one configuration change, recorded with who made it:
	// the kernel's name for the caller with the name it claimed.
	var changes []string
	for _, e := range entries(t, h, 0, "config_changed", "") {
		if strings.Contains(e.Detail, "standby") || strings.Contains(e.Detail, "takeover") {
			changes = append(changes, e.Detail)
		}
	}
	if len(changes) != 6 {
		t.Errorf("%d configuration changes by the verbs, want 6: %v", len(changes), changes)
	}
	for _, c := range changes {
		if !strings.Contains(c, "by root (as tester)") {
			t.Errorf("change not attributed from the credentials: %s", c)
		}
	}
	if fs := entries(t, h, 0, eventlog.FenceRequested, ""); len(fs) > 0 {
		t.Errorf("a Heartbeat verb fenced %s", fs[0].Target)
	}
}

// TestOperatorAccess runs the CLI as an unprivileged user: in the read
// group it reads the status and is refused every change; outside both
// groups it is refused even the status; in the admin group it may change.
func TestOperatorAccess(t *testing.T) {
	const readGID, adminGID = 64901, 64902
	t.Setenv("PALISADED_READ_GROUP", strconv.Itoa(readGID))
	t.Setenv("PALISADED_ADMIN_GROUP", strconv.Itoa(adminGID))
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	other := (active + 1) % 3
	on := fmt.Sprintf("n%d", other+1)
	// nobody must reach the socket: open the test's private directories.
	sock := h.Sockets[other] // a node running nothing: takeover has work to do there
	for d := filepath.Dir(sock); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o666 {
		t.Fatalf("socket with groups: mode %v, %v", fi.Mode(), err)
	}
	bin := filepath.Join(filepath.Dir(sock), "palisade-cli")
	data, err := os.ReadFile(cliBin(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	as := func(groups []uint32, args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"--socket", sock}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
		cmd.Env = []string{"PATH=/usr/bin:/bin", "USER=mallory"}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	reader := []uint32{readGID}
	if out, code := as(reader, "status"); code != 0 || !strings.Contains(out, "health: HEALTHY") {
		t.Errorf("the read group's status: exit %d\n%s", code, out)
	}
	if out, code := as(reader, "failcount", "show"); code != 0 {
		t.Errorf("the read group's failcount show: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"node", "standby", on}, {"resource", "cleanup", "grp"}, {"fence", "confirm", on, "--yes"},
		{"standby"}, {"takeover"}, {"failcount", "reset", "dummy"}} {
		out, code := as(reader, args...)
		if code == 0 || !strings.Contains(out, "permission denied") {
			t.Errorf("the read group ran %v: exit %d\n%s", args, code, out)
		}
	}
	if out, code := as(nil, "status"); code != 3 || !strings.Contains(out, "permission denied") {
		t.Errorf("a user in neither group read the status: exit %d\n%s", code, out)
	}
	since := eventlog.Mono()
	if out, code := as([]uint32{adminGID}, "node", "standby", on); code != 0 {
		t.Fatalf("the admin group's standby: exit %d\n%s", code, out)
	}
	waitStatus(t, h, active, 5*time.Second, on+" standby", func(st api.Status, _ int) bool { return nodeState(st, on).State == api.NodeStandby })
	cs := entries(t, h, since, "config_changed", "")
	if len(cs) == 0 || !strings.Contains(cs[0].Detail, "standby "+on+" by nobody (as mallory)") {
		t.Errorf("the admin's change is not recorded with the kernel's name for the caller: %+v", cs)
	}
	if logs := daemonLog(t, h, other); !regexp.MustCompile(`msg="control socket: permission denied" .*cmd=config-edit user=nobody uid=65534`).MatchString(logs) ||
		!regexp.MustCompile(`msg="control: change requested" .*cmd=config-edit by="nobody \(as mallory\)" uid=65534`).MatchString(logs) {
		t.Errorf("refusals and changes are not logged with the caller's credentials:\n%s", logs)
	}
}

// scrape fetches node i's metrics from inside its network namespace.
func scrape(t *testing.T, h *failover.Harness, i int, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	var fams map[string]*dto.MetricFamily
	err := inNetnsT(h.Lab.Nodes[i].Name, func() error {
		// Dialled here, on the thread inside the namespace: http.Client
		// would dial from another goroutine (another namespace).
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
		req.Header.Set("Accept", "text/plain")
		req.Close = true
		if err := req.Write(c); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("HTTP %s", resp.Status)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err = p.TextToMetricFamilies(resp.Body)
		return err
	})
	if err != nil {
		t.Fatalf("scraping n%d's metrics: %v", i+1, err)
	}
	return fams
}

// value sums the samples of a family whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	sum, found := 0.0, false
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum, found
}

func inNetnsT(name string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return err // thread stays locked: discarded with the goroutine
	}
	runtime.UnlockOSThread()
	return ferr
}

// TestOperatorAlertsAndMetrics: the alerts: section's command gets each
// event in its environment (and nothing of the daemon's), the metrics
// endpoint serves the figures, through a monitor failure and a power loss.
func TestOperatorAlertsAndMetrics(t *testing.T) {
	const metricsAddr = "127.0.0.1:9664"
	t.Setenv("PALISADED_METRICS_LISTEN", metricsAddr)
	t.Setenv("PALISADE_OPERATOR_TEST_SECRET", "must-not-leak")
	dir := t.TempDir()
	script := filepath.Join(dir, "alert.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv | sort > \""+dir+"/alert-$PALISADE_ALERT_LOCAL_NODE-$PALISADE_ALERT_SEQUENCE-$PALISADE_ALERT_KIND\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := fmt.Sprintf(`  options: {stonith-enabled: true, no-quorum-policy: stop}
  rsc_defaults: {resource-stickiness: 100, migration-threshold: 3}
  resources:
    - id: grp
      kind: group
      members:
        - id: vip
          class: palisade
          type: vip
          params: {ip: {{VIP}}, cidr_netmask: "%d", nic: eth0, arp_count: "5", arp_interval: "200", dad_timeout: "30"}
          ops: [{name: monitor, interval: 1s, timeout: 5s}]
        - id: dummy
          class: ocf
          provider: heartbeat
          type: Dummy
          ops: [{name: monitor, interval: 500ms, timeout: 10s}]
alerts:
  command: %s
  recipient: ops@example.com
  timeout: 10s
`, lab.Subnet(0, 2).Bits(), script)
	h := startFailover(t, failover.Options{Nodes: 3, Resources: res})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	other := (active + 1) % 3
	on := fmt.Sprintf("n%d", other+1)

	fams := scrape(t, h, active, metricsAddr)
	for _, name := range []string{"palisade_link_heartbeat_age_seconds", "palisade_heartbeats_received_total", "palisade_heartbeats_missed_total",
		"palisade_packets_dropped_total", "palisade_link_sent_packets_total", "palisade_membership_changes_total", "palisade_quorum_quorate",
		"palisade_resource_operations_total", "palisade_resource_operation_duration_seconds", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("n%d's metrics lack %s", active+1, name)
		}
	}
	if v, ok := value(fams, "palisade_heartbeats_received_total", map[string]string{"peer": on, "link": "link0"}); !ok || v < 1 {
		t.Errorf("heartbeats from %s on link0: %v %v", on, v, ok)
	}
	if v, ok := value(fams, "palisade_packets_dropped_total", map[string]string{"link": "link0", "reason": "bad_mac"}); !ok || v != 0 {
		t.Errorf("bad_mac drops: %v %v", v, ok)
	}
	if v, _ := value(fams, "palisade_resource_operations_total", map[string]string{"resource": "vip", "op": "start", "result": "success"}); v != 1 {
		t.Errorf("vip starts on %s: %v", node, v)
	}
	// Quorum is sampled once a second.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := value(scrape(t, h, active, metricsAddr), "palisade_quorum_quorate", nil); v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("palisade_quorum_quorate never 1")
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A monitor failure: resource_failed on the holder, with the operation.
	failDummy(t, h, active)
	alertFile(t, dir, node, "resource_failed", 10*time.Second)

	// A power loss of the holder: node lost, fence requested and
	// succeeded, the group moved, from the DC.
	fault, err := h.PowerCut(active)
	if err != nil {
		t.Fatal(err)
	}
	waitTakeover(t, h, active, fault, 20*time.Second)
	dcNode := currentDC(t, h)
	dcName := fmt.Sprintf("n%d", dcNode+1)
	lost := alertFile(t, dir, dcName, "node_lost", 10*time.Second)
	req := alertFile(t, dir, dcName, "fence_requested", 10*time.Second)
	ok := alertFile(t, dir, dcName, "fence_succeeded", 10*time.Second)
	moved := alertFile(t, dir, dcName, "resource_moved", 10*time.Second)
	failed := alertFile(t, dir, node, "resource_failed", 0)
	for name, c := range map[string]struct {
		env  map[string]string
		want map[string]string
	}{
		"node_lost":       {lost, map[string]string{"PALISADE_ALERT_NODE": node, "PALISADE_ALERT_TARGET": node, "PALISADE_ALERT_NODE_ID": strconv.Itoa(active + 1), "CRM_alert_kind": "node", "CRM_alert_desc": "lost", "PALISADE_ALERT_CLUSTER": "demo", "PALISADE_ALERT_RECIPIENT": "ops@example.com", "CRM_alert_recipient": "ops@example.com"}},
		"fence_requested": {req, map[string]string{"PALISADE_ALERT_NODE": node, "PALISADE_ALERT_ACTION": "off", "CRM_alert_kind": "fencing", "CRM_alert_task": "off"}},
		"fence_succeeded": {ok, map[string]string{"PALISADE_ALERT_NODE": node, "PALISADE_ALERT_DEVICE": "bmc-" + node, "CRM_alert_rc": "0", "CRM_alert_desc": "Operation off of " + node + " by bmc-" + node + ": OK"}},
		"resource_moved":  {moved, map[string]string{"PALISADE_ALERT_FROM": node, "CRM_alert_kind": "resource", "PALISADE_ALERT_LOCAL_NODE": dcName}},
		"resource_failed": {failed, map[string]string{"PALISADE_ALERT_NODE": node, "PALISADE_ALERT_RESOURCE": "dummy", "PALISADE_ALERT_OPERATION": "monitor", "PALISADE_ALERT_INTERVAL_MS": "500", "PALISADE_ALERT_RC": "7", "CRM_alert_rsc": "dummy", "CRM_alert_task": "monitor", "CRM_alert_rc": "7"}},
	} {
		for k, v := range c.want {
			if c.env[k] != v {
				t.Errorf("%s alert: %s=%q, want %q", name, k, c.env[k], v)
			}
		}
		for k := range c.env {
			if !strings.HasPrefix(k, "PALISADE_ALERT_") && !strings.HasPrefix(k, "CRM_alert_") && !slices.Contains([]string{"PATH", "LANG", "PWD", "SHLVL", "_"}, k) {
				t.Errorf("%s alert: the daemon's environment leaked into the alert: %s", name, k)
			}
		}
	}
	if moved["PALISADE_ALERT_RESOURCE"] != "vip" && moved["PALISADE_ALERT_RESOURCE"] != "dummy" {
		t.Errorf("resource_moved names %q", moved["PALISADE_ALERT_RESOURCE"])
	}

	// Metrics on the DC after the failover: the fence by device, result
	// and duration; membership and scheduler figures.
	fams = scrape(t, h, dcNode, metricsAddr)
	fencer := dcNode // the DC fences in this layout
	if v, _ := value(fams, "palisade_fence_operations_total", map[string]string{"device": "bmc-" + node, "result": "success"}); v < 1 {
		t.Errorf("n%d: fence operations on bmc-%s: %v", fencer+1, node, v)
	}
	if v, _ := value(fams, "palisade_fence_duration_seconds", map[string]string{"device": "bmc-" + node}); v < 1 {
		t.Errorf("n%d: fence durations on bmc-%s: %v", fencer+1, node, v)
	}
	if v, _ := value(fams, "palisade_fence_requests_total", map[string]string{"target": node}); v < 1 {
		t.Errorf("n%d: fence requests for %s: %v", fencer+1, node, v)
	}
	if v, _ := value(fams, "palisade_membership_changes_total", map[string]string{"event": "node_lost"}); v < 1 {
		t.Errorf("n%d: node_lost membership changes: %v", dcNode+1, v)
	}
	if v, _ := value(fams, "palisade_scheduler_run_duration_seconds", nil); v < 1 {
		t.Errorf("n%d: scheduler runs: %v", dcNode+1, v)
	}
	if v, _ := value(fams, "palisade_alerts_total", map[string]string{"kind": "fence_succeeded", "result": "success"}); v != 1 {
		t.Errorf("n%d: alerts run for fence_succeeded: %v", dcNode+1, v)
	}
	logs := daemonLog(t, h, dcNode)
	for _, want := range []string{`msg="fence requested" event=fence_requested target=` + node, `msg="fence confirmed" event=fence_confirmed target=` + node + ` .*by=device:bmc-` + node,
		`msg="recovery: start allowed" event=start_allowed resource=vip`, `msg="peer state" .*peer=` + node + ` .*to=dead`} {
		if !regexp.MustCompile(want).MatchString(logs) {
			t.Errorf("n%d's log lacks %s", dcNode+1, want)
		}
	}
	checkOneMsg(t, h)
	checkRule(t, h, active, fault)
}

// alertFile waits for node's alert of kind and returns its environment.
func alertFile(t *testing.T, dir, node, kind string, timeout time.Duration) map[string]string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "alert-"+node+"-*-"+kind))
		if len(files) > 0 {
			slices.Sort(files)
			data, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if k, v, ok := strings.Cut(l, "="); ok {
					env[k] = v
				}
			}
			return env
		}
		if time.Now().After(deadline) {
			all, _ := filepath.Glob(filepath.Join(dir, "alert-*"))
			t.Fatalf("no %s alert from %s; alerts: %v", kind, node, all)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
