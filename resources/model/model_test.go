package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestAdd(t *testing.T) {
	for _, c := range []struct{ a, b, want Score }{
		{1, 2, 3},
		{Infinity, -Infinity, -Infinity},
		{-Infinity, Infinity, -Infinity},
		{Infinity, 5, Infinity},
		{600000, 600000, Infinity},
		{-600000, -600000, -Infinity},
		{Infinity, Infinity, Infinity},
		{-5, 3, -2},
	} {
		if got := Add(c.a, c.b); got != c.want {
			t.Errorf("Add(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestParseScore(t *testing.T) {
	for in, want := range map[string]Score{"INFINITY": Infinity, "+INFINITY": Infinity, "-INFINITY": -Infinity, "inf": Infinity,
		"-inf": -Infinity, "100": 100, "+7": 7, "-3": -3, "99999999": Infinity, "-99999999": -Infinity} {
		got, err := ParseScore(in)
		if err != nil || got != want {
			t.Errorf("ParseScore(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ten", "1.5", "INFINITYX"} {
		if _, err := ParseScore(bad); err == nil {
			t.Errorf("ParseScore(%q) succeeded", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"10": 10 * time.Second, "10s": 10 * time.Second, "1m30s": 90 * time.Second,
		"500ms": 500 * time.Millisecond, "2min": 2 * time.Minute, "0": 0, "": 0} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

const sample = `
config:
  options: {stonith-enabled: true, no-quorum-policy: freeze}
  rsc_defaults: {resource-stickiness: 100}
  nodes: [{name: n1}, {name: n2, attributes: {rack: r2}}]
  resources:
    - {id: vip, class: ocf, provider: heartbeat, type: IPaddr2, params: {ip: 198.18.0.50},
       ops: [{name: monitor, interval: 10s, timeout: 20s}]}
    - id: web
      kind: group
      members: [{id: fs, type: Filesystem}, {id: httpd, type: apache}]
    - id: db
      kind: clone
      meta: {promotable: true}
      members: [{id: pg, type: pgsql}]
  constraints:
    locations: [{id: l1, rsc: web, node: n1, score: INFINITY}]
    colocations: [{id: c1, rsc: vip, with: web, score: -INFINITY}]
    orders: [{id: o1, first: db, first-action: promote, then: web}]
status:
  no-quorum: true
  nodes: [{name: n1, state: online}, {name: n2, state: unclean}]
  resources: [{rsc: vip, node: n2}]
  failures: [{rsc: vip, node: n2, op: monitor, count: 2, last-failure: 2026-01-01T10:00:00Z}]
`

func TestDecodeYAML(t *testing.T) {
	d, err := DecodeYAML([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	c := d.Config
	if *c.Options.StonithEnabled != true || c.Options.NoQuorumPolicy != "freeze" || c.RscDefaults["resource-stickiness"] != "100" {
		t.Errorf("options: %+v %v", c.Options, c.RscDefaults)
	}
	if len(c.Resources) != 3 || c.Resources[1].KindOf() != KindGroup || time.Duration(c.Resources[0].Ops[0].Interval) != 10*time.Second {
		t.Errorf("resources: %+v", c.Resources)
	}
	if c.Constraints.Locations[0].Score != Infinity || c.Constraints.Colocations[0].Score != -Infinity {
		t.Errorf("constraints: %+v", c.Constraints)
	}
	if !d.Status.NoQuorum || d.Status.Failures[0].Count != 2 || d.Status.Nodes[1].State != NodeUnclean {
		t.Errorf("status: %+v", d.Status)
	}
}

func TestDecodeYAMLErrors(t *testing.T) {
	for in, want := range map[string]string{
		"config: {resources: [{id: a, colour: red}]}":                                   "colour",
		"config: {resources: [{id: a}, {id: a}]}":                                       "already used",
		"config: {resources: [{id: g, kind: group, members: [{id: c, kind: clone}]}]}":  "must be a primitive",
		"config: {constraints: {locations: [{id: l, rsc: nope, node: n1, score: 1}]}}":  "unknown resource",
		"config: {constraints: {colocations: [{id: c, rsc: a, with: b, score: lots}]}}": "score",
		"config: {resources: [{id: a, kind: bundel}]}":                                  "kind",
		"config: {resources: [{id: c, kind: clone}]}":                                   "exactly one member",
	} {
		_, err := DecodeYAML([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeYAML(%q) = %v, want error mentioning %q", in, err, want)
		}
	}
}

func TestFailOp(t *testing.T) {
	st := &Status{Resources: []ResourceStatus{{Rsc: "a", Node: "n1"}}}
	now := time.Unix(100, 0)
	if err := st.FailOp("a:monitor_10000:n1", now, true); err != nil {
		t.Fatal(err)
	}
	if !st.Resources[0].Failed || st.Failures[0].Count != 1 || st.Failures[0].Op != "monitor" {
		t.Errorf("monitor failure: %+v", st)
	}
	if err := st.FailOp("b:start:n2", now, true); err != nil || st.Failures[1].Count != Infinity {
		t.Errorf("fatal start failure: %v %+v", err, st.Failures)
	}
	if err := st.FailOp("b:dance:n2", now, true); err == nil {
		t.Error("unknown op accepted")
	}
	if err := st.FailOp("nonsense", now, true); err == nil {
		t.Error("malformed spec accepted")
	}
}

func FuzzDecodeYAML(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("config: {resources: [{id: a}]}\nstatus: {nodes: [{name: n1}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeYAML(data)
		if err != nil {
			return
		}
		if err := d.Config.Validate(); err != nil {
			t.Fatalf("decoded document fails validation: %v", err)
		}
		// `palisade simulate` and the CIB write documents back out: what
		// is written must read back as the same document.
		out, err := yaml.Marshal(d)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := DecodeYAML(out)
		if err != nil {
			t.Fatalf("re-encoded document refused: %v\n%s", err, out)
		}
		j1, _ := json.Marshal(d)
		j2, _ := json.Marshal(again)
		if string(j1) != string(j2) {
			t.Fatalf("round trip changed the document:\n%s\n%s", j1, j2)
		}
	})
}
