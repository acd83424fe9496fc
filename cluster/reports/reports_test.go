package reports

import (
	"reflect"
	"testing"
	"time"

	"palisade/cluster/dcmsg"
	"palisade/resources/model"
)

// TestMergeWithSnapshot: a node's own report replaces the snapshot's
// entries for it; a node that has not reported keeps the snapshot's; a
// new view forgets every report (but not the digest alerted for).
func TestMergeWithSnapshot(t *testing.T) {
	tb := New([]string{"n1", "n2", "n3"})
	snap := model.Status{
		Resources: []model.ResourceStatus{{Rsc: "vip", Node: "n1"}, {Rsc: "db", Node: "n2"}},
		Failures:  []model.Failure{{Rsc: "db", Node: "n2", Op: "start", Count: 1}},
	}
	if !tb.Report(&dcmsg.NodeStatus{Node: "n1", Resources: []model.ResourceStatus{{Rsc: "web", Node: "n1"}}, Attributes: map[string]string{"pingd": "100"}}) {
		t.Fatal("report of a configured node refused")
	}
	if tb.Report(&dcmsg.NodeStatus{Node: "n9"}) {
		t.Fatal("report of an unknown node accepted")
	}
	if !tb.Report(&dcmsg.NodeStatus{Node: "n3", Unprobed: true, Resources: []model.ResourceStatus{{Rsc: "x", Node: "n3"}}}) || tb.Node("n3").Reported || !tb.Node("n3").Joined {
		t.Fatal("an unprobed report only says the node joined")
	}
	got := tb.Resources(snap.Resources)
	want := []model.ResourceStatus{{Rsc: "web", Node: "n1"}, {Rsc: "db", Node: "n2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resources %v, want %v", got, want)
	}
	if f := tb.Failures(snap.Failures); len(f) != 1 || f[0].Node != "n2" {
		t.Fatalf("failures %v: n2's must come from the snapshot", f)
	}
	if a := tb.Attributes("n1"); a["pingd"] != "100" || tb.Attributes("n2") != nil {
		t.Fatalf("attributes: n1 %v, n2 %v", a, tb.Attributes("n2"))
	}
	tb.Node("n2").Alerted = "abcd"
	tb.Reset()
	if tb.Node("n1").Reported || tb.Node("n3").Joined || tb.Node("n2").Alerted != "abcd" {
		t.Fatal("Reset must forget reports and keep the alerted digest")
	}
	if got := tb.Resources(snap.Resources); !reflect.DeepEqual(got, snap.Resources) {
		t.Fatalf("after Reset: %v, want the snapshot", got)
	}
}

// TestResults: what an action's result says about its node.
func TestResults(t *testing.T) {
	tb := New([]string{"n1", "n2"})
	tb.Report(&dcmsg.NodeStatus{Node: "n1", Pending: []string{"db"}})
	t0 := time.Unix(1000, 0)
	start := dcmsg.Action{ID: 1, Op: "start", Resource: "db", Node: "n1"}
	tb.Answered(start)
	if len(tb.Node("n1").Pending) != 0 {
		t.Fatal("the answered start is still pending")
	}
	tb.Result(start, &dcmsg.ActionResult{Active: true, Failed: true, FailCount: 1}, t0)
	n1 := tb.Node("n1")
	if len(n1.Resources) != 1 || !n1.Resources[0].Failed || len(n1.Failures) != 1 || !n1.Failures[0].LastFailure.Equal(t0) {
		t.Fatalf("failed start: %+v", n1)
	}
	// A successful stop with the fail count still 1 keeps the failure's
	// time (failure-timeout counts from the failure).
	tb.Result(dcmsg.Action{ID: 2, Op: "stop", Resource: "db", Node: "n1"}, &dcmsg.ActionResult{OK: true, FailCount: 1}, t0.Add(time.Hour))
	if len(n1.Resources) != 0 || n1.Failures[0].Op != "start" || !n1.Failures[0].LastFailure.Equal(t0) {
		t.Fatalf("after the stop: %+v", n1)
	}
	tb.Result(dcmsg.Action{ID: 3, Op: "start", Resource: "db", Node: "n1"}, &dcmsg.ActionResult{Fatal: true, Failed: true, FailCount: 1000000}, t0)
	st := tb.Status(model.Status{}, false, func(n string) model.NodeState { return model.NodeState{Name: n, State: model.NodeOnline} })
	banned := 0
	for _, f := range st.Failures {
		if f.Rsc == "db" && f.Count >= model.Infinity {
			banned++
		}
	}
	if banned != 2 {
		t.Fatalf("a resource 'not configured' on one node is banned on every node: %+v", st.Failures)
	}
	tb.Off("n1")
	if !tb.Node("n1").Reported || len(tb.Resources(nil)) != 0 {
		t.Fatal("a node powered off runs nothing")
	}
}

// TestPendingFromSnapshot: starts an earlier DC left pending count for the
// nodes that have not reported.
func TestPendingFromSnapshot(t *testing.T) {
	tb := New([]string{"n1", "n2"})
	tb.Report(&dcmsg.NodeStatus{Node: "n1", Pending: []string{"a"}})
	got := tb.Pending([]model.ResourceStatus{{Rsc: "b", Node: "n1"}, {Rsc: "c", Node: "n2"}})
	want := []model.ResourceStatus{{Rsc: "a", Node: "n1"}, {Rsc: "c", Node: "n2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending %v, want %v", got, want)
	}
}
