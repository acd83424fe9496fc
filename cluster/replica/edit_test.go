package replica

import (
	"fmt"
	"strings"
	"testing"

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
		{edits: []Edit{{Op: "reboot", Node: "n1"}}, want: `unknown edit "reboot": want standby, online, maintenance, ready, move, ban or clear`},
		// standby keeps the node's other settings; online undoes it.
		{edits: []Edit{{Op: "standby", Node: "n1"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool {
			return len(c.Nodes) == 1 && c.Nodes[0].Standby && c.Nodes[0].Attributes["rack"] == "a"
		}},
		{edits: []Edit{{Op: "standby", Node: "n3"}, {Op: "online", Node: "n3"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool {
			return len(c.Nodes) == 2 && c.Nodes[1].Name == "n3" && !c.Nodes[1].Standby
		}},
		{edits: []Edit{{Op: "online", Node: "n2"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool { return len(c.Nodes) == 1 }},
		{edits: []Edit{{Op: "maintenance", Node: "n1"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool {
			return len(c.Nodes) == 1 && c.Nodes[0].Maintenance && !c.Nodes[0].Standby
		}},
		{edits: []Edit{{Op: "maintenance", Node: "n2"}, {Op: "ready", Node: "n2"}}, want: "keep:web@n1=50", check: func(c *model.Config) bool {
			return len(c.Nodes) == 2 && !c.Nodes[1].Maintenance
		}},
		{edits: []Edit{{Op: "maintenance"}}, want: "maintenance: a node is needed"},
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

// A configuration proposed from a file keeps what operators set with
// edits: cli- constraints the file does not define, standby and
// maintenance of the nodes an operator put there (not those a file set);
// a cli- constraint of a resource the file no longer has cannot be kept.
func TestKeepOperatorState(t *testing.T) {
	running := &model.Config{
		Nodes:     []model.Node{{Name: "n2", Standby: true}, {Name: "n3", Standby: true}, {Name: "n1", Maintenance: true}},
		Resources: []*model.Resource{{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{{ID: "vip"}}}, {ID: "web"}},
		Constraints: model.Constraints{Locations: []model.Location{
			{ID: "cli-prefer-grp", Rsc: "grp", Node: "n1", Score: model.Infinity},
			{ID: "cli-ban-web-on-n2", Rsc: "web", Node: "n2", Score: -model.Infinity},
			{ID: "cli-ban-web-on-n3", Rsc: "web", Node: "n3", Score: -model.Infinity},
			{ID: "file-loc", Rsc: "grp", Node: "n2", Score: 10}}},
	}
	op := OperatorState{Standby: []string{"n2"}, Maintenance: []string{"n1"}}
	file := &model.Config{
		Nodes:     []model.Node{{Name: "n2", Attributes: map[string]string{"rack": "b"}}},
		Resources: []*model.Resource{{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{{ID: "vip"}}}, {ID: "web"}},
		Constraints: model.Constraints{Locations: []model.Location{
			{ID: "cli-ban-web-on-n3", Rsc: "web", Node: "n1", Score: -model.Infinity}}},
	}
	out, kept, dropped := KeepOperatorState(file, running, op)
	wantKept := []string{"location cli-prefer-grp (grp on n1 at INFINITY)", "location cli-ban-web-on-n2 (web on n2 at -INFINITY)", "standby n2", "maintenance n1"}
	if strings.Join(kept, "|") != strings.Join(wantKept, "|") || len(dropped) != 0 {
		t.Errorf("kept %q dropped %q, want kept %q", kept, dropped, wantKept)
	}
	if len(file.Constraints.Locations) != 1 || len(file.Nodes) != 1 || file.Nodes[0].Standby {
		t.Errorf("the proposed configuration was modified: %+v", file)
	}
	var names []string
	for _, n := range out.Nodes {
		names = append(names, fmt.Sprintf("%s:%v:%v:%s", n.Name, n.Standby, n.Maintenance, n.Attributes["rack"]))
	}
	// n3 was in standby by a file (not an operator edit): the new file decides.
	if got := strings.Join(names, " "); got != "n2:true:false:b n1:false:true:" {
		t.Errorf("nodes %s", got)
	}
	if err := out.Validate(); err != nil {
		t.Errorf("result invalid: %v", err)
	}
	// The file no longer has web: its ban cannot be kept.
	file.Resources = file.Resources[:1]
	file.Constraints.Locations = nil
	_, kept, dropped = KeepOperatorState(file, running, op)
	if len(dropped) != 2 || !strings.Contains(dropped[0], `cli-ban-web-on-n2 (web on n2 at -INFINITY: unknown resource "web"`) {
		t.Errorf("dropped %q (kept %q)", dropped, kept)
	}
}
