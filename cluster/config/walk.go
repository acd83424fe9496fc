package config

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// walker validates a yaml.Node tree and collects errors with lines.
type walker struct {
	file string
	errs Errors
}

func (w *walker) errf(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	if len(w.errs) >= 50 {
		return // one file, one screen: the rest would be noise
	}
	w.errs = append(w.errs, &Error{File: w.file, Line: line, Key: key, Reason: fmt.Sprintf(format, args...)})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fields walks a mapping, calling handlers[key] for each known key and
// reporting unknown and duplicate keys with the list of valid ones.
func (w *walker) fields(n *yaml.Node, path string, handlers map[string]func(v *yaml.Node, key string)) {
	if n.Kind != yaml.MappingNode {
		w.errf(n, path, "is %s, want a mapping", kindName(n))
		return
	}
	valid := make([]string, 0, len(handlers))
	for k := range handlers {
		valid = append(valid, k)
	}
	slices.Sort(valid)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.errf(k, key, "duplicate key (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		h, ok := handlers[k.Value]
		if !ok {
			w.errf(k, key, "unknown key, valid keys here: %s", strings.Join(valid, ", "))
			continue
		}
		h(v, key)
	}
}

// seq walks a list.
func (w *walker) seq(n *yaml.Node, path string, each func(i int, v *yaml.Node, key string)) {
	if n.Kind != yaml.SequenceNode {
		w.errf(n, path, "is %s, want a list", kindName(n))
		return
	}
	for i, v := range n.Content {
		each(i, v, fmt.Sprintf("%s[%d]", path, i))
	}
}

// scalar returns the value of a scalar node or reports it.
func (w *walker) scalar(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		w.errf(n, key, "is %s, want a value", kindName(n))
		return "", false
	}
	return n.Value, true
}
