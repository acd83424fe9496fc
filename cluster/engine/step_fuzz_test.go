package engine

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/dcmsg"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/fence"
	"palisade/fence/topology"
	"palisade/quorum"
	"palisade/resources/model"
)

// TestInvalidCIBFromDCRefused: a replica whose configuration does not
// validate (a constraint naming a resource that does not exist) is refused
// by the member, which keeps running its own copy and says why.
func TestInvalidCIBFromDCRefused(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.view(1, "n1", "n2", "n3")
	before := s.nodes["n2"].c.CIB()
	bad := &replica.CIB{Version: replica.Version{AdminEpoch: 9, Epoch: 9}, Config: &model.Config{
		Resources:   []*model.Resource{{ID: "vip", Class: "palisade", Type: "vip"}},
		Constraints: model.Constraints{Locations: []model.Location{{ID: "l", Rsc: "web", Node: "n2"}}}}}
	s.nodes["n2"].c.Step(dcmsg.Message{Kind: dcmsg.KindCIB, From: "n1", View: 1, CIB: bad}, s.now)
	if got := s.nodes["n2"].c.CIB(); got != before {
		t.Fatalf("member adopted an invalid CIB: %v", got.Version)
	}
	errs := s.nodes["n2"].Ready().Errors
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `unknown resource "web"`) || !strings.Contains(errs[0].Error(), "refused") {
		t.Fatalf("errors %v, want one naming the unknown resource", errs)
	}

	// The same copy offered at join (a node's status) is refused by the DC.
	dcBefore := s.nodes["n1"].c.CIB()
	s.setView("n1", 2, "n1", "n2", "n3")
	s.nodes["n1"].c.Step(dcmsg.Message{Kind: dcmsg.KindStatus, From: "n2", View: 2, Status: &dcmsg.NodeStatus{Node: "n2", CIB: bad}}, s.now)
	if got := s.nodes["n1"].c.CIB(); got.Version != dcBefore.Version {
		t.Fatalf("DC adopted an invalid CIB at join: %v", got.Version)
	}
}

// FuzzStep feeds whatever a peer could send, once decoded, into a formed
// three-node cluster running the real scheduler: messages as the DC (n1)
// to a member, and as a member (n2) to the DC. No input may panic, and
// whatever replica a node ends up with must still validate.
func FuzzStep(f *testing.F) {
	for _, m := range []dcmsg.Message{
		{Kind: dcmsg.KindCIB, From: "n1", View: 1, CIB: &replica.CIB{Version: replica.Version{Epoch: 5}, Config: &model.Config{
			Resources: []*model.Resource{{ID: "a", Class: "ocf", Provider: "heartbeat", Type: "Dummy"},
				{ID: "c", Kind: model.KindClone, Members: []*model.Resource{{ID: "p", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}}},
			Constraints: model.Constraints{Colocations: []model.Colocation{{ID: "co", Rsc: "a", With: "c", Score: model.Infinity}}}}}},
		{Kind: dcmsg.KindStatus, From: "n2", View: 1, Status: &dcmsg.NodeStatus{Node: "n2", Resources: []model.ResourceStatus{{Rsc: "vip", Node: "n2"}, {Rsc: "nope", Node: "n7"}},
			Failures: []model.Failure{{Rsc: "dummy", Node: "n2", Op: "monitor", Count: 1000000}}}},
		{Kind: dcmsg.KindActionResult, From: "n2", View: 1, Result: &dcmsg.ActionResult{ID: 1, Op: "start", Resource: "vip", Node: "n2", OK: false, RC: 7}},
		{Kind: dcmsg.KindFenceRequest, From: "n2", View: 1, Target: "n3", Reason: "stop failed"},
		{Kind: dcmsg.KindRequest, From: "n2", View: 1, Request: &dcmsg.OpRequest{ID: "n2/op1", Op: dcmsg.OpConfirm, Node: "n3", By: "x"}},
		{Kind: dcmsg.KindCIBAck, From: "n2", View: 1, Ack: &replica.Version{Epoch: 1, NumUpdates: 3}},
		{Kind: dcmsg.KindFenceExec, From: "n1", View: 1, Fence: &recovery.FenceRequest{Target: "n1", Attempt: 1, Reason: "stop failed"}},
		{Kind: dcmsg.KindFenceResult, From: "n2", View: 1, FenceResult: &recovery.FenceResult{Target: "n3", Attempt: 1, OK: true, VerifiedOff: true}},
		{Kind: dcmsg.KindFenceResult, From: "n2", View: 1, FenceResult: &recovery.FenceResult{Target: "n3", Attempt: 2, Err: "refused"},
			History: &topology.HistoryEntry{ID: "n2/n3/2/1", Target: "n3", Action: "off", Level: 1, Result: fence.ClassRefused,
				Steps: []topology.HistoryStep{{Level: 1, Device: "bmc-n3", Result: fence.ClassRefused, Error: "0xd5"}}}},
		{Kind: dcmsg.KindLeave, From: "n2"},
		{Kind: dcmsg.KindConfigPropose, From: "n2", Proposal: &dcmsg.Proposal{ID: "n2/1", Config: &model.Config{}, AdminEpoch: 1}},
	} {
		b, _ := dcmsg.Encode(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := newSim(t, "n1", "n2", "n3")
		for _, c := range s.nodes {
			c.c.SetScheduler(PackageScheduler)
		}
		s.view(1, "n1", "n2", "n3")
		for _, pair := range [][2]string{{"n1", "n2"}, {"n2", "n1"}} {
			m, err := dcmsg.Decode(pair[0], b)
			if err != nil {
				continue
			}
			s.nodes[pair[1]].Deliver(m, s.now)
		}
		s.now += 10 * time.Second
		for _, c := range s.nodes {
			c.Tick(s.now)
		}
		for _, c := range s.nodes {
			c.Ready()
			if err := replica.CheckCIB(c.c.CIB()); err != nil {
				t.Fatalf("%s holds a replica that does not validate: %v", c.c.Self(), err)
			}
		}
	})
}

// TestSafetyDigestMismatchAlerts: a member whose quorum/fencing settings
// differ from the DC's is named in an alert, once per digest.
func TestSafetyDigestMismatchAlerts(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.nodes["n1"] = testEngineWith(t, "n1", s.names(), s.nodes["n1"].c.Scheduler(), nil, "aaaa")
	s.view(1, "n1", "n2", "n3")
	report := func(digest string) []recovery.Alert {
		s.nodes["n1"].c.Step(dcmsg.Message{Kind: dcmsg.KindStatus, From: "n2", View: 1, Status: &dcmsg.NodeStatus{Node: "n2", SafetyDigest: digest}}, s.now)
		return s.nodes["n1"].Ready().Alerts
	}
	if a := report("aaaa"); len(a) != 0 {
		t.Fatalf("alert for equal settings: %v", a)
	}
	a := report("bbbb")
	if len(a) != 1 || a[0].Target != "n2" || !strings.Contains(a[0].Message, "quorum: and fencing: sections") {
		t.Fatalf("alerts %v, want one naming n2", a)
	}
	if a := report("bbbb"); len(a) != 0 {
		t.Fatalf("repeated alert for the same digest: %v", a)
	}
	if a := report(""); len(a) != 0 {
		t.Fatalf("alert for a report without digest: %v", a)
	}
}

func TestSafetyDigestOf(t *testing.T) {
	names := []string{"n1", "n2"}
	digest := func(q, f string) string {
		t.Helper()
		var qn, fn yaml.Node
		if err := yaml.Unmarshal([]byte(q), &qn); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal([]byte(f), &fn); err != nil {
			t.Fatal(err)
		}
		qs, err := quorum.Decode("q.yaml", &qn, names)
		if err != nil {
			t.Fatal(err)
		}
		fc, err := topology.Decode("f.yaml", &fn)
		if err != nil {
			t.Fatal(err)
		}
		return SafetyDigestOf(qs, fc)
	}
	base := digest("two_node: true", "static_delay: {n1: 5s}")
	if base != digest("two_node: true", "static_delay: {n1: 5s}\ndevices: [{name: b, plugin: fence_ipmilan, params: {ip: 198.18.0.9}}]\ntopology: {n2: [b]}") {
		t.Error("device definitions changed the safety digest")
	}
	for _, c := range [][2]string{{"two_node: false", "static_delay: {n1: 5s}"}, {"two_node: true", "static_delay: {n2: 5s}"}, {"two_node: true", "static_delay: {n1: 5s}\nenabled: false"}} {
		if digest(c[0], c[1]) == base {
			t.Errorf("%q / %q: same digest as the base", c[0], c[1])
		}
	}
}
