package transport

import (
	"slices"
	"testing"
	"time"

	"palisade/cluster/wire"
)

// TestCoalesceDecisions runs the peer table's heartbeat decisions on a
// logical clock: which heartbeats reach Messages with a 300ms window.
// Every one of them, coalesced or not, refreshes LastHeard.
func TestCoalesceDecisions(t *testing.T) {
	pt := newPeerTable([]uint32{1, 2}, 1, 2, 64)
	t0 := time.Unix(1000, 0)
	const window = 300 * time.Millisecond
	seq := uint64(0)
	for i, c := range []struct {
		at      time.Duration
		gen     uint64
		link    int
		payload string
		queued  bool
		why     string
	}{
		{0, 5, 0, "v1", true, "first heartbeat ever"},
		{100 * time.Millisecond, 5, 0, "v1", false, "same payload, heard 100ms ago"},
		{150 * time.Millisecond, 5, 1, "v1", false, "same payload on the other link"},
		{200 * time.Millisecond, 5, 0, "v2", true, "the view changed"},
		{300 * time.Millisecond, 5, 0, "v2", false, "same again"},
		{700 * time.Millisecond, 5, 1, "v2", true, "silent for 400ms (>= window): maybe back from warn or dead"},
		{800 * time.Millisecond, 5, 1, "v2", false, "heard 100ms ago"},
		{900 * time.Millisecond, 6, 0, "v2", true, "restarted: first heartbeat of a new generation"},
		{1000 * time.Millisecond, 6, 0, "v2", false, "same generation and payload"},
	} {
		seq++
		if c.gen == 6 && seq < 100 {
			seq = 100 // the new incarnation counts again; any start works
		}
		v, _ := pt.admit(2, c.gen, seq, c.link, t0.Add(c.at), []byte(c.payload), window, func() bool { return true })
		if v != queued && v != coalesced {
			t.Fatalf("case %d (%s): verdict %v", i, c.why, v)
		}
		if got := v == queued; got != c.queued {
			t.Errorf("case %d at %v (%s): queued %v, want %v", i, c.at, c.why, got, c.queued)
		}
	}
}

// TestCoalesceOverLoopback: with CoalesceHeartbeats set, a repeated
// heartbeat is counted and refreshes LastHeard but is not queued; a new
// payload and any other type are.
func TestCoalesceOverLoopback(t *testing.T) {
	c := newCluster(t, 2, nil, func(cfg *Config) { cfg.CoalesceHeartbeats = time.Hour })
	tr := c.nodes[2]
	heard := func() time.Time {
		var last time.Time
		for _, ph := range tr.LastHeard() {
			for _, l := range ph.Links {
				if ph.Node == 1 && l.At.After(last) {
					last = l.At
				}
			}
		}
		return last
	}
	coalesced := func() (n uint64) {
		for _, l := range tr.Counters().Links {
			n += l.Coalesced
		}
		return n
	}
	c.nodes[1].Send(wire.TypeHeartbeat, 0, []byte("view 1"))
	if m := recv(t, tr); string(m.Payload) != "view 1" {
		t.Fatalf("first heartbeat: %+v", m)
	}
	first := heard()
	c.nodes[1].Send(wire.TypeHeartbeat, 0, []byte("view 1"))
	eventually(t, "the repeat counted as coalesced", func() bool { return coalesced() == 1 })
	noMessage(t, tr)
	if !heard().After(first) {
		t.Error("a coalesced heartbeat did not refresh LastHeard")
	}
	c.nodes[1].Send(wire.TypeHeartbeat, 0, []byte("view 2"))
	if m := recv(t, tr); string(m.Payload) != "view 2" {
		t.Fatalf("changed heartbeat: %+v", m)
	}
	c.nodes[1].Send(wire.TypeReliableData, 2, []byte("data"))
	if m := recv(t, tr); m.Type != wire.TypeReliableData {
		t.Fatalf("data: %+v", m)
	}
	if got := tr.Counters().Delivered; got != 3 {
		t.Errorf("delivered %d, want 3", got)
	}
}

// TestCoalescedStillHeard: a coalesced heartbeat is a sign of life on its
// link, and the same packet seen again on that link is still a replay.
func TestCoalescedStillHeard(t *testing.T) {
	pt := newPeerTable([]uint32{1, 2}, 1, 2, 64)
	t0 := time.Unix(1000, 0)
	const window = time.Second
	pt.admit(2, 1, 1, 0, t0, []byte("v"), window, nil)
	if v, _ := pt.admit(2, 1, 2, 1, t0.Add(10*time.Millisecond), []byte("v"), window, nil); v != coalesced {
		t.Fatalf("repeat: %v, want coalesced", v)
	}
	if at := pt.snapshot([]uint32{1, 2}, 1, []string{"a", "b"})[0].Links[1].At; !at.Equal(t0.Add(10 * time.Millisecond)) {
		t.Errorf("link 1 last heard %v, want the coalesced heartbeat's time", at)
	}
	// AppendHeard is the same table, flat: (2, link 0) and (2, link 1).
	got := pt.appendHeard(nil, []uint32{1, 2}, 1)
	want := []Heard{{Node: 2, Link: 0, Generation: 1, At: t0}, {Node: 2, Link: 1, Generation: 1, At: t0.Add(10 * time.Millisecond)}}
	if !slices.Equal(got, want) {
		t.Errorf("appendHeard = %+v, want %+v", got, want)
	}
	if v, r := pt.admit(2, 1, 2, 1, t0.Add(20*time.Millisecond), []byte("v"), window, nil); v != dropped || r != DropReplay {
		t.Errorf("coalesced packet replayed on its link: %v %v, want a replay drop", v, r)
	}
	if v, _ := pt.admit(2, 1, 2, 0, t0.Add(20*time.Millisecond), []byte("v"), window, nil); v != duplicate {
		t.Errorf("its copy on the other link: %v, want duplicate", v)
	}
}

// TestCoalesceAfterQueueFull: a changed heartbeat that found the queue
// full is forgotten, so its repeat is queued instead of coalesced (else
// the consumer would never learn the new payload).
func TestCoalesceAfterQueueFull(t *testing.T) {
	pt := newPeerTable([]uint32{1, 2}, 1, 1, 64)
	t0 := time.Unix(1000, 0)
	const window = time.Second
	room := func() bool { return true }
	full := func() bool { return false }
	if v, _ := pt.admit(2, 1, 1, 0, t0, []byte("v1"), window, room); v != queued {
		t.Fatalf("first: %v", v)
	}
	if v, r := pt.admit(2, 1, 2, 0, t0.Add(time.Millisecond), []byte("v2"), window, full); v != dropped || r != DropQueueFull {
		t.Fatalf("changed, queue full: %v %v", v, r)
	}
	if v, _ := pt.admit(2, 1, 3, 0, t0.Add(2*time.Millisecond), []byte("v2"), window, room); v != queued {
		t.Fatalf("its repeat: %v, want queued", v)
	}
	if v, _ := pt.admit(2, 1, 4, 0, t0.Add(3*time.Millisecond), []byte("v2"), window, room); v != coalesced {
		t.Fatalf("then: %v, want coalesced", v)
	}
}
