package eventlog

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRoundTripAndMerge(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	la, err := Open(a, "n1")
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := Open(b, "n2")
	la.Append(Entry{Event: NodeLost, Target: "n3", Resources: []string{"vip"}})
	lb.Append(Entry{Event: FenceConfirmed, Target: "n3", OK: Bool(true)})
	la.Append(Entry{MonoNS: 1, Event: QuorumChanged, Detail: "quorate"})
	la.Close()
	lb.Close()
	es, err := ReadFiles(a, b, filepath.Join(dir, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Event != QuorumChanged || es[1].Writer != "n1" || es[2].Writer != "n2" || !*es[2].OK {
		t.Fatalf("merged = %+v", es)
	}
}

func TestReadErrors(t *testing.T) {
	// a torn last line (writer killed mid-write) is tolerated
	es, err := Read(strings.NewReader(`{"mono_ns":1,"event":"x"}` + "\n" + `{"mono_ns":2,"ev`))
	if err != nil || len(es) != 1 {
		t.Fatalf("torn tail: %v %v", es, err)
	}
	_, err = Read(strings.NewReader("garbage\n" + `{"mono_ns":1,"event":"x"}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("want error naming line 1, got %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"mono_ns":1,"event":"node_lost","target":"n2","resources":["vip"]}` + "\n"))
	f.Add([]byte("{}\n\n{\"event\":\"a\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		l := New(&buf, "fuzz")
		for i := range es {
			if es[i].Event == "" {
				t.Fatal("entry without event accepted")
			}
			// Append stamps what is missing; stamp it here so the
			// round trip can compare whole entries.
			if es[i].MonoNS == 0 {
				es[i].MonoNS = 1
			}
			if es[i].Wall == "" {
				es[i].Wall = "w"
			}
			if es[i].Writer == "" {
				es[i].Writer = "fuzz"
			}
			if err := l.Append(es[i]); err != nil {
				t.Fatalf("accepted entry cannot be written: %v", err)
			}
		}
		// What was read is written and read back unchanged.
		again, err := Read(&buf)
		if err != nil || len(again) != len(es) {
			t.Fatalf("re-reading %d written entries: %d, %v\n%s", len(es), len(again), err, buf.String())
		}
		for i := range es {
			a, _ := json.Marshal(es[i])
			b, _ := json.Marshal(again[i])
			if !bytes.Equal(a, b) {
				t.Fatalf("round trip changed entry %d:\n%s\n%s", i, a, b)
			}
		}
	})
}

// TestMonoIsClockMonotonic: Mono, carried forward from one reading, stays
// within microseconds of CLOCK_MONOTONIC read directly (the
// timebase other processes' event logs use).
func TestMonoIsClockMonotonic(t *testing.T) {
	for range 100 {
		var ts unix.Timespec
		before := Mono()
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			t.Fatal(err)
		}
		after := Mono()
		if k := time.Duration(ts.Nano()); k < before-20*time.Microsecond || k > after+20*time.Microsecond {
			t.Fatalf("CLOCK_MONOTONIC %v read between Mono %v and %v", k, before, after)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
