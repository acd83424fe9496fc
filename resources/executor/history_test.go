package executor

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"palisade/resources/agent"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	n, _ := strconv.Atoi(s)
	return epoch.Add(time.Duration(n) * time.Second)
}

// TestHistoryScript replays testdata/history.txt through the pure core with
// github.com/cockroachdb/datadriven; `go test -run HistoryScript -rewrite`
// regenerates the expected output (review the diff). Commands:
//
//	config fencing=BOOL start-fatal=BOOL
//	    a new History for node n1; no output
//	op RSC ACTION[/INTERVAL] rc=N [status=timeout] [onfail=P] [probe] [expected=N] at=SEC
//	    records one result; prints the event: class=C [onfail=P] fails=N [lastfail=SEC]
//	status RSC
//	    prints the derived status: role=R failed=BOOL fails=N [fails.ACTION=N ...]
//	clear RSC
//	    clears the failures; prints fails=N
func TestHistoryScript(t *testing.T) {
	var h *History
	datadriven.RunTest(t, "testdata/history.txt", func(t *testing.T, d *datadriven.TestData) string {
		args := map[string]string{}
		var pos []string
		for _, a := range d.CmdArgs {
			if len(a.Vals) == 0 {
				pos = append(pos, a.Key)
			}
			args[a.Key] = strings.Join(a.Vals, ",")
		}
		if d.Cmd != "config" && (h == nil || len(pos) == 0) {
			d.Fatalf(t, "%s needs a config before it and a resource", d.Cmd)
		}
		switch d.Cmd {
		case "config":
			h = &History{Node: "n1", Fencing: args["fencing"] == "true", StartFailureIsFatal: args["start-fatal"] == "true"}
			return ""
		case "clear":
			h.ClearFailures(pos[0])
			got, _ := h.FailCount(pos[0])
			return "fails=" + strconv.Itoa(got)
		case "status":
			return renderStatus(h, pos[0])
		case "op":
		default:
			d.Fatalf(t, "unknown directive %q", d.Cmd)
		}
		if len(pos) < 2 {
			d.Fatalf(t, "want op RSC ACTION[/INTERVAL] ...")
		}
		action, ivl, _ := strings.Cut(pos[1], "/")
		op := Op{Instance: agent.Instance{ID: pos[0]}, Action: agent.Action(action)}
		if ivl != "" {
			op.Interval, _ = time.ParseDuration(ivl)
		}
		rc, _ := strconv.Atoi(args["rc"])
		res := agent.Result{RC: agent.RC(rc)}
		if args["status"] == "timeout" {
			res.Status = agent.StatusTimeout
		}
		op.OnFail = OnFail(args["onfail"])
		op.Probe = d.HasArg("probe")
		if e, ok := args["expected"]; ok {
			x, _ := strconv.Atoi(e)
			op.Expected = agent.RC(x)
		}
		ev := h.Record(op, res, at(args["at"]), at(args["at"]))
		out := "class=" + ev.Class.String()
		if ev.OnFail != "" {
			out += " onfail=" + string(ev.OnFail)
		}
		out += " fails=" + strconv.Itoa(ev.FailCount)
		if !ev.LastFailure.IsZero() {
			out += " lastfail=" + strconv.Itoa(int(ev.LastFailure.Sub(epoch)/time.Second))
		}
		return out
	})
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

// renderStatus prints the status of one resource, failure counts by action
// in name order; a resource with no history at all is Stopped.
func renderStatus(h *History, rsc string) string {
	for _, rs := range h.Status() {
		if rs.Resource != rsc {
			continue
		}
		out := fmt.Sprintf("role=%s failed=%v fails=%d", rs.Role, rs.Failed, rs.FailCount)
		for _, k := range slices.Sorted(maps.Keys(rs.Failures)) {
			out += fmt.Sprintf(" fails.%s=%d", k, rs.Failures[k])
		}
		return out
	}
	return "role=Stopped (no history)"
}
