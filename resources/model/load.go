package model

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
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

// Validate checks ids are unique and references resolve. Every problem
// is reported (one a line), not only the first.
func (c *Config) Validate() error {
	ps := c.Problems()
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// Problem is one reason Validate refuses a configuration, about one
// object: a resource (What "resource", "group" or "clone"), a node, or a
// constraint ("location", "colocation", "order", "ticket constraint").
// The configuration decoder puts it at the object's line.
type Problem struct {
	What string
	ID   string // empty: the object has none (a resource without id)
	// Nth is the occurrence of ID the problem is about (1: the first; 2
	// for an id used twice).
	Nth    int
	Reason string
}

func (p *Problem) Error() string {
	if p.ID == "" {
		return p.Reason
	}
	return fmt.Sprintf("%s %s: %s", p.What, strict.Quote(p.ID), p.Reason)
}

// Problems lists every problem Validate reports, in configuration order.
func (c *Config) Problems() []*Problem {
	var out []*Problem
	add := func(what, id string, nth int, format string, args ...any) {
		out = append(out, &Problem{What: what, ID: id, Nth: nth, Reason: fmt.Sprintf(format, args...)})
	}
	ids := map[string]string{}
	seen := map[string]int{}
	var walk func(r *Resource, parent *Resource)
	walk = func(r *Resource, parent *Resource) {
		if r == nil || r.ID == "" {
			seen[""]++
			out = append(out, &Problem{What: "resource", Nth: seen[""], Reason: fmt.Sprintf("resource without id (in %s)", idOr(parent))})
			return
		}
		seen[r.ID]++
		if k, dup := ids[r.ID]; dup {
			add("resource", r.ID, seen[r.ID], "id already used by a %s", k)
		} else {
			ids[r.ID] = r.KindOf()
		}
		switch r.KindOf() {
		case KindPrimitive:
			if len(r.Members) > 0 {
				add("resource", r.ID, seen[r.ID], "a primitive has no members (set kind: group or clone)")
			}
		case KindGroup:
			if parent != nil && parent.KindOf() == KindGroup {
				add("group", r.ID, seen[r.ID], "groups cannot nest")
			}
			for _, m := range r.Members {
				if m != nil && m.KindOf() != KindPrimitive {
					add("group", r.ID, seen[r.ID], "member %s must be a primitive", strict.Quote(m.ID))
				}
			}
		case KindClone:
			if parent != nil {
				add("clone", r.ID, seen[r.ID], "clones must be top-level")
			}
			if len(r.Members) != 1 {
				add("clone", r.ID, seen[r.ID], "want exactly one member, have %d", len(r.Members))
			}
		case KindBundle:
			if parent != nil {
				add("bundle", r.ID, seen[r.ID], "bundles must be top-level")
			}
			if len(r.Members) > 1 || len(r.Members) == 1 && r.Members[0] != nil && r.Members[0].KindOf() != KindPrimitive {
				add("bundle", r.ID, seen[r.ID], "want at most one member, a primitive")
			}
			if b := r.Bundle; b != nil {
				switch strings.ToLower(b.Runtime) {
				case "", "docker", "podman", "rkt":
				default:
					add("bundle", r.ID, seen[r.ID], "runtime %s: want docker, podman or rkt", strict.Quote(b.Runtime))
				}
				if b.Replicas < 0 || b.ReplicasPerHost < 0 || b.PromotedMax < 0 {
					add("bundle", r.ID, seen[r.ID], "replicas, replicas-per-host and promoted-max cannot be negative")
				}
			}
		default:
			add("resource", r.ID, seen[r.ID], "kind %s: want primitive, group, clone or bundle", strict.Quote(r.Kind))
		}
		for _, m := range r.Members {
			walk(m, r)
		}
	}
	for _, r := range c.Resources {
		walk(r, nil)
	}
	names := map[string]int{}
	for _, n := range c.Nodes {
		if n.Name == "" {
			names[""]++
			out = append(out, &Problem{What: "node", Nth: names[""], Reason: "node without name"})
			continue
		}
		names[n.Name]++
		if names[n.Name] == 2 {
			add("node", n.Name, 2, "listed twice")
		}
	}
	need := func(what, id, ref string) {
		if _, ok := ids[ref]; !ok {
			add(what, id, 1, "unknown resource %s", strict.Quote(ref))
		}
	}
	for _, l := range c.Constraints.Locations {
		need("location", l.ID, l.Rsc)
		if l.Node == "" && len(l.Rules) == 0 {
			add("location", l.ID, 1, "want node+score or rules")
		}
		switch strings.ToLower(l.Discovery) {
		case "", "always", "never", "exclusive":
		default:
			add("location", l.ID, 1, "discovery %s: want always, never or exclusive", strict.Quote(l.Discovery))
		}
	}
	for _, cc := range c.Constraints.Colocations {
		need("colocation", cc.ID, cc.Rsc)
		need("colocation", cc.ID, cc.With)
	}
	for _, tk := range c.Constraints.Tickets {
		need("ticket", tk.ID, tk.Rsc)
		if tk.Ticket == "" {
			add("ticket constraint", tk.ID, 1, "no ticket named")
		}
	}
	for _, o := range c.Constraints.Orders {
		switch {
		case o.First != "" && len(o.FirstAny) > 0:
			add("order", o.ID, 1, "want first or first-any, not both")
		case len(o.FirstAny) > 0:
			for _, f := range o.FirstAny {
				need("order", o.ID, f)
			}
		default:
			need("order", o.ID, o.First)
		}
		need("order", o.ID, o.Then)
	}
	return out
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
	return strict.Quote(r.ID)
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
