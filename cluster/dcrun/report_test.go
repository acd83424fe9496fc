package dcrun

import (
	"context"
	"sync"
	"testing"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/engine"
	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/quorum"
)

// Inputs that arrive while the node daemon owes a membership report wait
// for it, so a healthy DC whose report is a little late never acts as
// stale; a report that says a member is silent, or no report for
// StaleAfter, still makes it stale at once.
func TestRuntimeWaitsForOwedReport(t *testing.T) {
	q, err := quorum.New(quorum.Config{Nodes: map[string]int{"n1": 1}})
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	var mu sync.Mutex
	clock := time.Second
	now := func() time.Duration { mu.Lock(); defer mu.Unlock(); return clock }
	set := func(d time.Duration) { mu.Lock(); clock = d; mu.Unlock() }
	rt := New(Config{Coordinator: dc.Config{Self: "n1", Nodes: []string{"n1"}, Quorum: q, StaleAfter: 250 * ms,
		Gate: recovery.New(recovery.Config{Self: "n1", Nodes: []string{"n1"}})},
		Events: eventlog.New(nil, "n1"), Now: now, TickEvery: ms, IdleTickEvery: ms, Send: func(string, []byte) error { return nil }})
	var smu sync.Mutex
	var acting []bool
	rt.OnSnapshot(func(s engine.Snapshot) { smu.Lock(); acting = append(acting, s.Acting); smu.Unlock() })
	steps := func() []bool { smu.Lock(); defer smu.Unlock(); return append([]bool(nil), acting...) }
	reset := func() { smu.Lock(); acting = nil; smu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rt.Run(ctx)
	v := dcmsg.SimpleView(4, "n1")
	rt.OnView(v)
	rt.MembershipTick(94 * ms) // at 1s: the member heard at 906ms
	if s := rt.Snapshot(); !s.Acting {
		t.Fatalf("after a fresh report: not acting: %+v", s)
	}

	// 1.2s: by the last report the member would make the DC stale since
	// 1.156s, but the node's next report is due: inputs and ticks wait.
	set(1200 * ms)
	reset()
	rt.OnView(v)
	time.Sleep(50 * time.Millisecond) // the loop ticks every 1ms of real time
	for i, a := range steps() {
		if !a {
			t.Fatalf("step %d while a report is owed: not acting (a healthy DC looked stale)", i)
		}
	}
	rt.MembershipTick(10 * ms) // the member was heard at 1.19s
	if s := rt.Snapshot(); !s.Acting {
		t.Fatalf("after the owed report: not acting: %+v", s)
	}
	for i, a := range steps() {
		if !a {
			t.Fatalf("step %d: not acting", i)
		}
	}

	// No report for over StaleAfter (a stalled node loop): stale, without
	// any input to trigger it.
	set(1200*ms + 250*ms + 1)
	deadline := time.Now().Add(5 * time.Second)
	for rt.LastSnapshot().Acting || len(steps()) == 0 || steps()[len(steps())-1] {
		if time.Now().After(deadline) {
			t.Fatal("still acting with the last report older than StaleAfter")
		}
		time.Sleep(time.Millisecond)
	}

	// A report that says the member is silent for over StaleAfter: stale
	// at once, nothing owed.
	set(2 * time.Second)
	rt.MembershipTick(0)
	if s := rt.Snapshot(); !s.Acting {
		t.Fatalf("fresh report: not acting: %+v", s)
	}
	set(2*time.Second + 300*ms)
	rt.MembershipTick(300 * ms)
	if s := rt.Snapshot(); s.Acting {
		t.Fatalf("report of a member silent for 300ms (StaleAfter 250ms): still acting")
	}
}
