package executor

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/resources/agent"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	n, _ := strconv.Atoi(s)
	return epoch.Add(time.Duration(n) * time.Second)
}

// TestHistoryScript replays testdata/history.txt through the pure core.
func TestHistoryScript(t *testing.T) {
	f, err := os.Open("testdata/history.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h *History
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where := "testdata/history.txt:" + strconv.Itoa(n)
		left, right, _ := strings.Cut(line, "=>")
		fs := strings.Fields(left)
		want := kv(strings.Fields(right))
		switch fs[0] {
		case "config":
			c := kv(fs[1:])
			h = &History{Node: "n1", Fencing: c["fencing"] == "true", StartFailureIsFatal: c["start-fatal"] == "true"}
			continue
		case "clear":
			h.ClearFailures(fs[1])
			if got, _ := h.FailCount(fs[1]); strconv.Itoa(got) != want["fails"] {
				t.Errorf("%s: fails %d after clear", where, got)
			}
			continue
		case "status":
			checkStatus(t, where, h, fs[1], want)
			continue
		case "op":
		default:
			t.Fatalf("%s: unknown directive %q", where, fs[0])
		}
		action, ivl, _ := strings.Cut(fs[2], "/")
		op := Op{Instance: agent.Instance{ID: fs[1]}, Action: agent.Action(action)}
		if ivl != "" {
			op.Interval, _ = time.ParseDuration(ivl)
		}
		args := kv(fs[3:])
		rc, _ := strconv.Atoi(args["rc"])
		res := agent.Result{RC: agent.RC(rc)}
		if args["status"] == "timeout" {
			res.Status = agent.StatusTimeout
		}
		op.OnFail = OnFail(args["onfail"])
		_, op.Probe = args["probe"]
		if e, ok := args["expected"]; ok {
			x, _ := strconv.Atoi(e)
			op.Expected = agent.RC(x)
		}
		ev := h.Record(op, res, at(args["at"]), at(args["at"]))
		if ev.Class.String() != want["class"] {
			t.Errorf("%s: class %s, want %s", where, ev.Class, want["class"])
		}
		if string(ev.OnFail) != want["onfail"] {
			t.Errorf("%s: on-fail %q, want %q", where, ev.OnFail, want["onfail"])
		}
		if strconv.Itoa(ev.FailCount) != want["fails"] {
			t.Errorf("%s: fail count %d, want %s", where, ev.FailCount, want["fails"])
		}
		if lf, ok := want["lastfail"]; ok && !ev.LastFailure.Equal(at(lf)) {
			t.Errorf("%s: last failure %s, want %s", where, ev.LastFailure, at(lf))
		}
	}
}

func kv(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

func TestHistoryStatusAfterStop(t *testing.T) {
	h := &History{Node: "n1"}
	in := agent.Instance{ID: "r1"}
	h.Record(Op{Instance: in, Action: agent.Start}, agent.Result{}, epoch, epoch)
	h.Record(Op{Instance: in, Action: agent.Monitor, Interval: 10 * time.Second}, agent.Result{}, epoch, epoch)
	st := h.Status()
	if len(st) != 1 || len(st[0].Ops) != 2 || st[0].Ops[0].Action != agent.Monitor {
		t.Fatalf("status: %+v", st)
	}
	h.Record(Op{Instance: in, Action: agent.Stop}, agent.Result{}, epoch, epoch)
	st = h.Status()
	if len(st[0].Ops) != 1 || st[0].Ops[0].Action != agent.Stop || st[0].Ops[0].CallID != 3 {
		t.Fatalf("after stop: %+v", st)
	}
	h.Forget("r1")
	if len(h.Status()) != 0 {
		t.Fatalf("forget left %+v", h.Status())
	}
}

func TestParseOnFail(t *testing.T) {
	for _, s := range []string{"", "restart", "fence", "ignore", "standby", "block", "stop", "demote"} {
		if _, err := ParseOnFail(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := ParseOnFail("reboot"); err == nil || !strings.Contains(err.Error(), "reboot") {
		t.Errorf("reboot accepted: %v", err)
	}
}

func checkStatus(t *testing.T, where string, h *History, rsc string, want map[string]string) {
	t.Helper()
	for _, rs := range h.Status() {
		if rs.Resource != rsc {
			continue
		}
		got := map[string]string{"role": rs.Role, "failed": strconv.FormatBool(rs.Failed), "fails": strconv.Itoa(rs.FailCount)}
		for k, v := range rs.Failures {
			got["fails."+string(k)] = strconv.Itoa(v)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: status %s: %s=%q, want %q", where, rsc, k, got[k], v)
			}
		}
		return
	}
	if want["role"] != "Stopped" {
		t.Errorf("%s: no status for %s", where, rsc)
	}
}
