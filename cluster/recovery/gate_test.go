package recovery

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"palisade/cluster/eventlog"
	"palisade/quorum"
)

// TestScenarios replays testdata/*.txt with github.com/cockroachdb/datadriven.
// Each directive is a command line, "----" and its expected output (what
// Ready returned, the answer of start/confirm), one line each; "#" lines are
// comments. `go test -run Scenarios -rewrite` regenerates the expected output
// (review the diff: these expectations encode the safety rules). Commands:
//
//	config nodes=n1,n2,n3 self=n1 [delay=n1:5s,...] [retry=1s:8s] [startup_fencing] [policy=ignore] [random=2s]
//	partition at=T members=n1,n2 [quorate] [dc] [view=N] [active=n2:vip+db,n3:web]
//	tick at=T
//	result at=T target=n2 attempt=1 [ok] [off] [device=D] [err=text_with_underscores]
//	confirm at=T target=n2 by=alice
//	request at=T target=n2 reason=stop_failed
//	leave at=T target=n2       (n2 stopped everything and is shutting down)
//	start at=T rsc=vip on=n1 [maybe=n2,n3]
//	verify            (runs Verify over every log entry so far)
//	status            (one line per node from Status)
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Ext(path) == ".txt" { // not a fuzz corpus under testdata/fuzz
			datadriven.RunTest(t, path, new(scenario).run)
		}
	})
}

func (s *scenario) run(t *testing.T, d *datadriven.TestData) string {
	args := map[string]string{}
	for _, a := range d.CmdArgs {
		args[a.Key] = strings.Join(a.Vals, ",")
	}
	at := func() time.Duration {
		v, err := time.ParseDuration(args["at"])
		if err != nil {
			d.Fatalf(t, "at=%q: %v", args["at"], err)
		}
		return v
	}
	flag := func(k string) bool { _, ok := args[k]; return ok }
	if d.Cmd != "config" && s.g == nil {
		d.Fatalf(t, "%s before config", d.Cmd)
	}
	var got []string
	switch d.Cmd {
	case "config":
		cfg := Config{Nodes: strings.Split(args["nodes"], ","), Self: args["self"], StartupFencing: flag("startup_fencing")}
		if v, ok := args["delay"]; ok {
			cfg.StaticDelay = map[string]time.Duration{}
			for _, nd := range strings.Split(v, ",") {
				n, dl, _ := strings.Cut(nd, ":")
				cfg.StaticDelay[n], _ = time.ParseDuration(dl)
			}
		}
		if v, ok := args["retry"]; ok {
			a, b, _ := strings.Cut(v, ":")
			cfg.RetryInitial, _ = time.ParseDuration(a)
			cfg.RetryMax, _ = time.ParseDuration(b)
		}
		if v, ok := args["random"]; ok {
			cfg.RandomDelayMax, _ = time.ParseDuration(v)
			// deterministic "random": half the maximum
			cfg.Rand = func(m time.Duration) time.Duration { return m / 2 }
		}
		cfg.NoQuorumPolicy = quorum.NoQuorumPolicy(args["policy"])
		s.g = New(cfg)
		s.all = nil
	case "partition":
		p := Partition{Quorate: flag("quorate"), DC: flag("dc"), Active: map[string][]string{}}
		if v := args["members"]; v != "" && v != "-" {
			p.Members = strings.Split(v, ",")
		}
		if v, ok := args["view"]; ok {
			p.View, _ = strconv.ParseUint(v, 10, 64)
		}
		if v, ok := args["active"]; ok {
			for _, nr := range strings.Split(v, ",") {
				n, rs, _ := strings.Cut(nr, ":")
				p.Active[n] = strings.Split(rs, "+")
			}
		}
		s.g.SetPartition(p, at())
	case "tick":
		s.g.Tick(at())
	case "result":
		a, _ := strconv.Atoi(args["attempt"])
		s.g.FenceResult(FenceResult{Target: args["target"], Attempt: a, OK: flag("ok"), VerifiedOff: flag("off"),
			Device: args["device"], Err: strings.ReplaceAll(args["err"], "_", " ")}, at())
	case "confirm":
		if err := s.g.OperatorConfirm(args["target"], args["by"], at()); err != nil {
			got = append(got, "error: "+err.Error())
		}
	case "leave":
		if err := s.g.CleanLeave(args["target"], at()); err != nil {
			got = append(got, "error: "+err.Error())
		}
	case "request":
		if err := s.g.RequestFence(args["target"], strings.ReplaceAll(args["reason"], "_", " "), at()); err != nil {
			got = append(got, "error: "+err.Error())
		}
	case "start":
		var maybe []string
		if v := args["maybe"]; v != "" {
			maybe = strings.Split(v, ",")
		}
		if dec := s.g.AllowStart(args["rsc"], args["on"], maybe, at()); dec.Allowed {
			got = append(got, "allow")
		} else {
			got = append(got, "deny: "+dec.Reason)
		}
	case "verify":
		vs := Verify(s.all)
		if len(vs) == 0 {
			got = append(got, "clean")
		}
		for _, v := range vs {
			got = append(got, "violation: "+v.Reason)
		}
		return strings.Join(got, "\n")
	case "status":
		for _, st := range s.g.Status() {
			got = append(got, fmt.Sprintf("status %s %s member=%v attempts=%d failures=%d by=%s", st.Node, st.State, st.Member, st.Attempts, st.Failures, st.By))
		}
		return strings.Join(got, "\n")
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	rd := s.g.Ready()
	s.all = append(s.all, rd.Log...)
	for _, fr := range rd.Fence {
		got = append(got, fmt.Sprintf("FENCE %s attempt=%d (%s)", fr.Target, fr.Attempt, fr.Reason))
	}
	for _, a := range rd.Alerts {
		got = append(got, "ALERT "+a.Target)
	}
	for _, e := range rd.Log {
		got = append(got, fmtEntry(e))
	}
	return strings.Join(got, "\n")
}

// scenario is the state one testdata file builds up.
type scenario struct {
	g   *Gate
	all []eventlog.Entry // every log entry so far, for verify
}

func fmtEntry(e eventlog.Entry) string {
	s := fmt.Sprintf("log %s %s", time.Duration(e.MonoNS), e.Event)
	add := func(k, v string) {
		if v != "" {
			s += " " + k + "=" + v
		}
	}
	add("target", e.Target)
	add("rsc", e.Resource)
	add("node", e.Node)
	if len(e.Resources) > 0 {
		add("resources", strings.Join(e.Resources, "+"))
	}
	if e.Attempt > 0 {
		add("attempt", strconv.Itoa(e.Attempt))
	}
	if e.DelayMS > 0 {
		add("delay", (time.Duration(e.DelayMS) * time.Millisecond).String())
	}
	add("by", e.By)
	if e.Detail != "" && e.Event != eventlog.Alert {
		s += " (" + e.Detail + ")"
	}
	return s
}

func TestVerifyCatchesEarlyStart(t *testing.T) {
	es := []eventlog.Entry{
		{MonoNS: 1, Writer: "n1", Event: eventlog.QuorumChanged, Detail: "quorate"},
		{MonoNS: 2, Writer: "n1", Event: eventlog.NodeLost, Target: "n2", Resources: []string{"vip"}},
		{MonoNS: 3, Writer: "n1", Event: eventlog.ActionSent, Action: "start", Resource: "vip", Node: "n1"},
		{MonoNS: 4, Writer: "n1", Event: eventlog.FenceConfirmed, Target: "n2"},
		{MonoNS: 5, Writer: "n1", Event: eventlog.ActionSent, Action: "start", Resource: "vip", Node: "n1"},
		{MonoNS: 6, Writer: "n3", Event: eventlog.QuorumChanged, Detail: "inquorate"},
		{MonoNS: 7, Writer: "n3", Event: eventlog.FenceRequested, Target: "n1"},
	}
	vs := Verify(es)
	if len(vs) != 2 || vs[0].Entry.MonoNS != 3 || vs[1].Entry.MonoNS != 7 {
		t.Fatalf("Verify = %v, want violations at 3 and 7", vs)
	}
}

func TestVerifyInquorateViewDoesNotBindQuorateSide(t *testing.T) {
	es := []eventlog.Entry{
		{MonoNS: 1, Writer: "n3", Event: eventlog.QuorumChanged, Detail: "inquorate"},
		{MonoNS: 2, Writer: "n3", Event: eventlog.NodeLost, Target: "n1", Resources: []string{"vip"}},
		// the quorate side (n1, n2) may still move vip from n1 to n2
		{MonoNS: 3, Writer: "n1", Event: eventlog.ActionSent, Action: "start", Resource: "vip", Node: "n2"},
		// but n3 itself may not take it
		{MonoNS: 4, Writer: "n3", Event: eventlog.StartAllowed, Resource: "vip", Node: "n3"},
	}
	vs := Verify(es)
	if len(vs) != 1 || vs[0].Entry.MonoNS != 4 {
		t.Fatalf("Verify = %v, want one violation at 4", vs)
	}
}

func TestVerifyRejoinedNode(t *testing.T) {
	es := []eventlog.Entry{
		{MonoNS: 1, Writer: "n1", Event: eventlog.QuorumChanged, Detail: "quorate"},
		{MonoNS: 2, Writer: "n1", Event: eventlog.NodeLost, Target: "n2", Resources: []string{"vip"}},
		{MonoNS: 3, Writer: "n1", Event: eventlog.NodeReturned, Target: "n2", Detail: "still unclean (stop failed): fencing continues"},
		{MonoNS: 4, Writer: "n1", Event: eventlog.ActionSent, Action: "start", Resource: "vip", Node: "n3"},
		{MonoNS: 5, Writer: "n1", Event: eventlog.NodeReturned, Target: "n2", Detail: RejoinedDetail + ": fence cancelled"},
		{MonoNS: 6, Writer: "n1", Event: eventlog.ActionSent, Action: "start", Resource: "vip", Node: "n3"},
	}
	if vs := Verify(es); len(vs) != 1 || vs[0].Entry.MonoNS != 4 {
		t.Fatalf("Verify = %v, want one violation at 4", vs)
	}
}
