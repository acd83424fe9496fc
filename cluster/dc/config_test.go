package dc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"palisade/resources/model"
)

// cfgSim is the simulated cluster's configuration state: what each node
// persisted (state_dir), its configuration file, and answers to proposals.
type cfgSim struct {
	persisted map[string]*Persisted
	files     map[string]*model.Config // nil: the base configuration
	admins    map[string]uint64        // admin_epoch of each node's file
	fileSeen  map[string]string        // Runtime.fileDigest
	pending   map[string]*model.Config // edited file to propose once joined
	names     map[string]string        // digest → config name, for output
	results   []ConfigResult
	seq       int
}

func (s *sim) cfgInit() {
	if s.cfgs.persisted != nil {
		return
	}
	base := s.nodes[s.names()[0]].c.CIB().Config
	s.cfgs = cfgSim{persisted: map[string]*Persisted{}, files: map[string]*model.Config{}, fileSeen: map[string]string{},
		pending: map[string]*model.Config{}, admins: map[string]uint64{}, names: map[string]string{ConfigDigest(base): "base"}}
	for _, n := range s.names() {
		s.cfgs.files[n] = base
		s.cfgs.fileSeen[n] = FileDigest(base, 0)
	}
}

func (s *sim) names() []string {
	return slices.Sorted(func(y func(string) bool) {
		for k := range s.nodes {
			if !y(k) {
				return
			}
		}
	})
}

// persist is what Runtime.persist does: keep the replica with the file
// digest seen.
func (s *sim) persist(name string, cib *CIB) {
	s.cfgInit()
	p := PersistedOf(cib, s.cfgs.fileSeen[name], 0)
	s.cfgs.persisted[name] = &p
}

// restart recreates node name's coordinator from what it persisted and its
// configuration file (StartCIB), as palisaded does at start-up. It runs
// nothing afterwards.
func (s *sim) restart(name string) (propose bool) {
	s.cfgInit()
	names := s.names()
	file := s.cfgs.files[name]
	cib, fd, propose := StartCIB(s.cfgs.persisted[name], file, s.cfgs.admins[name])
	s.cfgs.fileSeen[name] = fd
	sched := s.nodes[name].c.cfg.Schedule
	s.nodes[name] = testEngine(s.t, name, names, sched, cib)
	for r, n := range s.running {
		if n == name {
			delete(s.running, r)
		}
	}
	delete(s.cfgs.pending, name)
	if propose {
		s.cfgs.pending[name] = file
	}
	return propose
}

// loadConfig reads testdata/config/NAME.yaml (a resources section)
// strictly but without model.Validate, like a proposer that does not
// check: the DC must.
func (s *sim) loadConfig(name string) (*model.Config, uint64) {
	s.cfgInit()
	path := filepath.Join("testdata", "config", name+".yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		s.t.Fatal(err)
	}
	cfg, admin, err := decodeUnchecked(path, doc.Content[0])
	if err != nil {
		s.t.Fatal(err)
	}
	s.cfgs.names[ConfigDigest(cfg)] = name
	return cfg, admin
}

// propose submits cfg on node on and returns the answer as a line.
func (s *sim) propose(on string, cfg *model.Config, admin uint64, what string) (ConfigResult, string) {
	s.cfgs.seq++
	id := fmt.Sprintf("%s/%d", on, s.cfgs.seq)
	s.nodes[on].Propose(Proposal{ID: id, Config: cfg, AdminEpoch: admin, Source: what}, s.now)
	s.pump()
	for _, r := range s.cfgs.results {
		if r.ID != id {
			continue
		}
		switch {
		case r.Accepted:
			return r, fmt.Sprintf("%s %s: accepted by %s as %s", on, what, r.DC, r.Version)
		case r.Unchanged:
			return r, fmt.Sprintf("%s %s: unchanged (%s)", on, what, r.Version)
		case r.Retry:
			return r, fmt.Sprintf("%s %s: not now: %s", on, what, r.Error)
		}
		return r, fmt.Sprintf("%s %s: refused: %s", on, what, r.Error)
	}
	return ConfigResult{}, fmt.Sprintf("%s %s: no answer", on, what)
}

// proposePending proposes the edited files of restarted nodes that are
// members of a view now (what proposeFileSection does in palisaded).
func (s *sim) proposePending() []string {
	var out []string
	for _, n := range s.names() {
		cfg := s.cfgs.pending[n]
		if cfg == nil || !s.up[n] || s.nodes[n].c.DC() == "" {
			continue
		}
		delete(s.cfgs.pending, n)
		res, line := s.propose(n, cfg, s.cfgs.admins[n], "edited file")
		if res.Accepted || res.Unchanged {
			s.cfgs.fileSeen[n] = FileDigest(cfg, s.cfgs.admins[n])
		}
		out = append(out, line)
	}
	return out
}

// versions prints every node's replica: version and configuration name.
func (s *sim) versions() []string {
	s.cfgInit()
	var out []string
	for _, n := range s.names() {
		cib := s.nodes[n].c.CIB()
		name := s.cfgs.names[cib.Digest]
		if name == "" {
			name = "digest " + cib.Digest[:12]
		}
		state := ""
		if !s.up[n] {
			state = " (down)"
		}
		out = append(out, fmt.Sprintf("%s %s %s%s", n, cib.Version, name, state))
	}
	return out
}

func TestVersionOrderIsTotal(t *testing.T) {
	a := &CIB{Version: Version{Epoch: 2, NumUpdates: 3}, Digest: "aa"}
	b := &CIB{Version: Version{Epoch: 2, NumUpdates: 3}, Digest: "bb"}
	if Newer(a, b) != b || Newer(b, a) != b {
		t.Fatal("equal versions: the higher digest must win whichever side compares")
	}
	c := &CIB{Version: Version{Epoch: 3}, Digest: "00"}
	if Newer(b, c) != c {
		t.Fatal("epoch dominates digest and num_updates")
	}
	d := &CIB{Version: Version{AdminEpoch: 1}, Digest: "00"}
	if Newer(c, d) != d {
		t.Fatal("admin_epoch dominates epoch")
	}
}

func TestStartCIB(t *testing.T) {
	base := &model.Config{Resources: []*model.Resource{{ID: "a", Type: "Dummy"}}}
	edited := &model.Config{Resources: []*model.Resource{{ID: "b", Type: "Dummy"}}}
	cib, fd, propose := StartCIB(nil, base, 3)
	if cib.Version != (Version{AdminEpoch: 3, Epoch: 1}) || propose || fd != FileDigest(base, 3) {
		t.Fatalf("fresh start: %v %q %v", cib.Version, fd, propose)
	}
	p := &Persisted{Version: Version{Epoch: 7, NumUpdates: 40}, Config: edited, FileDigest: FileDigest(base, 0)}
	cib, _, propose = StartCIB(p, base, 0)
	if cib.Version != (Version{Epoch: 7}) || cib.Config != edited || propose {
		t.Fatalf("stale file: want the persisted 0.7.0 kept and nothing proposed, got %v %v", cib.Version, propose)
	}
	if _, _, propose = StartCIB(p, edited, 0); !propose {
		t.Fatal("a file edited while the node was down must be proposed")
	}
	if _, _, propose = StartCIB(p, base, 1); !propose {
		t.Fatal("a raised admin_epoch is an edit")
	}
}

func TestDecodeConfig(t *testing.T) {
	section := "admin_epoch: 2\nresources:\n  - {id: a, class: ocf, provider: heartbeat, type: Dummy}\n"
	cfg, admin, err := DecodeConfig("s.yaml", []byte(section))
	if err != nil || admin != 2 || len(cfg.Resources) != 1 {
		t.Fatalf("section: %v %d %v", cfg, admin, err)
	}
	whole := "cluster: {name: x}\nresources:\n  admin_epoch: 2\n  resources:\n    - {id: a, class: ocf, provider: heartbeat, type: Dummy}\n"
	cfg2, admin, err := DecodeConfig("c.yaml", []byte(whole))
	if err != nil || admin != 2 || ConfigDigest(cfg2) != ConfigDigest(cfg) {
		t.Fatalf("cluster.yaml: %v %d %v", cfg2, admin, err)
	}
	for text, want := range map[string]string{
		"admin_epoch: -1\n":                "s.yaml:1: resources.admin_epoch",
		"resources: [{id: a}]\nbogus: 1\n": "s.yaml:2: resources.bogus: unknown key, valid keys here: admin_epoch, constraints, nodes, options, resources, rsc_defaults",
		"constraints: {locations: [{id: l, rsc: web, node: n1, score: 10}]}\n": `unknown resource "web"`,
		"- a\n":          "want a YAML mapping",
		"resources: [\n": "s.yaml:",
	} {
		if _, _, err := DecodeConfig("s.yaml", []byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to mention %q", text, err, want)
		}
	}
}

// TestDecodeConfigErrors pins the exact text: the file's own lines (also
// for a section inside a cluster.yaml), the key path and the valid keys.
func TestDecodeConfigErrors(t *testing.T) {
	const rscKeys = "class, id, kind, members, meta, ops, params, provider, type, utilization"
	for _, c := range []struct{ file, in, want string }{
		{"c.yaml", "cluster: {name: x}\nnodes: []\nresources:\n  resources:\n    - id: vip\n      tpye: IPaddr2\n",
			"c.yaml:6: resources.resources[0].tpye: unknown key, valid keys here: " + rscKeys},
		{"c.yaml", "resources:\n  admin_epoch: x\n  option: {}\n  resources:\n    - {id: a, ops: [{name: monitor, interval: soon}]}\n",
			"c.yaml:2: resources.admin_epoch: \"x\": want a whole number ≥ 0 (raise it to force this configuration over the cluster's)\n" +
				"c.yaml:3: resources.option: unknown key, valid keys here: admin_epoch, constraints, nodes, options, resources, rsc_defaults\n" +
				"c.yaml:5: resources.resources[0].ops[0].interval: duration \"soon\": want seconds or a duration such as 10s, 1m"},
		{"s.yaml", "options:\n  stonith-enabled: perhaps\n",
			"s.yaml:2: resources.options.stonith-enabled: \"perhaps\": want true or false"},
		{"s.yaml", "constraints:\n  locations:\n    - {id: l, rsc: a, node: n1, score: much}\n",
			"s.yaml:3: resources.constraints.locations[0].score: score \"much\": want an integer or [+-]INFINITY"},
		{"s.yaml", "options:\n  no-quorum-policy: sucide\n  stonith-action: Reboot\n  placement-strategy: fair\n",
			"s.yaml:2: resources.options.no-quorum-policy: \"sucide\": want one of stop, freeze, ignore, demote\n" +
				"s.yaml:4: resources.options.placement-strategy: \"fair\": want one of default, utilization, balanced, minimal"},
		{"s.yaml", "resources: [\n", "s.yaml:1: YAML syntax: did not find expected node content"},
		{"s.yaml", "resources: [{id: a}, {id: a}]\n", `s.yaml: resources: resource "a": id already used by a primitive`},
	} {
		_, _, err := DecodeConfig(c.file, []byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
	// The section as the daemon gets it from cluster/config: a node of
	// the whole file, so lines are the file's.
	var doc yaml.Node
	src := "cluster: {name: x}\nresources:\n  resources:\n    - {id: a}\n    - {id: b, typ: x}\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	_, err := decodeResources("/etc/palisade/cluster.yaml", doc.Content[0].Content[3])
	want := "/etc/palisade/cluster.yaml:5: resources.resources[1].typ: unknown key, valid keys here: " + rscKeys
	if err == nil || err.Error() != want {
		t.Errorf("section node:\n got %v\nwant %s", err, want)
	}
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte("admin_epoch: 2\nresources:\n  - {id: a, type: Dummy}\n"))
	f.Add([]byte("cluster: {name: x}\nresources:\n  resources: [{id: g, kind: group, members: [{id: a}]}]\n"))
	f.Add([]byte("constraints: {locations: [{id: l, rsc: a, node: n1, score: INFINITY}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, _, err := DecodeConfig("fuzz.yaml", b)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted an invalid configuration: %v", err)
		}
		if ConfigDigest(cfg) == "" {
			t.Fatal("no digest")
		}
		// What `palisade config push` sends back out must read back as
		// the same configuration (same digest, so no spurious CIB change).
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, _, err := DecodeConfig("again.yaml", out)
		if err != nil {
			t.Fatalf("re-encoded configuration refused: %v\n%s", err, out)
		}
		if ConfigDigest(again) != ConfigDigest(cfg) {
			t.Fatalf("round trip changed the configuration:\n%s", out)
		}
	})
}
