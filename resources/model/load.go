package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Document is a standalone scheduler input file as `palisade simulate`
// reads it: the configuration and the status side by side.
type Document struct {
	// Now, when set, is the evaluation time for failure-timeout.
	Now    time.Time `yaml:"now,omitempty" json:"now,omitempty"`
	Config Config    `yaml:"config" json:"config"`
	Status Status    `yaml:"status" json:"status"`
}

// DecodeYAML reads a Document strictly: unknown keys are errors, so a typo
// never silently changes placement. Errors say "line N: key.path: ...".
func DecodeYAML(data []byte) (*Document, error) {
	return DecodeYAMLFile("", data)
}

// DecodeYAMLFile is DecodeYAML for a named file: errors read
// FILE:LINE: key.path: reason, like the cluster configuration's.
func DecodeYAMLFile(file string, data []byte) (*Document, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, SyntaxError(file, err)
	}
	if len(n.Content) == 0 {
		return nil, DecodeErrors{{File: file, Reason: "empty document, want the keys config and status (and now)"}}
	}
	var d Document
	if err := (StrictDecoder{File: file}).Decode(&n, &d); err != nil {
		return nil, err
	}
	if err := d.Config.Validate(); err != nil {
		if file != "" {
			return nil, fmt.Errorf("%s: config: %w", file, err)
		}
		return nil, err
	}
	return &d, nil
}

// Validate checks ids are unique and references resolve.
func (c *Config) Validate() error {
	ids := map[string]string{}
	var walk func(r *Resource, parent *Resource) error
	walk = func(r *Resource, parent *Resource) error {
		if r == nil || r.ID == "" {
			return fmt.Errorf("resource without id (in %s)", idOr(parent))
		}
		if k, dup := ids[r.ID]; dup {
			return fmt.Errorf("resource %q: id already used by a %s", r.ID, k)
		}
		ids[r.ID] = r.KindOf()
		switch r.KindOf() {
		case KindPrimitive:
			if len(r.Members) > 0 {
				return fmt.Errorf("resource %q: a primitive has no members (set kind: group or clone)", r.ID)
			}
		case KindGroup:
			if parent != nil && parent.KindOf() == KindGroup {
				return fmt.Errorf("group %q: groups cannot nest", r.ID)
			}
			for _, m := range r.Members {
				if m != nil && m.KindOf() != KindPrimitive {
					return fmt.Errorf("group %q: member %q must be a primitive", r.ID, m.ID)
				}
			}
		case KindClone:
			if parent != nil {
				return fmt.Errorf("clone %q: clones must be top-level", r.ID)
			}
			if len(r.Members) != 1 {
				return fmt.Errorf("clone %q: want exactly one member, have %d", r.ID, len(r.Members))
			}
		default:
			return fmt.Errorf("resource %q: kind %q: want primitive, group or clone", r.ID, r.Kind)
		}
		for _, m := range r.Members {
			if err := walk(m, r); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range c.Resources {
		if err := walk(r, nil); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, n := range c.Nodes {
		if n.Name == "" {
			return fmt.Errorf("node without name")
		}
		if seen[n.Name] {
			return fmt.Errorf("node %q listed twice", n.Name)
		}
		seen[n.Name] = true
	}
	need := func(what, id, ref string) error {
		if _, ok := ids[ref]; !ok {
			return fmt.Errorf("%s %q: unknown resource %q", what, id, ref)
		}
		return nil
	}
	for _, l := range c.Constraints.Locations {
		if err := need("location", l.ID, l.Rsc); err != nil {
			return err
		}
		if l.Node == "" && len(l.Rules) == 0 {
			return fmt.Errorf("location %q: want node+score or rules", l.ID)
		}
	}
	for _, cc := range c.Constraints.Colocations {
		if err := need("colocation", cc.ID, cc.Rsc); err != nil {
			return err
		}
		if err := need("colocation", cc.ID, cc.With); err != nil {
			return err
		}
	}
	for _, tk := range c.Constraints.Tickets {
		if err := need("ticket", tk.ID, tk.Rsc); err != nil {
			return err
		}
		if tk.Ticket == "" {
			return fmt.Errorf("ticket constraint %q: no ticket named", tk.ID)
		}
	}
	for _, o := range c.Constraints.Orders {
		if err := need("order", o.ID, o.First); err != nil {
			return err
		}
		if err := need("order", o.ID, o.Then); err != nil {
			return err
		}
	}
	return nil
}

// Primitive finds a configured primitive by id; clone instance ids
// ("db:1") resolve to the clone's primitive. Nil if there is none.
func (c *Config) Primitive(id string) *Resource {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		if _, err := strconv.Atoi(id[i+1:]); err == nil {
			id = id[:i]
		}
	}
	var find func(rs []*Resource) *Resource
	find = func(rs []*Resource) *Resource {
		for _, r := range rs {
			if r == nil {
				continue
			}
			if r.ID == id && r.KindOf() == KindPrimitive {
				return r
			}
			if m := find(r.Members); m != nil {
				return m
			}
		}
		return nil
	}
	return find(c.Resources)
}

func idOr(r *Resource) string {
	if r == nil {
		return "resources"
	}
	return r.ID
}

// SortedKeys returns a map's keys in order (used for deterministic output).
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
