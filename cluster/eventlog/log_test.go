package eventlog

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
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
		for _, e := range es {
			if e.Event == "" {
				t.Fatal("entry without event accepted")
			}
		}
	})
}
