package quorum

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func decodeString(t testing.TB, s string) (*Section, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		return nil, err
	}
	return Decode("cluster.yaml", &n, []string{"n1", "n2"})
}

func TestDecode(t *testing.T) {
	s, err := decodeString(t, "two_node: true\nno_quorum_policy: freeze\nvotes: {n1: 1}\n")
	if err != nil || !s.Config.TwoNode || s.Policy != PolicyFreeze || !s.PolicySet {
		t.Fatalf("got %+v, %v", s, err)
	}
	// Every problem at once, in the configuration's one wording.
	_, err = decodeString(t, "two_nodes: true\nvotes: {n9: 1}\nno_quorum_policy: panic\nwait_for_all: maybe\n")
	want := "cluster.yaml:1: quorum.two_nodes: unknown key, valid keys here: auto_tie_breaker, auto_tie_breaker_node, device, expected_votes, heuristics, " +
		"last_man_standing, last_man_standing_window, no_quorum_policy, two_node, votes, wait_for_all, watchdog\n" +
		"cluster.yaml:2: quorum.votes.n9: not a configured node (nodes: n1, n2)\n" +
		"cluster.yaml:3: quorum.no_quorum_policy: \"panic\": want one of stop, freeze, ignore, demote, suicide\n" +
		"cluster.yaml:4: quorum.wait_for_all: \"maybe\": want true or false"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	// The quorum arithmetic's own refusal comes at the section's line.
	if _, err := decodeString(t, "\ntwo_node: true\nvotes: {n1: 2}\n"); err == nil || !strings.HasPrefix(err.Error(), "cluster.yaml:2: quorum: ") {
		t.Errorf("New's refusal: %v", err)
	}
	if s, err := decodeString(t, "auto_tie_breaker: true\n"); err != nil || s.Config.TieBreaker != "n1" {
		t.Fatalf("auto_tie_breaker default node: %+v %v", s, err)
	}
	if _, err := decodeString(t, "auto_tie_breaker: true\nauto_tie_breaker_node: n7\n"); err == nil || !strings.Contains(err.Error(), "n7") {
		t.Fatalf("unknown tie-breaker accepted: %v", err)
	}
	if s, err := Decode("x", nil, []string{"a", "b", "c"}); err != nil || s.Config.Nodes["c"] != 1 {
		t.Fatalf("defaults: %+v %v", s, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("two_node: true\n")
	f.Add("votes: {n1: 3, n2: 0}\nexpected_votes: 2\nlast_man_standing_window: 1s\n")
	f.Add(arbiterYAML)
	f.Add("device:\n  model: disk\n  algorithm: ffsplit\n  votes: 2\n  disk: {paths: [/dev/a, /dev/b, /dev/c], evict: false}\n")
	f.Add("no_quorum_policy: suicide\nwatchdog: {device: \"stand-in:/tmp/wd\", timeout: 3s}\n")
	f.Add("heuristics:\n  interval: 500ms\n  timeout: 1s\n  ping_groups: [{name: g, addresses: [\"::1\", 127.0.0.1], weight: 5}]\n")
	f.Fuzz(func(t *testing.T, s string) {
		sec, err := decodeString(t, s)
		// Errors are part of the operator interface: the same file must
		// always give the same text (no map-order output).
		if _, err2 := decodeString(t, s); fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("two decodes, two results:\n%v\n%v", err, err2)
		}
		if err == nil {
			if _, err := New(sec.Config); err != nil {
				t.Fatalf("Decode accepted a config New refuses: %v", err)
			}
		}
	})
}
