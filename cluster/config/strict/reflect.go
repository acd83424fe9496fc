package strict

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DecodeStrict checks n against the type out points to, then decodes it
// with yaml.v3: unknown keys, duplicate keys and values of the wrong type
// are reported at their lines under path (lines stay those of the file the
// tree was parsed from, so a section of a bigger file reports the file's
// own lines). The valid keys come from the yaml tags of the target type by
// reflection, so the error text cannot drift from the type. extraKeys are
// keys of n's own mapping that the caller reads itself: they are skipped
// and listed among the valid keys there.
//
// A nil node, an empty document or a null leaves out unchanged. It
// reports whether out was decoded.
func (c *Collector) DecodeStrict(n *yaml.Node, path string, out any, extraKeys ...string) bool {
	pv := reflect.ValueOf(out)
	if pv.Kind() != reflect.Pointer || pv.IsNil() {
		panic("strict: DecodeStrict needs a non-nil pointer")
	}
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return true
		}
		n = n.Content[0]
	}
	if n == nil || n.Kind == 0 {
		return true
	}
	before := c.Len()
	w := &typeWalker{c: c, extra: extraKeys, top: n, seen: map[visit]bool{}}
	w.walk(n, pv.Type().Elem(), path)
	if c.Len() > before {
		return false
	}
	// The walk accepts only what yaml.v3 decodes, but should it miss
	// something the decoder's own error still comes back in our format.
	if err := n.Decode(out); err != nil {
		var msgs []string
		if te, ok := err.(*yaml.TypeError); ok {
			msgs = te.Errors
		} else {
			msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		for _, m := range msgs {
			l, reason := splitLine(m)
			if l == 0 {
				l = n.Line
			}
			c.ErrorAt(l, path, "%s", reason)
		}
		return false
	}
	return true
}

// visit is one node checked against one type; aliases can point many
// times to one node, which is then checked once (no alias bombs).
type visit struct {
	n *yaml.Node
	t reflect.Type
}

type typeWalker struct {
	c     *Collector
	extra []string
	top   *yaml.Node
	seen  map[visit]bool
}

var (
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
)

// walk checks n against type t; path names n in errors.
func (w *typeWalker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if n.ShortTag() == "!!null" {
		return // yaml.v3 leaves the zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	v := visit{n, t}
	if w.seen[v] {
		return
	}
	w.seen[v] = true
	if isLeaf(t) {
		w.leaf(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		fields := structFields(t)
		var extra []string
		if n == w.top {
			extra = w.extra
		}
		w.mapping(n, t, path, fieldNames(fields, extra), func(name string, _, v *yaml.Node, key string) bool {
			if f, ok := fields[name]; ok {
				w.walk(v, f, key)
				return true
			}
			return slices.Contains(extra, name)
		})
	case reflect.Map:
		w.mapping(n, t, path, nil, func(_ string, k, v *yaml.Node, key string) bool {
			if t.Key().Kind() != reflect.String {
				w.leaf(k, t.Key(), key)
			}
			w.walk(v, t.Elem(), key)
			return true
		})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			w.c.Errorf(n, path, "is %s, want a list", Kind(n))
			return
		}
		for i, e := range n.Content {
			w.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Interface:
		// Anything decodes into an interface.
	default:
		w.leaf(n, t, path)
	}
}

// isLeaf says t decodes from a single node by its own rules.
func isLeaf(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	if p.Implements(unmarshalerType) || t == timeType || p.Implements(textUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Interface:
		return false
	}
	return true
}

// mapping checks n is a mapping without duplicate keys and calls each for
// every entry, following merge keys into the same type (each merged
// mapping once per type: merges of merges must not multiply the walk).
func (w *typeWalker) mapping(n *yaml.Node, t reflect.Type, path string, valid []string, each func(name string, k, v *yaml.Node, key string) bool) {
	if n.Kind != yaml.MappingNode {
		w.c.Errorf(n, path, "is %s, want a mapping", Kind(n))
		return
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if isMergeKey(k) {
			w.merge(v, t, path, valid, each)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.c.Errorf(k, path, "key is %s, want a name", Kind(k))
			continue
		}
		key := Join(path, k.Value)
		if line, dup := first[k.Value]; dup {
			w.c.Errorf(k, key, "duplicate key (first on line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		if !each(k.Value, k, v, key) {
			w.c.Errorf(k, key, "unknown key, valid keys here: %s", strings.Join(valid, ", "))
		}
	}
}

// merge follows a merge key's value: a mapping or a list of them.
func (w *typeWalker) merge(v *yaml.Node, t reflect.Type, path string, valid []string, each func(name string, k, v *yaml.Node, key string) bool) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	list := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		list = v.Content
	}
	for _, m := range list {
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			w.c.Errorf(m, Join(path, "<<"), "is %s, want a mapping or a list of mappings to merge", Kind(m))
			continue
		}
		key := visit{m, t}
		if w.seen[key] {
			continue
		}
		w.seen[key] = true
		w.mapping(m, t, path, valid, each)
	}
}

// leaf checks a value by decoding it on its own, and says what was wanted
// when that fails.
func (w *typeWalker) leaf(n *yaml.Node, t reflect.Type, path string) {
	custom := reflect.PointerTo(t).Implements(unmarshalerType)
	if n.Kind != yaml.ScalarNode {
		w.c.Errorf(n, path, "is %s, want %s", Kind(n), want(t))
		return
	}
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	if _, ok := err.(*yaml.TypeError); ok || !custom {
		w.c.Errorf(n, path, "%s: want %s", Quote(n.Value), want(t))
		return
	}
	// The type's own message (Score, Duration) says what it wants.
	_, reason := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
	w.c.Errorf(n, path, "%s", reason)
}

// want describes the values a leaf type takes.
func want(t reflect.Type) string {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "a single value"
	}
	if t == timeType {
		return "a time such as 2026-01-01T10:00:00Z"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number ≥ 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a value"
	}
	return "a " + t.String()
}

// structFields maps the YAML names of t's fields to their types, the way
// yaml.v3 names them: the tag's name, else the lower-cased field name;
// "-" and unexported fields are skipped, ",inline" structs flattened.
func structFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		if slices.Contains(strings.Split(flags, ","), "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range structFields(ft) {
					fields[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

// fieldNames lists the valid keys of a struct, sorted.
func fieldNames(fields map[string]reflect.Type, extra []string) []string {
	names := make([]string, 0, len(fields)+len(extra))
	for k := range fields {
		names = append(names, k)
	}
	names = append(names, extra...)
	slices.Sort(names)
	return names
}
