package dc

import (
	"context"
	"strings"
	"testing"
	"time"

	"palisade/resources/model"
)

func TestApplyEdit(t *testing.T) {
	nodes := []string{"n1", "n2", "n3"}
	base := func() *model.Config {
		return &model.Config{
			Nodes: []model.Node{{Name: "n1", Attributes: map[string]string{"rack": "a"}}},
			Resources: []*model.Resource{{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{{ID: "vip"}, {ID: "db"}}},
				{ID: "web"}},
			Constraints: model.Constraints{Locations: []model.Location{{ID: "keep", Rsc: "web", Node: "n1", Score: 50}}},
		}
	}
	locs := func(c *model.Config) string {
		var out []string
		for _, l := range c.Constraints.Locations {
			out = append(out, l.ID+":"+l.Rsc+"@"+l.Node+"="+l.Score.String())
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		edits []Edit
		want  string // locations, or the error
		check func(*model.Config) bool
	}{
		{edits: []Edit{{Op: "move", Resource: "grp", Node: "n2"}}, want: "keep:web@n1=50 cli-prefer-grp:grp@n2=INFINITY"},
		// A second move replaces the first.
		{edits: []Edit{{Op: "move", Resource: "grp", Node: "n2"}, {Op: "move", Resource: "grp", Node: "n3"}}, want: "keep:web@n1=50 cli-prefer-grp:grp@n3=INFINITY"},
		{edits: []Edit{{Op: "ban", Resource: "web", Node: "n1"}, {Op: "ban", Resource: "web", Node: "n2"}, {Op: "ban", Resource: "web", Node: "n1"}},
			want: "keep:web@n1=50 cli-ban-web-on-n2:web@n2=-INFINITY cli-ban-web-on-n1:web@n1=-INFINITY"},
		// clear removes only the CLI constraints of that resource.
		{edits: []Edit{{Op: "move", Resource: "web", Node: "n2"}, {Op: "ban", Resource: "web", Node: "n3"}, {Op: "move", Resource: "grp", Node: "n2"}, {Op: "clear", Resource: "web"}},
			want: "keep:web@n1=50 cli-prefer-grp:grp@n2=INFINITY"},
		{edits: []Edit{{Op: "move", Resource: "db", Node: "n2"}}, want: "move: db is a member of grp: move, ban or clear grp instead"},
		{edits: []Edit{{Op: "move", Resource: "nope", Node: "n2"}}, want: `move: unknown resource "nope" (resources: grp, web)`},
		{edits: []Edit{{Op: "move", Resource: "web", Node: "n9"}}, want: `move: unknown node "n9" (cluster nodes: n1, n2, n3)`},
		{edits: []Edit{{Op: "ban", Resource: "web"}}, want: "ban: a node is needed"},
		{edits: []Edit{{Op: "reboot", Node: "n1"}}, want: `unknown edit "reboot": want standby, online, move, ban or clear`},
		// standby keeps the node's other settings; online undoes it.
		{edits: []Edit{{Op: "standby", Node: "n1"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool {
			return len(c.Nodes) == 1 && c.Nodes[0].Standby && c.Nodes[0].Attributes["rack"] == "a"
		}},
		{edits: []Edit{{Op: "standby", Node: "n3"}, {Op: "online", Node: "n3"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool {
			return len(c.Nodes) == 2 && c.Nodes[1].Name == "n3" && !c.Nodes[1].Standby
		}},
		{edits: []Edit{{Op: "online", Node: "n2"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool { return len(c.Nodes) == 1 }},
	} {
		c := base()
		var err error
		for _, e := range tc.edits {
			if err = ApplyEdit(c, e, nodes); err != nil {
				break
			}
		}
		got := locs(c)
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.edits, got, tc.want)
		}
		if tc.check != nil && !tc.check(c) {
			t.Errorf("%v: nodes %+v", tc.edits, c.Nodes)
		}
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Errorf("%v: the edit made an invalid configuration: %v", tc.edits, verr)
			}
		}
	}
}

// Edits run through the DC like a push: move, standby and clear take the
// resource where they say, and a proposal made on an outdated version is
// refused as a conflict instead of undoing the newer one.
func TestRuntimeEditConfig(t *testing.T) {
	fc := startFailCluster(t, nil, "")
	waitFor(t, func() bool { return fc.runs("n2") }, "db on n2, the node it prefers")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	edit := func(on string, e Edit) ConfigResult {
		t.Helper()
		res, err := fc.rts[on].EditConfig(ctx, e)
		if err != nil {
			t.Fatalf("%s on %s: %v", e, on, err)
		}
		return res
	}
	if res := edit("n3", Edit{Op: EditMove, Resource: "db", Node: "n3", By: "tester"}); !res.Accepted {
		t.Fatalf("move: %+v", res)
	}
	waitFor(t, func() bool { return fc.runs("n3") && !fc.runs("n2") }, "db moved to n3")
	edit("n3", Edit{Op: EditStandby}) // no node: this one, as hb_standby
	waitFor(t, func() bool { return fc.runs("n2") && !fc.runs("n3") }, "db left n3 for standby")
	if sb := fc.rts["n1"].Snapshot().Standby; len(sb) != 1 || sb[0] != "n3" {
		t.Fatalf("standby nodes: %v", sb)
	}
	edit("n2", Edit{Op: EditOnline, Node: "n3"})
	waitFor(t, func() bool { return fc.runs("n3") }, "db back on n3 (the move still holds)")
	edit("n2", Edit{Op: EditClear, Resource: "db"})
	waitFor(t, func() bool { return fc.runs("n2") && !fc.runs("n3") }, "db back on n2 after clear (stickiness 0)")
	if res := edit("n2", Edit{Op: EditClear, Resource: "db"}); !res.Unchanged {
		t.Errorf("a second clear changed something: %+v", res)
	}

	ci, _ := fc.rts["n1"].ConfigInfo(ctx)
	res, err := fc.rts["n1"].PushConfig(ctx, PushRequest{Config: ci.Config, BaseDigest: "0123stale"})
	if err == nil || !res.Conflict || !strings.Contains(err.Error(), "changed while this change was prepared") {
		t.Fatalf("stale base: %+v %v", res, err)
	}
}
