package membership

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs testdata/*.txt with github.com/cockroachdb/datadriven
// (the format of go.etcd.io/raft's tests): each command is followed by
// "----" and the expected output up to a blank line ("(none)" when the
// command produced nothing); "#" lines are comments. `go test -run Scenarios
// -rewrite` regenerates the expected output (review the diff). Commands:
//
//	config self=1 nodes=1,2,3 links=2 keepalive=100ms warntime=250ms deadtime=500ms initdead=1s gen=1
//	hb from=2 link=0 gen=1 at=120ms [adv=N|agree]
//	beat start=0ms end=1s every=100ms [agree] 2@1/0,1 3@4/1   (node@gen/links ...)
//	tick at=600ms
//	status
//	deadline        (NextDeadline: "next AT" or "none")
//
// "agree" makes the sender advertise this node's current view, as a peer
// that agrees would; adv=N advertises view id N with this node's member set.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Ext(path) == ".txt" { // not a fuzz corpus under testdata/fuzz
			datadriven.RunTest(t, path, new(scenario).run)
		}
	})
}

func (s *scenario) run(t *testing.T, d *datadriven.TestData) string {
	if got := strings.TrimRight(execCommand(t, &s.m, d.FullCmd()), "\n"); got != "" {
		return got
	}
	return "(none)"
}

// scenario is the state of one testdata file: the Membership of its last
// config command.
type scenario struct {
	m *Membership
}

func args(t *testing.T, fields []string) map[string]string {
	a := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		a[k] = v
	}
	return a
}

func dur(t *testing.T, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("bad duration %q: %v", s, err)
	}
	return d
}

func num(t *testing.T, s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q: %v", s, err)
	}
	return n
}

func list(t *testing.T, s string) []uint64 {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		out = append(out, num(t, f))
	}
	return out
}

func render(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%v %s\n", e.At, e)
	}
	return b.String()
}

func execCommand(t *testing.T, mp **Membership, line string) string {
	fields := strings.Fields(line)
	a := args(t, fields[1:])
	m := *mp
	if fields[0] != "config" && m == nil {
		t.Fatalf("%q before config", line)
	}
	advert := func() Advert {
		if _, ok := a["agree"]; ok {
			return m.Advert()
		}
		if v, ok := a["adv"]; ok {
			return Advert{ViewID: num(t, v), Hash: m.hash}
		}
		return Advert{}
	}
	switch fields[0] {
	case "config":
		var nodes []NodeID
		for _, n := range list(t, a["nodes"]) {
			nodes = append(nodes, NodeID(n))
		}
		cfg := Config{
			Self: NodeID(num(t, a["self"])), Generation: num(t, a["gen"]), Nodes: nodes,
			Links: int(num(t, a["links"])),
			Timing: Timing{Keepalive: dur(t, a["keepalive"]), Warntime: dur(t, a["warntime"]),
				Deadtime: dur(t, a["deadtime"]), Initdead: dur(t, a["initdead"])},
		}
		nm, err := New(cfg)
		if err != nil {
			return "error: " + err.Error()
		}
		*mp = nm
		return render(nm.Ready())
	case "hb":
		err := m.Step(Heartbeat{From: NodeID(num(t, a["from"])), Link: int(num(t, a["link"])),
			Generation: num(t, a["gen"]), At: dur(t, a["at"]), Advert: advert()})
		out := render(m.Ready())
		if err != nil {
			out += "error: " + err.Error() + "\n"
		}
		return out
	case "beat":
		type spec struct {
			node  NodeID
			gen   uint64
			links []uint64
		}
		var specs []spec
		for _, f := range fields[1:] {
			if strings.Contains(f, "=") || f == "agree" {
				continue
			}
			ng, ls, ok := strings.Cut(f, "/")
			n, g, ok2 := strings.Cut(ng, "@")
			if !ok || !ok2 {
				t.Fatalf("beat spec %q: want node@gen/links", f)
			}
			specs = append(specs, spec{NodeID(num(t, n)), num(t, g), list(t, ls)})
		}
		var out strings.Builder
		every := dur(t, a["every"])
		for at := dur(t, a["start"]); at <= dur(t, a["end"]); at += every {
			for _, s := range specs {
				for _, l := range s.links {
					if err := m.Step(Heartbeat{From: s.node, Link: int(l), Generation: s.gen, At: at, Advert: advert()}); err != nil {
						fmt.Fprintf(&out, "error: %v\n", err)
					}
				}
			}
			out.WriteString(render(m.Ready()))
		}
		return out.String()
	case "tick":
		m.Tick(dur(t, a["at"]))
		return render(m.Ready())
	case "deadline":
		if at, ok := m.NextDeadline(); ok {
			return fmt.Sprintf("next %v\n", at)
		}
		return "none\n"
	case "status":
		var b strings.Builder
		v := m.View()
		fmt.Fprintf(&b, "%s agreed=%v\n", v, v.Agreed)
		for _, p := range m.Peers() {
			fmt.Fprintf(&b, "node %d %s gen=%d", p.ID, p.State, p.Generation)
			for i, l := range p.Links {
				fmt.Fprintf(&b, " link%d=%s", i, l.State)
				if l.Heard {
					fmt.Fprintf(&b, "(%v)", m.Now()-l.LastHeard)
				}
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	t.Fatalf("unknown command %q", line)
	return ""
}

func TestTimingValidate(t *testing.T) {
	ok := Timing{Keepalive: 2 * time.Second, Warntime: 10 * time.Second, Deadtime: 30 * time.Second, Initdead: 120 * time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("ha.cf defaults rejected: %v", err)
	}
	bad := []Timing{
		{Keepalive: 0, Warntime: 1, Deadtime: 2, Initdead: 3},
		{Keepalive: time.Second, Warntime: 1500 * time.Millisecond, Deadtime: 2 * time.Second, Initdead: 3 * time.Second},
		{Keepalive: time.Second, Warntime: 5 * time.Second, Deadtime: 5 * time.Second, Initdead: 6 * time.Second},
		{Keepalive: time.Second, Warntime: 2 * time.Second, Deadtime: 5 * time.Second, Initdead: 4 * time.Second},
	}
	for _, b := range bad {
		if err := b.Validate(); err == nil {
			t.Errorf("%+v accepted", b)
		}
	}
}

// TestPeerAdvert: the loop reads a peer's last advert from PeerAdvert
// (not from Peers, which builds the whole status); both must agree.
func TestPeerAdvert(t *testing.T) {
	m, err := New(Config{Self: 1, Generation: 1, Nodes: []NodeID{1, 2, 3}, Links: 1,
		Timing: Timing{Keepalive: time.Second, Warntime: 3 * time.Second, Deadtime: 5 * time.Second, Initdead: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.PeerAdvert(9); ok {
		t.Fatal("unknown peer 9 has an advert")
	}
	if a, ok := m.PeerAdvert(2); !ok || a != (Advert{}) {
		t.Fatalf("peer 2 before hearing it: %+v %v, want zero advert", a, ok)
	}
	want := Advert{ViewID: 4, Hash: 0xfeed}
	if err := m.Step(Heartbeat{From: 2, Generation: 1, At: time.Second, Advert: want}); err != nil {
		t.Fatal(err)
	}
	if a, _ := m.PeerAdvert(2); a != want {
		t.Fatalf("peer 2: %+v, want %+v", a, want)
	}
	for _, p := range m.Peers() {
		if a, _ := m.PeerAdvert(p.ID); a != p.Advert {
			t.Errorf("peer %d: PeerAdvert %+v, Peers %+v", p.ID, a, p.Advert)
		}
	}
}

func FuzzParseAdvert(f *testing.F) {
	good, _ := Advert{ViewID: 7, Hash: 0xdeadbeef}.MarshalBinary()
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAdvert(b)
		if err != nil {
			return
		}
		re, _ := a.MarshalBinary()
		if b2, _ := ParseAdvert(re); b2 != a {
			t.Fatalf("round trip %v -> %v", a, b2)
		}
	})
}
