package quorum

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs testdata/*.txt with github.com/cockroachdb/datadriven:
// each directive is a command line, "----" and the expected output; "#"
// lines are comments. `go test -run Scenarios -rewrite` regenerates the
// expected output (review the diff). Commands:
//
//	config nodes=n1:1,n2:1 [two_node] [wait_for_all=false] [expected=N] [lms=WINDOW] [atb=NODE]
//	    starts a new Calculator; no output
//	update at=<duration> members=<n1,n2|->
//	    prints <quorate|inquorate> votes=N expected=N needed=N
//	invalid <n1:1,n2:1> [two_node]
//	    a configuration New must refuse; prints the error
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Ext(path) == ".txt" { // not a fuzz corpus under testdata/fuzz
			datadriven.RunTest(t, path, new(calcScript).run)
		}
	})
}

func parseVotes(list string) map[string]int {
	nodes := map[string]int{}
	for _, nv := range strings.Split(list, ",") {
		n, votes, _ := strings.Cut(nv, ":")
		nodes[n], _ = strconv.Atoi(votes)
	}
	return nodes
}

func (s *calcScript) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "config":
		cfg := Config{Nodes: map[string]int{}}
		for _, a := range d.CmdArgs {
			v := strings.Join(a.Vals, ",")
			switch a.Key {
			case "nodes":
				cfg.Nodes = parseVotes(v)
			case "two_node":
				cfg.TwoNode = true
			case "wait_for_all":
				cfg.WaitForAll, cfg.WaitForAllSet = v != "false", true
			case "expected":
				cfg.ExpectedVotes, _ = strconv.Atoi(v)
			case "atb":
				cfg.AutoTieBreaker, cfg.TieBreaker = true, v
			case "lms":
				cfg.LastManStanding = true
				cfg.LastManStandingWindow, _ = time.ParseDuration(v)
			default:
				d.Fatalf(t, "unknown config key %q", a.Key)
			}
		}
		c, err := New(cfg)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		s.calc = c
		return ""
	case "invalid":
		if len(d.CmdArgs) == 0 {
			d.Fatalf(t, "want 'invalid n1:1,n2:1 [two_node]'")
		}
		cfg := Config{Nodes: parseVotes(d.CmdArgs[0].Key), TwoNode: d.HasArg("two_node")}
		if _, err := New(cfg); err != nil {
			return "error: " + err.Error()
		}
		return "accepted (want an error)"
	case "update":
		if s.calc == nil {
			d.Fatalf(t, "update before config")
		}
		var now time.Duration
		var list string
		d.ScanArgs(t, "at", &now)
		d.ScanArgs(t, "members", &list)
		var members []string
		if list != "-" {
			members = strings.Split(list, ",")
		}
		st := s.calc.Update(members, now)
		got := "inquorate"
		if st.Quorate {
			got = "quorate"
		}
		return got + " votes=" + strconv.Itoa(st.Votes) + " expected=" + strconv.Itoa(st.Expected) + " needed=" + strconv.Itoa(st.Needed)
	}
	d.Fatalf(t, "unknown directive %q", d.Cmd)
	return ""
}

// calcScript is the state of one testdata file: the Calculator of its last
// config command.
type calcScript struct {
	calc *Calculator
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]NoQuorumPolicy{"": PolicyStop, "stop": PolicyStop, "freeze": PolicyFreeze, "ignore": PolicyIgnore, "suicide": PolicySuicide} {
		got, err := ParsePolicy(in)
		if err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePolicy("demote-ish"); err == nil {
		t.Error("ParsePolicy accepted a bad value")
	}
	if PolicyFreeze.MayStart() || !PolicyIgnore.MayStart() || !PolicyStop.MustStop() || PolicyFreeze.MustStop() {
		t.Error("policy predicates wrong")
	}
}
