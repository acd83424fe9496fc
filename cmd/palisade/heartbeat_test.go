package main

import (
	"strings"
	"testing"

	"palisade/cluster/api"
	"palisade/resources/model"
)

// The haresources of hb_standby(1)'s manual: alice prefers the groups
// data, bob ldap; a clone runs everywhere.
func hbConfig() *model.Config {
	return &model.Config{
		Resources: []*model.Resource{
			{ID: "data", Kind: model.KindGroup, Members: []*model.Resource{{ID: "fs1"}, {ID: "smb"}}},
			{ID: "ldap", Kind: model.KindGroup, Members: []*model.Resource{{ID: "fs2"}, {ID: "slapd"}}},
			{ID: "spare"},
			{ID: "ping-clone", Kind: model.KindClone, Members: []*model.Resource{{ID: "ping"}}},
		},
		Constraints: model.Constraints{Locations: []model.Location{
			{ID: "data-pref", Rsc: "data", Node: "alice", Score: 100},
			{ID: "ldap-pref", Rsc: "ldap", Node: "bob", Score: 100},
			{ID: "ldap-low", Rsc: "ldap", Node: "alice", Score: 10},
			// An operator's move is not a preference.
			{ID: "cli-prefer-spare", Rsc: "spare", Node: "alice", Score: model.Infinity},
		}},
	}
}

func edits(es []api.Edit) string {
	var w []string
	for _, e := range es {
		w = append(w, e.String())
	}
	return strings.Join(w, ", ")
}

func TestHeartbeatEdits(t *testing.T) {
	running := func(where map[string]string) model.Status {
		var st model.Status
		for r, n := range where {
			st.Resources = append(st.Resources, model.ResourceStatus{Rsc: r, Node: n})
		}
		return st
	}
	normal := running(map[string]string{"fs1": "alice", "smb": "alice", "fs2": "bob", "slapd": "bob", "spare": "alice", "ping": "alice"})
	swapped := running(map[string]string{"fs1": "bob", "smb": "bob", "fs2": "alice", "slapd": "alice", "spare": "bob"})
	for _, c := range []struct {
		verb, mode, self string
		st               model.Status
		standby          []string
		want             string
	}{
		{"standby", "all", "alice", normal, nil, "standby alice"},
		{"standby", "all", "alice", normal, []string{"alice"}, ""},
		// local: what alice is preferred for, and runs, leaves her.
		{"standby", "local", "alice", normal, nil, "clear data, ban data alice"},
		{"standby", "local", "bob", normal, nil, "clear ldap, ban ldap bob"},
		// foreign/failback: what alice runs but is not preferred for.
		{"standby", "foreign", "alice", normal, nil, "clear spare, ban spare alice"},
		{"standby", "failback", "alice", swapped, nil, "clear ldap, ban ldap alice"},
		{"standby", "local", "alice", swapped, nil, ""},
		// takeover local: what alice is preferred for comes to her.
		{"takeover", "local", "alice", swapped, nil, "clear data, move data alice"},
		{"takeover", "local", "alice", normal, nil, ""},
		{"takeover", "foreign", "alice", normal, nil, "clear ldap, move ldap alice"},
		{"takeover", "all", "bob", normal, nil, "clear data, move data bob, clear spare, move spare bob"},
		// A node in standby leaves it first.
		{"takeover", "all", "alice", swapped, []string{"alice"}, "online alice, clear data, move data alice, clear spare, move spare alice"},
		{"takeover", "local", "bob", normal, []string{"bob"}, "online bob"},
	} {
		got, notes := heartbeatEdits(c.verb, c.mode, c.self, hbConfig(), c.st, c.standby)
		if edits(got) != c.want {
			t.Errorf("%s %s on %s: %q, want %q (notes %v)", c.verb, c.mode, c.self, edits(got), c.want, notes)
		}
		if c.mode != "all" && !strings.Contains(strings.Join(notes, ";"), "ping-clone: a clone, left alone") {
			t.Errorf("%s %s: the clone is not reported as left alone: %v", c.verb, c.mode, notes)
		}
	}
}

func TestFailCounts(t *testing.T) {
	d := &api.DCStatus{
		Resources: []api.Resource{{ID: "grp", Kind: "group", Members: []api.Resource{{ID: "vip", Kind: "primitive"}, {ID: "db", Kind: "primitive"}}},
			{ID: "c", Kind: "clone", Members: []api.Resource{{ID: "q", Kind: "primitive"}}}},
		Status: model.Status{Failures: []model.Failure{{Rsc: "db", Node: "n1", Op: "monitor", Count: 2}, {Rsc: "q:1", Node: "n2", Op: "start", Count: model.Infinity},
			{Rsc: "vip", Node: "n2", Op: "monitor", Count: 0}}},
	}
	for _, c := range []struct {
		rsc, node string
		want      int
	}{{"", "", 2}, {"grp", "", 1}, {"c", "", 1}, {"q", "n2", 1}, {"db", "n2", 0}, {"vip", "", 0}} {
		fs, err := failCounts(d, c.rsc, c.node)
		if err != nil || len(fs) != c.want {
			t.Errorf("failCounts(%q, %q) = %v, %v; want %d", c.rsc, c.node, fs, err, c.want)
		}
	}
	if _, err := failCounts(d, "nope", ""); err == nil || !strings.Contains(err.Error(), "resources: grp, c") {
		t.Errorf("unknown resource: %v", err)
	}
	var b strings.Builder
	fs, _ := failCounts(d, "", "")
	printFailCounts(&b, fs)
	if !strings.Contains(b.String(), "q:1       n2    start      INFINITY") {
		t.Errorf("table:\n%s", b.String())
	}
}
