package arbitration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"palisade/quorum"
)

// TestDecide runs testdata/*.txt (github.com/cockroachdb/datadriven;
// `go test -rewrite` regenerates the expected output, review the diff):
//
//	rules alg=ffsplit|lms nodes=n1:1,n2:1 [tb=n2]
//	decide [holder=V:n1,n2]
//	<node> v=<view> members=<n1,n2> [score=N] [held]     one report per line
//	----
//	winner v5 {n1,n2}: <why>  (or "no winner: <why>", "(unstable)")
//	  v5 {n1,n2} votes=2 score=0 [held] [eligible] [note]   every partition, best first
func TestDecide(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var rules Rules
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "rules":
				rules = Rules{}
				for _, a := range d.CmdArgs {
					v := strings.Join(a.Vals, ",")
					switch a.Key {
					case "alg":
						rules.Algorithm = quorum.Algorithm(v)
					case "nodes":
						for _, nv := range strings.Split(v, ",") {
							n, votes, _ := strings.Cut(nv, ":")
							vv, _ := strconv.Atoi(votes)
							rules.Nodes = append(rules.Nodes, Node{n, vv})
						}
					case "tb":
						rules.TieBreaker = v
					default:
						d.Fatalf(t, "unknown rules key %q", a.Key)
					}
				}
				if err := rules.Validate(); err != nil {
					return "error: " + err.Error()
				}
				return ""
			case "decide":
				var holder Key
				for _, a := range d.CmdArgs {
					if a.Key == "holder" {
						view, members, _ := strings.Cut(strings.Join(a.Vals, ","), ":")
						vv, _ := strconv.ParseUint(view, 10, 64)
						holder = KeyOf(vv, strings.Split(members, ","))
					}
				}
				reports := parseReports(t, d)
				return formatVerdict(Decide(rules, reports, holder))
			}
			d.Fatalf(t, "unknown directive %q", d.Cmd)
			return ""
		})
	})
}

// parseReports reads one report per input line:
// <node> v=<view> members=<a,b> [score=N] [held].
func parseReports(t *testing.T, d *datadriven.TestData) []Report {
	var out []Report
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		r := Report{Node: f[0]}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "v":
				r.View, _ = strconv.ParseUint(v, 10, 64)
			case "members":
				r.Members = strings.Split(v, ",")
			case "score":
				r.Score, _ = strconv.Atoi(v)
			case "held":
				r.Held = true
			default:
				d.Fatalf(t, "bad report field %q", kv)
			}
		}
		out = append(out, r)
	}
	return out
}

func formatVerdict(v Verdict) string {
	var b strings.Builder
	if v.Winner.IsZero() {
		fmt.Fprintf(&b, "no winner: %s", v.Why)
	} else {
		fmt.Fprintf(&b, "winner %s: %s", v.Winner, v.Why)
	}
	if !v.Stable {
		b.WriteString(" (unstable)")
	}
	b.WriteByte('\n')
	for _, p := range v.Partitions {
		fmt.Fprintf(&b, "  %s votes=%d score=%d", p.Key, p.Votes, p.Score)
		if p.Held {
			b.WriteString(" held")
		}
		if p.Eligible {
			b.WriteString(" eligible")
		}
		if p.Note != "" {
			b.WriteString(" (" + p.Note + ")")
		}
		b.WriteByte('\n')
	}
	for _, i := range v.Ignored {
		fmt.Fprintf(&b, "  ignored %s\n", i)
	}
	return b.String()
}

func TestRulesDiff(t *testing.T) {
	a := Rules{Algorithm: quorum.AlgorithmFFSplit, Nodes: []Node{{"n1", 1}, {"n2", 1}}}
	b := a
	b.Nodes = []Node{{"n1", 1}, {"n2", 2}}
	if a.Equal(b) || a.Diff(b) != "nodes n1:1,n2:1, the cluster uses n1:1,n2:2" || !a.Equal(a) || a.Diff(a) != "" {
		t.Fatalf("Equal/Diff: %q", a.Diff(b))
	}
}
