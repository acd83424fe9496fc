package engine

import (
	"slices"
	"testing"
	"time"

	"palisade/cluster/dcmsg"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/fence"
	"palisade/fence/topology"
)

// historyOf summarizes a node's replicated fence history.
func historyOf(e *Engine) []string {
	var out []string
	for _, h := range e.Coordinator().History() {
		out = append(out, h.Target+" "+h.Action+" "+string(h.Result)+" by "+h.Executor+" for "+h.Origin)
	}
	return out
}

// TestFenceHistoryReplicated: the outcome of every fence attempt, as the
// executing node classified it (a refusal at level 1 is a refusal, not a
// timeout at level 0), and an operator's confirmation, reach every member's
// replica, survive a restart through Persisted, and a new DC keeps them.
func TestFenceHistoryReplicated(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.running["vip"], s.running["dummy"] = "n2", "n2"
	s.view(1, "n1", "n2", "n3")
	s.up["n2"] = false
	s.now = time.Second
	s.view(2, "n1", "n3")
	if len(s.fence) != 1 {
		t.Fatalf("fence requests %v", s.fence)
	}
	// The executor's wall clock: a second before the test engines' fixed
	// Wall, which stamps the operator's confirmation below.
	start := time.Unix(-1, 0)
	f := s.fence[0]
	s.nodes["n1"].FenceDone(f.Ref, FenceOutcome{Action: "off", Level: 1, Result: fence.ClassRefused, Start: start, End: start.Add(32 * time.Millisecond),
		Err:   "fence n2: every topology level failed: level 1 bmc-n2: refused: ...",
		Steps: []FenceStep{{Level: 1, Device: "bmc-n2", Err: "device refused the command", Result: fence.ClassRefused, Elapsed: 32 * time.Millisecond}}}, s.now)
	s.pump()
	want := []string{"n2 off refused by n1 for n1"}
	for _, n := range []string{"n1", "n3"} {
		if got := historyOf(s.nodes[n]); !slices.Equal(got, want) {
			t.Fatalf("%s history %v, want %v", n, got, want)
		}
	}
	h := s.nodes["n3"].Coordinator().History()[0]
	if h.Level != 1 || h.Steps[0].Device != "bmc-n2" || h.End.Sub(h.Start) != 32*time.Millisecond || h.Attempt != 1 {
		t.Fatalf("entry %+v", h)
	}
	// The operator confirms instead.
	s.now = 2 * time.Second
	if err := s.nodes["n1"].Coordinator().Confirm("n2", "alice", s.now); err != nil {
		t.Fatal(err)
	}
	s.pump()
	want = append(want, "n2 confirm ok by n1 for operator:alice")
	if got := historyOf(s.nodes["n3"]); !slices.Equal(got, want) {
		t.Fatalf("n3 history %v, want %v", got, want)
	}
	// n3 restarts from what it persisted.
	p := s.cfgs.persisted["n3"]
	if p == nil || len(p.History) != 2 {
		t.Fatalf("n3 persisted %+v", p)
	}
	cib, _, _ := replica.StartCIB(p, nil, 0)
	if len(cib.History) != 2 || cib.History[1].Origin != "operator:alice" {
		t.Fatalf("restarted history %+v", cib.History)
	}
	// n1 (the DC) is lost: n3 is DC of a view of its own and keeps it.
	s.up["n1"] = false
	s.now = 3 * time.Second
	s.view(3, "n3")
	if got := historyOf(s.nodes["n3"]); !slices.Equal(got, want) {
		t.Fatalf("new DC history %v, want %v", got, want)
	}
}

// TestFenceHistoryMergedByNewDC: an entry only a member holds (a fence it
// ran for the old DC, whose replica never had it) reaches the new DC when
// it collects the members' replicas, and from there every member.
func TestFenceHistoryMergedByNewDC(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.view(1, "n1", "n2", "n3")
	e := topology.HistoryEntry{ID: "n3/n1/1/1", Target: "n1", Action: "off", Executor: "n3", Origin: "n1", Start: time.Unix(5, 0), Result: fence.ClassOK}
	s.nodes["n3"].Coordinator().RecordHistory(e)
	s.up["n1"] = false
	s.now = time.Second
	s.view(2, "n2", "n3")
	for _, n := range []string{"n2", "n3"} {
		if got := historyOf(s.nodes[n]); !slices.Equal(got, []string{"n1 off ok by n3 for n1"}) {
			t.Fatalf("%s history %v", n, got)
		}
	}
}

// TestRefusedOrderIsInHistory: a member that refuses a fence order (not
// from the DC of its view) reports why, and the history says "refused".
func TestRefusedOrderIsInHistory(t *testing.T) {
	s := newSim(t, "n1", "n2", "n3")
	s.view(1, "n1", "n2", "n3")
	// n2 claims to be DC and orders n3 to fence it: refused.
	m := dcmsg.Message{Kind: dcmsg.KindFenceExec, View: 9, From: "n2", Fence: &recovery.FenceRequest{Target: "n2", Attempt: 1, Reason: "stop failed"}}
	s.nodes["n3"].Deliver(m, s.now)
	rd := s.nodes["n3"].Ready()
	var got *topology.HistoryEntry
	for _, o := range rd.Send {
		if o.Msg.Kind == dcmsg.KindFenceResult {
			got = o.Msg.History
		}
	}
	if got == nil || got.Result != fence.ClassRefused || got.Action != topology.ActionRefuse || got.Origin != "n2" || got.Executor != "n3" {
		t.Fatalf("refusal report %+v", got)
	}
}
