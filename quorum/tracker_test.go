package quorum

import (
	"testing"
	"time"
)

func newTestTracker(t *testing.T, dev Device) *Tracker {
	t.Helper()
	calc, err := New(Config{Nodes: map[string]int{"n1": 1, "n2": 1, "n3": 1, "n4": 1}, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	return NewTracker(calc)
}

// TestTrackerDeviceVoteOfThisViewOnly: the device's vote counts for the
// view it names, until its lease ends; a vote about another view is "not
// answered yet", never a vote.
func TestTrackerDeviceVoteOfThisViewOnly(t *testing.T) {
	tr := newTestTracker(t, Device{Model: DeviceDisk, Algorithm: AlgorithmLMS})
	tr.SetView(5, []string{"n1"})
	now := time.Second

	tr.SetVote(ViewVote{View: 4, Members: []string{"n1"}, DeviceVote: DeviceVote{Voting: true}, Until: 10 * time.Second})
	if st, _ := tr.Evaluate(now, true); st.Quorate || !tr.Pending() || tr.Quorate() {
		t.Fatalf("vote about view 4 counted for view 5: %+v pending=%v", st, tr.Pending())
	}

	tr.SetVote(ViewVote{View: 5, Members: []string{"n1"}, DeviceVote: DeviceVote{Voting: true}, Until: 10 * time.Second})
	if !tr.DeviceChanged(now) {
		t.Fatal("a vote for this view must ask for a new evaluation")
	}
	st, changed := tr.Evaluate(now, true)
	if !st.Quorate || !tr.Quorate() || tr.Pending() || !changed || tr.Info().DeviceVotes == 0 {
		t.Fatalf("one node with the lms device's vote: %+v quorate=%v changed=%v", st, tr.Quorate(), changed)
	}
	if !tr.QuorateAt(9 * time.Second) {
		t.Fatal("quorate before the lease ends")
	}
	if tr.QuorateAt(10 * time.Second) {
		t.Fatal("a vote whose lease ended still counted (QuorateAt)")
	}
	if !tr.DeviceChanged(10 * time.Second) {
		t.Fatal("the end of the lease must ask for a new evaluation")
	}
	if st, _ := tr.Evaluate(10*time.Second, true); st.Quorate || tr.Quorate() {
		t.Fatalf("quorate after the device's lease ended: %+v", st)
	}
}

// TestTrackerActing: a view's votes make this node quorate only while it
// acts (agreed view, fresh membership); the votes' own verdict is kept.
func TestTrackerActing(t *testing.T) {
	tr := newTestTracker(t, Device{})
	tr.SetView(2, []string{"n1", "n2", "n3"})
	st, changed := tr.Evaluate(time.Second, false)
	if !st.Quorate || tr.Quorate() || !tr.Info().ViewQuorate || changed {
		t.Fatalf("not acting: votes %+v, quorate=%v", st, tr.Quorate())
	}
	if tr.Evaluate(time.Second, true); !tr.Quorate() || tr.Suspect("n4") {
		t.Fatal("3 of 4 votes, acting: quorate, and without a device nobody is suspect")
	}
	tr.SetView(3, []string{"n1", "n2"})
	if tr.Evaluate(2*time.Second, true); tr.Quorate() {
		t.Fatal("2 of 4 votes without a tie breaker is not quorum")
	}
}

// TestTrackerSuspects: quorate only with the device's votes, a node outside
// the partition that was not a member or confirmed off since the partition
// last became quorate may have held those votes meanwhile.
func TestTrackerSuspects(t *testing.T) {
	tr := newTestTracker(t, Device{Model: DeviceArbiter, Algorithm: AlgorithmLMS})
	// All four together first: every node is known in epoch 1.
	tr.SetView(1, []string{"n1", "n2", "n3", "n4"})
	tr.Evaluate(time.Second, true)
	// n1 alone with the device's vote: the others were known in epoch 1,
	// the partition never lost quorum, so nobody is suspect yet.
	tr.SetView(2, []string{"n1"})
	vote := func(view uint64, voting bool) {
		tr.SetVote(ViewVote{View: view, Members: []string{"n1"}, DeviceVote: DeviceVote{Voting: voting}, Until: time.Hour})
	}
	vote(2, true)
	tr.Evaluate(2*time.Second, true)
	if !tr.Quorate() || tr.Suspect("n2") {
		t.Fatalf("quorate=%v suspect(n2)=%v: want quorate and no suspect", tr.Quorate(), tr.Suspect("n2"))
	}
	// The device's vote goes (another partition may have it) and comes
	// back: a new epoch, in which n2..n4 were never seen.
	vote(2, false)
	tr.Evaluate(3*time.Second, true)
	vote(2, true)
	tr.Evaluate(4*time.Second, true)
	for _, n := range []string{"n2", "n3", "n4"} {
		if !tr.Suspect(n) {
			t.Errorf("%s: not suspect after the device's vote came back", n)
		}
	}
	if tr.Suspect("n1") {
		t.Error("a member is never suspect")
	}
	tr.NoteOff("n3")
	if tr.Suspect("n3") || !tr.Suspect("n2") {
		t.Fatalf("after n3 was confirmed off: suspect(n3)=%v suspect(n2)=%v", tr.Suspect("n3"), tr.Suspect("n2"))
	}
}
