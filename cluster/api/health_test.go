package api

import (
	"strings"
	"testing"
)

func TestAssess(t *testing.T) {
	healthy := func() Status {
		return Status{
			View: ViewStatus{ID: 4, Agreed: true},
			Nodes: []NodeStatus{{NodeRef: NodeRef{Name: "n1"}, Self: true, State: "up"},
				{NodeRef: NodeRef{Name: "n2"}, State: "up", Links: []LinkStatus{{Name: "ring0", State: "up"}, {Name: "ring1", State: "up"}}}},
			DC: &DCStatus{DC: "n1", Quorate: true,
				NodeStates: []ClusterNode{{Name: "n1", State: NodeOnline}, {Name: "n2", State: NodeOnline}},
				Resources: []Resource{{ID: "grp", Kind: "group", State: "Started", Members: []Resource{
					{ID: "vip", Kind: "primitive", State: "Started", Instances: []Instance{{Node: "n1", Role: "Started"}}}}}}},
		}
	}
	for _, c := range []struct {
		name     string
		change   func(*Status)
		state    string
		problem  string
		warning  string
		problems int
	}{
		{name: "healthy", change: func(*Status) {}, state: Healthy},
		{name: "forming", change: func(s *Status) { s.View.ID = 0 }, state: Degraded, problem: "still forming"},
		{name: "no quorum", change: func(s *Status) {
			s.DC.Quorate = false
			s.DC.Quorum = &QuorumStatus{Reason: "no majority"}
		}, state: Degraded, problem: "no quorum (no majority)"},
		{name: "unclean", change: func(s *Status) {
			s.DC.NodeStates[1].State = NodeUnclean
			s.DC.FenceOps = []FenceOp{{Target: "n2", State: FencePending, Reason: "node lost"}}
		}, state: Degraded, problem: "node n2 is UNCLEAN", problems: 2},
		{name: "fence failing", change: func(s *Status) {
			s.DC.FenceOps = []FenceOp{{Target: "n2", State: FenceFailed, Attempts: 3, Failures: 3}}
		}, state: Degraded, problem: "fencing of n2 is failing (3 of 3 attempts failed)"},
		{name: "failed resource", change: func(s *Status) {
			s.DC.Resources[0].Members[0].Instances[0].Failed = true
		}, state: Degraded, problem: "resource vip FAILED on n1"},
		{name: "fail count", change: func(s *Status) {
			s.DC.Resources[0].Members[0].FailCounts = []FailCount{{Node: "n2", Op: "start", Count: 1000000}}
		}, state: Degraded, problem: "fail count INFINITY on n2 (start)"},
		{name: "stopped", change: func(s *Status) {
			s.DC.Resources[0].Members[0].State, s.DC.Resources[0].Members[0].Instances = RoleStopped, nil
		}, state: Degraded, problem: "resource vip is stopped"},
		{name: "stopped on purpose", change: func(s *Status) {
			m := &s.DC.Resources[0].Members[0]
			m.State, m.Instances, m.TargetRole = RoleStopped, nil, RoleStopped
		}, state: Healthy},
		{name: "unclean instance", change: func(s *Status) {
			s.DC.Resources[0].Members[0].Instances[0].Unclean = true
		}, state: Degraded, problem: "may still run on unclean node n1"},
		{name: "standby and fenced are warnings", change: func(s *Status) {
			s.DC.NodeStates[1].State = NodeStandby
			s.DC.NodeStates = append(s.DC.NodeStates, ClusterNode{Name: "n3", State: NodeFenced})
		}, state: Healthy, warning: "node n3 is fenced"},
		{name: "dead redundant link", change: func(s *Status) { s.Nodes[1].Links[1].State = "dead" }, state: Healthy, warning: "link ring1 to n2 is down"},
		{name: "no DC layer", change: func(s *Status) { s.DC = nil }, state: Degraded, problem: "no DC layer"},
		{name: "device problem", change: func(s *Status) {
			s.DC.Quorum = &QuorumStatus{Sources: []QuorumSource{{Name: "arbiter", Kind: SourceDevice, State: "not voting", Detail: "unreachable"}}}
		}, state: Healthy, warning: "quorum device arbiter (not voting): unreachable"},
	} {
		s := healthy()
		c.change(&s)
		h := s.Assess()
		if h.State != c.state {
			t.Errorf("%s: state %s, want %s (%+v)", c.name, h.State, c.state, h)
		}
		if c.problem != "" && !strings.Contains(strings.Join(h.Problems, "\n"), c.problem) {
			t.Errorf("%s: problems %q lack %q", c.name, h.Problems, c.problem)
		}
		if c.warning != "" && !strings.Contains(strings.Join(h.Warnings, "\n"), c.warning) {
			t.Errorf("%s: warnings %q lack %q", c.name, h.Warnings, c.warning)
		}
		if c.problems > 0 && len(h.Problems) != c.problems {
			t.Errorf("%s: %d problems, want %d: %q", c.name, len(h.Problems), c.problems, h.Problems)
		}
		if c.state == Healthy && len(h.Problems) > 0 {
			t.Errorf("%s: healthy with problems %q", c.name, h.Problems)
		}
	}
}

func TestAccessTable(t *testing.T) {
	for cmd, ci := range Commands {
		if ci.By && ci.Access != Change {
			t.Errorf("%s records who changed something but is declared read-only", cmd)
		}
	}
	for _, cmd := range []string{CmdStatus, CmdFenceHistory, CmdConfigShow, CmdSchedulerInput} {
		if AccessOf(cmd).Access != Read {
			t.Errorf("%s must be readable by the read group", cmd)
		}
	}
	for _, cmd := range []string{CmdFenceConfirm, CmdConfigPush, CmdConfigEdit, CmdConfigEdits, CmdResourceCleanup, "some-future-command"} {
		if AccessOf(cmd).Access != Change {
			t.Errorf("%s must need the admin group", cmd)
		}
	}
}
