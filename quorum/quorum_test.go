package quorum

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScenarios runs testdata/*.txt. Each file has lines:
//
//	config nodes=n1:1,n2:1 [two_node] [wait_for_all=false] [expected=N] [lms=WINDOW] [atb=NODE]
//	at <duration> members <n1,n2|-> => <quorate|inquorate> votes=N expected=N needed=N
//
// A "config" line starts a new Calculator; "#" starts a comment.
func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runFile(t, f) })
	}
}

func runFile(t *testing.T, path string) {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var calc *Calculator
	sc := bufio.NewScanner(fh)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "config":
			cfg := Config{Nodes: map[string]int{}}
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "nodes":
					for _, nv := range strings.Split(v, ",") {
						n, votes, _ := strings.Cut(nv, ":")
						cfg.Nodes[n], _ = strconv.Atoi(votes)
					}
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
					t.Fatalf("%s:%d: unknown config key %q", path, ln, k)
				}
			}
			if calc, err = New(cfg); err != nil {
				t.Fatalf("%s:%d: %v", path, ln, err)
			}
		case "invalid":
			cfg := Config{Nodes: map[string]int{}}
			for _, nv := range strings.Split(f[1], ",") {
				n, votes, _ := strings.Cut(nv, ":")
				cfg.Nodes[n], _ = strconv.Atoi(votes)
			}
			cfg.TwoNode = len(f) > 2 && f[2] == "two_node"
			if _, err := New(cfg); err == nil {
				t.Errorf("%s:%d: want an error for %q", path, ln, line)
			}
		case "at":
			now, err := time.ParseDuration(f[1])
			if err != nil || len(f) < 5 || f[2] != "members" || f[4] != "=>" {
				t.Fatalf("%s:%d: want 'at D members LIST => ...'", path, ln)
			}
			var members []string
			if f[3] != "-" {
				members = strings.Split(f[3], ",")
			}
			st := calc.Update(members, now)
			got := "inquorate"
			if st.Quorate {
				got = "quorate"
			}
			got += " votes=" + strconv.Itoa(st.Votes) + " expected=" + strconv.Itoa(st.Expected) + " needed=" + strconv.Itoa(st.Needed)
			want := strings.Join(f[5:], " ")
			if got != want {
				t.Errorf("%s:%d: got %q (%s), want %q", path, ln, got, st.Reason, want)
			}
		default:
			t.Fatalf("%s:%d: unknown directive %q", path, ln, f[0])
		}
	}
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
