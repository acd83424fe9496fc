package eventlog

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/describe.golden")

// describeCases is one entry of every kind the daemon writes.
var describeCases = []Entry{
	{Event: HeartbeatLost, Target: "n2"},
	{Event: NodeLost, Target: "n2", Resources: []string{"vip", "db"}, View: 7},
	{Event: NodeLost, Target: "n3", Detail: "not seen at start-up"},
	{Event: NodeReturned, Target: "n2"},
	{Event: NodeLeaving, Target: "n1"},
	{Event: NodeLeft, Target: "n1", Detail: "left cleanly after stopping its resources: no fencing"},
	{Event: QuorumChanged, Detail: "inquorate"},
	{Event: QuorumChanged, Detail: "quorate"},
	{Event: FenceNeeded, Target: "n2", Detail: "node lost"},
	{Event: FenceScheduled, Target: "n2", DelayMS: 5000},
	{Event: FenceRequested, Target: "n2", Attempt: 1},
	{Event: FenceDevice, Target: "n2", Attempt: 1, Device: "bmc-n2", OK: Bool(false), Detail: "login denied"},
	{Event: FenceDevice, Target: "n2", Attempt: 2, Device: "bmc-n2", OK: Bool(true)},
	{Event: FenceFailed, Target: "n2", Attempt: 1, DelayMS: 500, Detail: "bmc-n2: login denied"},
	{Event: FenceConfirmed, Target: "n2", By: "device:bmc-n2", OK: Bool(true)},
	{Event: FenceConfirmed, Target: "n2", By: "operator:root (as alice)", OK: Bool(true)},
	{Event: FenceWithdrawn, Target: "n2", Attempt: 3, Detail: "quorum lost"},
	{Event: FenceAdopted, Target: "n2", Detail: "unclean → fenced"},
	{Event: FenceDelegated, Target: "n1", Node: "n2", Attempt: 1},
	{Event: Probed, Resource: "vip", Node: "n1", OK: Bool(true)},
	{Event: DaemonStarted, Detail: "generation 17"},
	{Event: ViewStale, Detail: "no membership tick for 600ms"},
	{Event: Alert, Target: "n2", Detail: "fence keeps failing"},
	{Event: StartAllowed, Resource: "vip", Node: "n1", Detail: "n2 fenced"},
	{Event: StartDenied, Resource: "vip", Node: "n1", Detail: "n2 not yet fenced"},
	{Event: ActionSent, Resource: "vip", Node: "n1", Action: "start", View: 9},
	{Event: ActionRefused, Resource: "vip", Node: "n1", Action: "start", Detail: "stale view"},
	{Event: ActionResult, Resource: "vip", Node: "n1", Action: "start", OK: Bool(true), Detail: "rc=0 fail_count=0"},
	{Event: ActionResult, Resource: "db", Node: "n1", Action: "monitor", OK: Bool(false), Detail: "rc=7 fail_count=1"},
	{Event: VIPAdded, Resource: "vip", Node: "n1"},
	{Event: GARPSent, Resource: "vip", Attempt: 1},
	{Event: DCElected, View: 9, Detail: "quorate votes=2 expected=3 needed=2 (majority)"},
	{Event: FailuresCleared, Resource: "db", Node: "n1", Detail: "cleanup by root"},
	{Event: "config_changed", Node: "n2", OK: Bool(true), Detail: "version 0.4.0 digest abc from n2 (standby n1 by root)"},
}

// TestDescribe renders every kind of entry as the daemon's text log does
// and compares with testdata/describe.golden: one message per line, and
// exactly one msg key (an attribute named msg would make two).
func TestDescribe(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	l := NewWith(&bytes.Buffer{}, "n1", Options{Logger: slog.New(h)})
	for _, e := range describeCases {
		before := buf.Len()
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
		line := buf.String()[before:]
		if !Mirrored(e.Event) {
			if line != "" {
				t.Errorf("%s is logged by its writer, yet mirrored: %s", e.Event, line)
			}
			continue
		}
		if strings.Count(line, "\n") != 1 || strings.Count(line, " msg=") != 1 || strings.Contains(line, `="msg`) {
			t.Errorf("%s: want one line with one msg key, got %q", e.Event, line)
		}
	}
	golden := filepath.Join("testdata", "describe.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("log lines differ from %s (rerun with -update after checking):\n%s", golden, got)
	}
}

func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	l, err := OpenWith(path, "n1", Options{MaxBytes: 400, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 40 {
		if err := l.Append(Entry{MonoNS: int64(i + 1), Event: FenceRequested, Target: "n2", Attempt: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	var total int
	var last []Entry
	for _, p := range []string{path + ".2", path + ".1", path} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if fi.Size() > 400 {
			t.Errorf("%s has %d bytes, bound 400", p, fi.Size())
		}
		es, err := ReadFiles(p)
		if err != nil {
			t.Fatal(err)
		}
		total += len(es)
		last = es
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("more rotated files kept than Keep")
	}
	if n := len(last); n == 0 || last[n-1].Attempt != 40 {
		t.Fatalf("newest entries not in %s: %+v", path, last)
	}
	if total >= 40 {
		t.Fatalf("nothing was dropped although 40 entries exceed three files of 400 bytes (%d kept)", total)
	}
	// A reopened log continues the file and its size accounting.
	l.Close()
	l2, err := OpenWith(path, "n1", Options{MaxBytes: 400, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	for range 10 {
		l2.Append(Entry{Event: NodeLost, Target: "n3"})
	}
	if fi, _ := os.Stat(path); fi.Size() > 400 {
		t.Errorf("reopened log grew to %d bytes", fi.Size())
	}
}

func TestSourcesAndObservers(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "n1")
	dc := l.Source("dc")
	var seen []string
	l.Observe(func(src string, e Entry) { seen = append(seen, src+":"+e.Event) })
	l.Append(Entry{Event: NodeLost, Target: "n2"})
	dc.Append(Entry{Event: NodeLost, Target: "n2"})
	if strings.Join(seen, " ") != ":node_lost dc:node_lost" {
		t.Fatalf("observed %v", seen)
	}
	if strings.Count(buf.String(), "\n") != 2 {
		t.Fatalf("both entries go to the one file: %q", buf.String())
	}
	var nilLog *Log
	if nilLog.Append(Entry{Event: "x"}) != nil || nilLog.Source("dc") != nil {
		t.Fatal("a nil log must discard")
	}
}

func TestMembershipNotMirrored(t *testing.T) {
	var buf bytes.Buffer
	l := NewWith(&bytes.Buffer{}, "n1", Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	l.Source(SourceMembership).Append(Entry{Event: NodeLost, Target: "n2"})
	if buf.Len() != 0 {
		t.Fatalf("membership's own entry mirrored: %s", buf.String())
	}
	l.Source(SourceDC).Append(Entry{Event: NodeLost, Target: "n2"})
	if !strings.Contains(buf.String(), "node lost") {
		t.Fatalf("the DC's entry was not mirrored: %q", buf.String())
	}
}
