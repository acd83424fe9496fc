package recovery

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/cluster/eventlog"
	"palisade/quorum"
)

var update = flag.Bool("update", false, "rewrite testdata expectations with the actual output")

// TestScenarios replays testdata/*.txt. A file is a list of commands; the
// lines starting with "> " after a command are its expected output (what
// Ready returned, the answer of start/confirm). Commands:
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
func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScenario(t, f) })
	}
}

func runScenario(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g *Gate
	var all []eventlog.Entry
	var rewritten strings.Builder
	var cmdLine string
	var want, got []string
	flush := func() {
		if cmdLine == "" {
			return
		}
		if strings.Join(want, "\n") != strings.Join(got, "\n") && !*update {
			t.Errorf("%s: %s\n got:\n  %s\n want:\n  %s", path, cmdLine, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		for _, l := range got {
			rewritten.WriteString("> " + l + "\n")
		}
		cmdLine, want, got = "", nil, nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if strings.HasPrefix(line, "> ") || line == ">" {
			want = append(want, strings.TrimPrefix(strings.TrimPrefix(line, ">"), " "))
			continue
		}
		flush()
		rewritten.WriteString(line + "\n")
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		cmdLine = fmt.Sprintf("line %d: %s", ln, trim)
		f := strings.Fields(trim)
		args := map[string]string{}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			args[k] = v
		}
		at := func() time.Duration {
			d, err := time.ParseDuration(args["at"])
			if err != nil {
				t.Fatalf("%s:%d: at=%q: %v", path, ln, args["at"], err)
			}
			return d
		}
		flag := func(k string) bool { _, ok := args[k]; return ok }
		switch f[0] {
		case "config":
			cfg := Config{Nodes: strings.Split(args["nodes"], ","), Self: args["self"], StartupFencing: flag("startup_fencing")}
			if v, ok := args["delay"]; ok {
				cfg.StaticDelay = map[string]time.Duration{}
				for _, nd := range strings.Split(v, ",") {
					n, d, _ := strings.Cut(nd, ":")
					cfg.StaticDelay[n], _ = time.ParseDuration(d)
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
			g = New(cfg)
			all = nil
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
			g.SetPartition(p, at())
		case "tick":
			g.Tick(at())
		case "result":
			a, _ := strconv.Atoi(args["attempt"])
			g.FenceResult(FenceResult{Target: args["target"], Attempt: a, OK: flag("ok"), VerifiedOff: flag("off"),
				Device: args["device"], Err: strings.ReplaceAll(args["err"], "_", " ")}, at())
		case "confirm":
			if err := g.OperatorConfirm(args["target"], args["by"], at()); err != nil {
				got = append(got, "error: "+err.Error())
			}
		case "leave":
			if err := g.CleanLeave(args["target"], at()); err != nil {
				got = append(got, "error: "+err.Error())
			}
		case "request":
			if err := g.RequestFence(args["target"], strings.ReplaceAll(args["reason"], "_", " "), at()); err != nil {
				got = append(got, "error: "+err.Error())
			}
		case "start":
			var maybe []string
			if v := args["maybe"]; v != "" {
				maybe = strings.Split(v, ",")
			}
			d := g.AllowStart(args["rsc"], args["on"], maybe, at())
			if d.Allowed {
				got = append(got, "allow")
			} else {
				got = append(got, "deny: "+d.Reason)
			}
		case "verify":
			vs := Verify(all)
			if len(vs) == 0 {
				got = append(got, "clean")
			}
			for _, v := range vs {
				got = append(got, "violation: "+v.Reason)
			}
			continue
		case "status":
			for _, s := range g.Status() {
				got = append(got, fmt.Sprintf("status %s %s member=%v attempts=%d failures=%d by=%s", s.Node, s.State, s.Member, s.Attempts, s.Failures, s.By))
			}
			continue
		default:
			t.Fatalf("%s:%d: unknown command %q", path, ln, f[0])
		}
		rd := g.Ready()
		all = append(all, rd.Log...)
		for _, fr := range rd.Fence {
			got = append(got, fmt.Sprintf("FENCE %s attempt=%d (%s)", fr.Target, fr.Attempt, fr.Reason))
		}
		for _, a := range rd.Alerts {
			got = append(got, "ALERT "+a.Target)
		}
		for _, e := range rd.Log {
			got = append(got, fmtEntry(e))
		}
	}
	flush()
	if *update {
		if err := os.WriteFile(path, []byte(rewritten.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
