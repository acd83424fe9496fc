package strict

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind describes a node for "is X, want Y" messages.
func Kind(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "empty"
		}
		return "the value " + Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// Join appends a key to a key path ("" is the top of the file).
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Deref follows an alias to the node it names. Every walk of the
// Collector follows aliases through it, within a budget: a file of nested
// aliases (a "billion laughs") gets an error, not an expansion.
func (c *Collector) Deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		c.aliases--
		switch {
		case c.aliases == 0:
			c.Errorf(n, "", "more than %d aliases followed: the file expands too much", maxAliases)
			fallthrough
		case c.aliases < 0:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	return n
}

// Fields walks a mapping, calling handlers[key] for each known key, and
// reports unknown keys (listing the valid ones) and duplicate keys. Merge
// keys (<<: *anchor) are followed; a key of the mapping itself wins over a
// merged one, as in YAML. It reports false if n is not a mapping.
func (c *Collector) Fields(n *yaml.Node, path string, handlers map[string]func(v *yaml.Node, key string)) bool {
	valid := make([]string, 0, len(handlers))
	for k := range handlers {
		valid = append(valid, k)
	}
	slices.Sort(valid)
	return c.Mapping(n, path, valid, func(name string, _, v *yaml.Node, key string) bool {
		h, ok := handlers[name]
		if ok {
			h(v, key)
		}
		return ok
	})
}

// Map walks a mapping whose keys are names of the file's choosing (node
// names, parameters): each gets every entry; duplicates are reported.
func (c *Collector) Map(n *yaml.Node, path string, each func(name string, v *yaml.Node, key string)) bool {
	return c.Mapping(n, path, nil, func(name string, _, v *yaml.Node, key string) bool {
		each(name, v, key)
		return true
	})
}

// Mapping is the walk under Fields and Map: each returns false for a key
// it does not know, which is reported with valid.
func (c *Collector) Mapping(n *yaml.Node, path string, valid []string, each func(name string, k, v *yaml.Node, key string) bool) bool {
	n = c.Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		c.Errorf(n, path, "is %s, want a mapping", Kind(n))
		return false
	}
	first := map[string]int{}
	c.entries(n, path, valid, first, true, each)
	return true
}

// entries walks the entries of mapping n, then its merge keys' mappings.
// own: the entries are the mapping's own (a duplicate is an error), not
// merged ones (a merged key already set is skipped).
func (c *Collector) entries(n *yaml.Node, path string, valid []string, first map[string]int, own bool, each func(name string, k, v *yaml.Node, key string) bool) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := c.Deref(n.Content[i]), n.Content[i+1]
		if isMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.Errorf(k, path, "key is %s, want a name", Kind(k))
			continue
		}
		key := Join(path, k.Value)
		if line, dup := first[k.Value]; dup {
			if own {
				c.Errorf(k, key, "duplicate key (first on line %d)", line)
			}
			continue
		}
		first[k.Value] = k.Line
		if !each(k.Value, k, v, key) {
			c.Errorf(k, key, "unknown key, valid keys here: %s", strings.Join(valid, ", "))
		}
	}
	for _, m := range merges {
		m = c.Deref(m)
		list := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			list = m.Content
		}
		for _, mm := range list {
			mm = c.Deref(mm)
			if mm.Kind != yaml.MappingNode {
				c.Errorf(mm, Join(path, "<<"), "is %s, want a mapping or a list of mappings to merge", Kind(mm))
				continue
			}
			c.entries(mm, path, valid, first, false, each)
		}
	}
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// List walks a sequence; key of element i is path[i].
func (c *Collector) List(n *yaml.Node, path string, each func(i int, v *yaml.Node, key string)) bool {
	n = c.Deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		c.Errorf(n, path, "is %s, want a list", Kind(n))
		return false
	}
	for i, v := range n.Content {
		each(i, c.Deref(v), path+"["+strconv.Itoa(i)+"]")
	}
	return true
}

// Scalar returns the value of a scalar node, or reports what it is.
func (c *Collector) Scalar(n *yaml.Node, key string) (string, bool) {
	n = c.Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		c.Errorf(n, key, "is %s, want a value", Kind(n))
		return "", false
	}
	return n.Value, true
}
