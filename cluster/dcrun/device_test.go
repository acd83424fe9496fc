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

// The quorum device's verdict reaches the engine through the runtime in
// order, SetDeviceVote returns once it is applied, the lease is on the
// runtime's clock, and OnSnapshot sees every step.
func TestRuntimeDeviceVote(t *testing.T) {
	q, err := quorum.New(quorum.Config{Nodes: map[string]int{"n1": 1, "n2": 1}, Device: quorum.Device{Model: quorum.DeviceArbiter}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var clock time.Duration
	now := func() time.Duration { mu.Lock(); defer mu.Unlock(); return clock }
	rt := New(Config{Coordinator: dc.Config{Self: "n1", Nodes: []string{"n1", "n2"}, Quorum: q,
		Gate: recovery.New(recovery.Config{Self: "n1", Nodes: []string{"n1", "n2"}})},
		Events: eventlog.New(nil, "n1"), Now: now, TickEvery: time.Millisecond, Send: func(string, []byte) error { return nil }})
	snaps := make(chan engine.Snapshot, 1024)
	rt.OnSnapshot(func(s engine.Snapshot) {
		select {
		case snaps <- s:
		default:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rt.Run(ctx)
	rt.OnView(dcmsg.SimpleView(4, "n1"))
	wait := func(what string, ok func(engine.Snapshot) bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case s := <-snaps:
				if ok(s) {
					return
				}
			case <-deadline:
				t.Fatalf("no snapshot with %s; last: %+v", what, rt.LastSnapshot())
			}
		}
	}
	wait("an undecided view", func(s engine.Snapshot) bool { return s.View == 4 && s.Quorum.Pending && !s.Quorate })
	rt.SetDeviceVote(quorum.ViewVote{View: 4, Members: []string{"n1"}, DeviceVote: quorum.DeviceVote{Voting: true}, Until: rt.Now() + time.Second})
	if s := rt.Snapshot(); !s.Quorate || s.Quorum.DeviceVotes != 1 {
		t.Fatalf("after SetDeviceVote returned: quorate=%v %+v", s.Quorate, s.Quorum)
	}
	mu.Lock()
	clock += time.Second
	mu.Unlock()
	wait("the lease run out", func(s engine.Snapshot) bool { return !s.Quorate && !s.Quorum.Pending })
	// Quiet membership ticks produce no work, yet each is a step the
	// consumer sees (a watchdog fed from snapshots counts steps): three
	// ticks in under snapEvery are three snapshots.
	for len(snaps) > 0 {
		<-snaps
	}
	for i := 0; i < 3; i++ {
		rt.MembershipTick(0)
		select {
		case <-snaps:
		case <-time.After(5 * time.Second):
			t.Fatalf("membership tick %d produced no snapshot", i+1)
		}
	}
}
