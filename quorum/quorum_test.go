package quorum

import (
	"fmt"
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
//	       [device=disk|arbiter] [algorithm=ffsplit|lms] [device_votes=N]
//	    starts a new Calculator; prints the device's votes when there is one
//	update at=<duration> members=<n1,n2|-> [device=vote|novote|pending] [problem=TEXT]
//	    prints <quorate|inquorate> votes=N expected=N needed=N, then
//	    device=N (the device votes counted) when a device is configured,
//	    and the reason
//	invalid <n1:1,n2:1> [two_node] [atb=NODE] [lms] [device=disk|arbiter] [algorithm=A] [device_votes=N]
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
				if !deviceArg(&cfg, a.Key, v) {
					d.Fatalf(t, "unknown config key %q", a.Key)
				}
			}
		}
		c, err := New(cfg)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		s.calc = c
		if c.DeviceVotes() > 0 {
			return fmt.Sprintf("device %s carries %d votes", cfg.Device.Model, c.DeviceVotes())
		}
		return ""
	case "invalid":
		if len(d.CmdArgs) == 0 {
			d.Fatalf(t, "want 'invalid n1:1,n2:1 [two_node]'")
		}
		cfg := Config{Nodes: parseVotes(d.CmdArgs[0].Key), TwoNode: d.HasArg("two_node")}
		for _, a := range d.CmdArgs[1:] {
			v := strings.Join(a.Vals, ",")
			switch a.Key {
			case "two_node":
			case "atb":
				cfg.AutoTieBreaker, cfg.TieBreaker = true, v
			case "lms":
				cfg.LastManStanding, cfg.LastManStandingWindow = true, time.Second
			default:
				if !deviceArg(&cfg, a.Key, v) {
					d.Fatalf(t, "unknown invalid key %q", a.Key)
				}
			}
		}
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
		var dev DeviceVote
		if d.HasArg("device") {
			var v string
			d.ScanArgs(t, "device", &v)
			dev.Voting, dev.Pending = v == "vote", v == "pending"
		}
		if d.HasArg("problem") {
			var p []string
			for _, a := range d.CmdArgs {
				if a.Key == "problem" {
					p = a.Vals
				}
			}
			dev.Problem = strings.Join(p, ",")
		}
		st := s.calc.UpdateWithDevice(members, dev, now)
		got := "inquorate"
		if st.Quorate {
			got = "quorate"
		}
		if st.Pending {
			got = "undecided"
		}
		got += " votes=" + strconv.Itoa(st.Votes) + " expected=" + strconv.Itoa(st.Expected) + " needed=" + strconv.Itoa(st.Needed)
		if s.calc.DeviceVotes() > 0 {
			got += " device=" + strconv.Itoa(st.DeviceVotes) + " (" + st.Reason + ")"
			if st.DeviceProblem != "" {
				got += "\nproblem: " + st.DeviceProblem
			}
		}
		return got
	}
	d.Fatalf(t, "unknown directive %q", d.Cmd)
	return ""
}

// deviceArg applies the device keys shared by config and invalid.
func deviceArg(cfg *Config, key, v string) bool {
	switch key {
	case "device":
		cfg.Device.Model = DeviceModel(v)
	case "algorithm":
		cfg.Device.Algorithm = Algorithm(v)
	case "device_votes":
		cfg.Device.Votes, _ = strconv.Atoi(v)
	default:
		return false
	}
	return true
}

// calcScript is the state of one testdata file: the Calculator of its last
// config command.
type calcScript struct {
	calc *Calculator
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]NoQuorumPolicy{"": PolicyStop, "stop": PolicyStop, "freeze": PolicyFreeze, "ignore": PolicyIgnore, "demote": PolicyDemote, "suicide": PolicySuicide} {
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
	// One meaning per word: what each policy asks of an inquorate partition.
	type meaning struct{ start, stop, demote, selfFence bool }
	for p, want := range map[NoQuorumPolicy]meaning{
		PolicyStop:    {stop: true},
		PolicyFreeze:  {},
		PolicyIgnore:  {start: true},
		PolicyDemote:  {stop: true, demote: true},
		PolicySuicide: {stop: true, selfFence: true},
	} {
		if got := (meaning{p.MayStart(), p.MustStop(), p.Demotes(), p.SelfFences()}); got != want {
			t.Errorf("%s: got %+v, want %+v", p, got, want)
		}
	}
	if len(Policies) != 5 {
		t.Errorf("Policies = %v", Policies)
	}
}
