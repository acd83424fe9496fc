package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"palisade/cluster/dcmsg"
	"palisade/cluster/replica"
	"palisade/resources/model"
)

// cfgSim is the simulated cluster's configuration state: what each node
// persisted (state_dir), its configuration file, and answers to proposals.
type cfgSim struct {
	persisted map[string]*replica.Persisted
	files     map[string]*model.Config // nil: the base configuration
	admins    map[string]uint64        // admin_epoch of each node's file
	fileSeen  map[string]string        // Runtime.fileDigest
	pending   map[string]*model.Config // edited file to propose once joined
	names     map[string]string        // digest → config name, for output
	results   []dcmsg.ConfigResult
	seq       int
}

func (s *sim) cfgInit() {
	if s.cfgs.persisted != nil {
		return
	}
	base := s.nodes[s.names()[0]].c.CIB().Config
	s.cfgs = cfgSim{persisted: map[string]*replica.Persisted{}, files: map[string]*model.Config{}, fileSeen: map[string]string{},
		pending: map[string]*model.Config{}, admins: map[string]uint64{}, names: map[string]string{replica.ConfigDigest(base): "base"}}
	for _, n := range s.names() {
		s.cfgs.files[n] = base
		s.cfgs.fileSeen[n] = replica.FileDigest(base, 0)
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
func (s *sim) persist(name string, cib *replica.CIB) {
	s.cfgInit()
	p := replica.PersistedOf(cib, s.cfgs.fileSeen[name], 0)
	s.cfgs.persisted[name] = &p
}

// restart recreates node name's coordinator from what it persisted and its
// configuration file (StartCIB), as palisaded does at start-up. It runs
// nothing afterwards.
func (s *sim) restart(name string) (propose bool) {
	s.cfgInit()
	names := s.names()
	file := s.cfgs.files[name]
	cib, fd, propose := replica.StartCIB(s.cfgs.persisted[name], file, s.cfgs.admins[name])
	s.cfgs.fileSeen[name] = fd
	sched := s.nodes[name].c.Scheduler()
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
	cfg, admin := decodeUnchecked(s.t, path, b)
	s.cfgs.names[replica.ConfigDigest(cfg)] = name
	return cfg, admin
}

// propose submits cfg on node on and returns the answer as a line.
func (s *sim) propose(on string, cfg *model.Config, admin uint64, what string) (dcmsg.ConfigResult, string) {
	return s.proposeWith(on, dcmsg.Proposal{Config: cfg, AdminEpoch: admin}, what)
}

// proposeWith submits p (its ID and Source set here) on node on.
func (s *sim) proposeWith(on string, p dcmsg.Proposal, what string) (dcmsg.ConfigResult, string) {
	s.cfgInit()
	s.cfgs.seq++
	id := fmt.Sprintf("%s/%d", on, s.cfgs.seq)
	p.ID, p.Source = id, what
	s.nodes[on].Propose(p, s.now)
	s.pump()
	for _, r := range s.cfgs.results {
		if r.ID != id {
			continue
		}
		extra := ""
		if len(r.Kept) > 0 {
			extra += "; kept " + strings.Join(r.Kept, ", ")
		}
		if len(r.Dropped) > 0 {
			extra += "; dropped " + strings.Join(r.Dropped, ", ")
		}
		switch {
		case r.Accepted:
			return r, fmt.Sprintf("%s %s: accepted by %s as %s%s", on, what, r.DC, r.Version, extra)
		case r.Unchanged:
			return r, fmt.Sprintf("%s %s: unchanged (%s)%s", on, what, r.Version, extra)
		case r.Retry:
			return r, fmt.Sprintf("%s %s: not now: %s", on, what, r.Error)
		}
		return r, fmt.Sprintf("%s %s: refused: %s", on, what, r.Error)
	}
	return dcmsg.ConfigResult{}, fmt.Sprintf("%s %s: no answer", on, what)
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
			s.cfgs.fileSeen[n] = replica.FileDigest(cfg, s.cfgs.admins[n])
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

// decodeUnchecked reads a resources section with the scheduler's model
// (strictly) but without model.Validate, like a proposer that does not
// check: the DC must. (palisaded and the CLI decode with cluster/config,
// which validates.)
func decodeUnchecked(t *testing.T, path string, b []byte) (*model.Config, uint64) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	var admin uint64
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "admin_epoch" {
			if err := root.Content[i+1].Decode(&admin); err != nil {
				t.Fatal(err)
			}
			root.Content = slices.Delete(root.Content, i, i+2)
			break
		}
	}
	var cfg model.Config
	if err := (model.StrictDecoder{File: path, Path: "resources"}).Decode(root, &cfg); err != nil {
		t.Fatal(err)
	}
	return &cfg, admin
}
