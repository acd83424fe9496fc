package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/quorum"
	"palisade/resources/model"
)

// deviceCommand runs the quorum-device commands of the scenario files
// (testdata/device_*.txt); it reports false for a command it does not
// know:
//
//	split ID M... | ID M...    a network split: each group gets its view
//	device MODEL [POLICY]      rebuild every engine with a quorum device
//	                           (arbiter: ffsplit, 1 vote; disk: lms) and
//	                           quorum.no_quorum_policy POLICY
//	vote NODE VERDICT [view ID MEMBERS...] [until DURATION] [problem TEXT...]
//	                           feed NODE the device's verdict (voting,
//	                           pending or no) about its current view, or
//	                           about the view given
//	quorum NODE                print NODE's quorum verdict
//	attr NODE NAME VALUE       set a transient attribute on NODE
//	attrs                      print the attributes the DC's status holds
func (s *sim) deviceCommand(f []string, got *[]string) bool {
	switch f[0] {
	case "device":
		policy := quorum.NoQuorumPolicy("")
		if len(f) > 2 {
			policy = quorum.NoQuorumPolicy(f[2])
		}
		names := s.names()
		for _, n := range names {
			old := s.nodes[n]
			s.nodes[n] = deviceEngine(s.t, n, names, quorum.DeviceModel(f[1]), policy, old.c.Scheduler(), old.c.CIB())
		}
	case "split":
		// split ID MEMBERS... | ID MEMBERS...: each group gets its own
		// view; every node stays up (a network split, not a crash).
		for _, g := range strings.Split(strings.Join(f[1:], " "), "|") {
			gf := strings.Fields(g)
			var id uint64
			fmt.Sscan(gf[0], &id)
			for _, m := range gf[1:] {
				s.nodes[m].SetView(dcmsg.SimpleView(id, gf[1:]...), s.now)
			}
		}
		s.pump()
	case "vote":
		n := s.nodes[f[1]]
		v := quorum.ViewVote{View: n.c.View(), Members: n.c.Members()}
		switch f[2] {
		case "voting":
			v.Voting, v.Until = true, s.now+time.Hour
		case "pending":
			v.Pending = true
		case "no":
		default:
			s.t.Fatalf("vote %s: want voting, pending or no", f[2])
		}
		for i := 3; i < len(f); i++ {
			switch f[i] {
			case "view":
				fmt.Sscan(f[i+1], &v.View)
				v.Members = nil
				for i += 2; i < len(f) && f[i] != "until" && f[i] != "problem"; i++ {
					v.Members = append(v.Members, f[i])
				}
				i--
			case "until":
				d, err := time.ParseDuration(f[i+1])
				if err != nil {
					s.t.Fatal(err)
				}
				v.Until = d
				i++
			case "problem":
				v.Problem = strings.Join(f[i+1:], " ")
				i = len(f)
			}
		}
		n.SetDeviceVote(v, s.now)
		s.pump()
	case "quorum":
		c := s.nodes[f[1]].Coordinator()
		q := c.Quorum()
		state := "inquorate"
		switch {
		case c.Pending():
			state = "undecided"
		case c.Quorate():
			state = "quorate"
		}
		line := fmt.Sprintf("%s: %s votes=%d/%d needed=%d device_votes=%d (%s)", f[1], state, q.Votes, q.Expected, q.Needed, q.DeviceVotes, q.Reason)
		if q.DeviceProblem != "" {
			line += "; device: " + q.DeviceProblem
		}
		*got = append(*got, line)
	case "attr":
		s.nodes[f[1]].SetAttribute(f[2], f[3], s.now)
		s.pump()
	case "attrs":
		for _, n := range s.names() {
			e := s.nodes[n]
			if !e.c.IsDC() {
				continue
			}
			for _, ns := range e.Snapshot().Status.Nodes {
				if len(ns.Attributes) > 0 {
					var kv []string
					for _, k := range slices.Sorted(maps.Keys(ns.Attributes)) {
						kv = append(kv, k+"="+ns.Attributes[k])
					}
					*got = append(*got, fmt.Sprintf("DC %s sees %s %s", n, ns.Name, strings.Join(kv, " ")))
				}
			}
		}
	default:
		return false
	}
	return true
}

func deviceEngine(t *testing.T, n string, names []string, model quorum.DeviceModel, policy quorum.NoQuorumPolicy, sched dc.Scheduler, cib *replica.CIB) *Engine {
	votes := map[string]int{}
	for _, n := range names {
		votes[n] = 1
	}
	q, err := quorum.New(quorum.Config{Nodes: votes, Device: quorum.Device{Model: model}})
	if err != nil {
		t.Fatal(err)
	}
	gp := policy
	if gp == "" {
		gp = quorum.PolicyStop
	}
	return New(Config{Executor: true, Coordinator: dc.Config{Self: n, Nodes: names, Quorum: q,
		Gate:     recovery.New(recovery.Config{Self: n, Nodes: names, NoQuorumPolicy: gp}),
		Schedule: sched, Wall: func() time.Time { return time.Unix(0, 0) }, CIB: cib, NoQuorumPolicy: policy}})
}

// TestDeviceVoteLease: a vote counts until its lease ends on the engine's
// own clock, even if no new verdict comes; a verdict about another view
// never counts.
func TestDeviceVoteLease(t *testing.T) {
	names := []string{"n1", "n2"}
	e := deviceEngine(t, "n1", names, quorum.DeviceArbiter, "", nil, &replica.CIB{})
	e.SetView(dcmsg.SimpleView(3, "n1"), 0)
	if c := e.Coordinator(); c.Quorate() || !c.Pending() {
		t.Fatalf("a new view without a verdict: quorate=%v pending=%v, want undecided", c.Quorate(), c.Pending())
	}
	e.SetDeviceVote(quorum.ViewVote{View: 2, Members: []string{"n1"}, DeviceVote: quorum.DeviceVote{Voting: true}, Until: time.Hour}, time.Second)
	if c := e.Coordinator(); c.Quorate() || !c.Pending() {
		t.Fatalf("a vote for another view counted: quorate=%v pending=%v", c.Quorate(), c.Pending())
	}
	e.SetDeviceVote(quorum.ViewVote{View: 3, Members: []string{"n1"}, DeviceVote: quorum.DeviceVote{Voting: true}, Until: 5 * time.Second}, 2*time.Second)
	if c := e.Coordinator(); !c.Quorate() || c.Quorum().DeviceVotes != 1 {
		t.Fatalf("the device's vote for this view did not count: %+v", c.Quorum())
	}
	e.Tick(4999 * time.Millisecond)
	if !e.Coordinator().Quorate() {
		t.Fatal("the vote stopped counting before its lease ended")
	}
	e.Tick(5 * time.Second)
	if c := e.Coordinator(); c.Quorate() || c.Pending() {
		t.Fatalf("the vote outlived its lease: quorate=%v pending=%v", c.Quorate(), c.Pending())
	}
	var logged []string
	for _, l := range e.Ready().Log {
		if l.Event == dc.EventQuorumDevice {
			logged = append(logged, l.Detail)
		}
	}
	if len(logged) != 3 || !strings.HasPrefix(logged[0], "undecided") || !strings.HasPrefix(logged[1], "quorate") || !strings.HasPrefix(logged[2], "inquorate") {
		t.Fatalf("quorum_device log entries: %q", logged)
	}
}

// TestPolicyForScheduler: the quorum section's policy reaches the
// scheduler (suicide as stop), without touching the shared replica.
func TestPolicyForScheduler(t *testing.T) {
	cfg := &model.Config{Options: model.Options{NoQuorumPolicy: "freeze"}}
	for _, tc := range []struct {
		policy quorum.NoQuorumPolicy
		want   string
	}{{"", "freeze"}, {quorum.PolicyDemote, "demote"}, {quorum.PolicySuicide, "stop"}, {quorum.PolicyIgnore, "ignore"}} {
		if got := dc.WithPolicy(cfg, tc.policy).Options.NoQuorumPolicy; got != tc.want {
			t.Errorf("policy %q: the scheduler gets %q, want %q", tc.policy, got, tc.want)
		}
	}
	if cfg.Options.NoQuorumPolicy != "freeze" {
		t.Fatalf("the replica's options were changed: %q", cfg.Options.NoQuorumPolicy)
	}
}

// TestPolicyDemoteReachesScheduler: quorum.no_quorum_policy demote (the
// resources' option says stop) makes an inquorate DC demote a promoted
// instance and keep it running, and stop the rest; stop (and suicide, for
// the scheduler) demotes and stops it.
func TestPolicyDemoteReachesScheduler(t *testing.T) {
	cfg := &model.Config{Options: model.Options{NoQuorumPolicy: "stop"}, Resources: []*model.Resource{
		{ID: "db-clone", Kind: model.KindClone, Meta: map[string]string{"promotable": "true", "promoted-max": "1", "clone-max": "1"},
			Members: []*model.Resource{{ID: "db", Class: "ocf", Provider: "pacemaker", Type: "Stateful"}}},
		{ID: "web", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}}
	st := model.Status{NoQuorum: true, Nodes: []model.NodeState{{Name: "n1", State: model.NodeOnline}},
		Resources: []model.ResourceStatus{{Rsc: "db", Node: "n1", Role: model.RolePromoted}, {Rsc: "web", Node: "n1"}}}
	for _, tc := range []struct {
		policy quorum.NoQuorumPolicy
		want   []string
	}{
		{quorum.PolicyDemote, []string{"demote db:0", "stop web"}},
		{quorum.PolicyStop, []string{"demote db:0", "stop db:0", "stop web"}},
		{quorum.PolicySuicide, []string{"demote db:0", "stop db:0", "stop web"}},
	} {
		plan, err := PackageScheduler(dc.WithPolicy(cfg, tc.policy), st, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range plan {
			if a.Op != "monitor" {
				got = append(got, a.Op+" "+a.Resource)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("no_quorum_policy %s: plan %v, want %v", tc.policy, got, tc.want)
		}
	}
}
