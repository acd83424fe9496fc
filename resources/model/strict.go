package model

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DecodeError is one problem in a YAML input, at a line of the file the
// node tree was parsed from. It prints like the cluster configuration's
// errors: FILE:LINE: key.path: reason.
type DecodeError struct {
	File   string // empty when the input has no name
	Line   int    // 0 when the problem has no single line
	Key    string // key path, e.g. "resources.resources[0].tpye"
	Reason string
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// DecodeErrors is every problem found in one input, in file order, so an
// operator fixes a file in one pass.
type DecodeErrors []*DecodeError

func (es DecodeErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// maxDecodeErrors bounds the report: one file, one screen.
const maxDecodeErrors = 50

// StrictDecoder decodes a yaml.Node tree into a model type and refuses
// unknown keys, duplicate keys and values of the wrong type, naming the
// line of each (lines stay those of the file the tree was parsed from, so
// a section of a bigger file reports the file's own lines). The valid
// keys come from the yaml tags of the target type by reflection, so the
// error text cannot drift from the model:
//
//	var cfg model.Config
//	err := model.StrictDecoder{File: "cluster.yaml", Path: "resources"}.Decode(section, &cfg)
//	// cluster.yaml:21: resources.resources[0].tpye: unknown key, valid keys here: class, id, ...
type StrictDecoder struct {
	File string // names the input in errors
	Path string // key path of the node, e.g. "resources"; empty at a document's top
	// ExtraKeys are keys of the top mapping that the caller reads itself
	// (cluster/dc's admin_epoch): the walk skips them and lists them
	// among the valid keys there.
	ExtraKeys []string
}

// Decode checks n against the type out points to, then decodes it. A nil
// node, an empty document or a null leaves out unchanged. The error is a
// DecodeErrors.
func (d StrictDecoder) Decode(n *yaml.Node, out any) error {
	pv := reflect.ValueOf(out)
	if pv.Kind() != reflect.Pointer || pv.IsNil() {
		panic("model.StrictDecoder: Decode needs a non-nil pointer")
	}
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n == nil || n.Kind == 0 {
		return nil
	}
	w := &strictWalker{file: d.File, extra: d.ExtraKeys, top: n, seen: map[visit]bool{}}
	w.walk(n, pv.Type().Elem(), d.Path)
	if len(w.errs) > 0 {
		slices.SortStableFunc(w.errs, func(a, b *DecodeError) int { return a.Line - b.Line })
		return w.errs
	}
	// The walk accepts only what yaml.v3 decodes, but should it miss
	// something the decoder's own error still comes back in our format.
	if err := n.Decode(out); err != nil {
		return d.decodeErrors(err, n.Line)
	}
	return nil
}

// decodeErrors turns a yaml.v3 error into DecodeErrors.
func (d StrictDecoder) decodeErrors(err error, line int) DecodeErrors {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	es := make(DecodeErrors, 0, len(msgs))
	for _, m := range msgs {
		l, reason := splitLine(m)
		if l == 0 {
			l = line
		}
		es = append(es, &DecodeError{File: d.File, Line: l, Key: d.Path, Reason: reason})
	}
	return es
}

// SyntaxError turns the error of yaml.Unmarshal into a DecodeErrors that
// names file and line.
func SyntaxError(file string, err error) error {
	l, reason := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
	return DecodeErrors{{File: file, Line: l, Reason: "YAML syntax: " + reason}}
}

// splitLine splits yaml.v3's "line N: reason".
func splitLine(msg string) (int, string) {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			return line, rest
		}
	}
	return 0, msg
}

// visit is one node checked against one type; aliases can point many
// times to one node, which is then checked once (no alias bombs).
type visit struct {
	n *yaml.Node
	t reflect.Type
}

type strictWalker struct {
	file  string
	extra []string
	top   *yaml.Node
	seen  map[visit]bool
	errs  DecodeErrors
}

func (w *strictWalker) errf(n *yaml.Node, key, format string, args ...any) {
	if len(w.errs) >= maxDecodeErrors {
		return
	}
	w.errs = append(w.errs, &DecodeError{File: w.file, Line: n.Line, Key: key, Reason: fmt.Sprintf(format, args...)})
}

var (
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
)

// walk checks n against type t; path names n in errors.
func (w *strictWalker) walk(n *yaml.Node, t reflect.Type, path string) {
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
		w.mapping(n, t, path, fieldNames(fields, extra), func(k, v *yaml.Node, key string) bool {
			if f, ok := fields[k.Value]; ok {
				w.walk(v, f, key)
				return true
			}
			return slices.Contains(extra, k.Value)
		})
	case reflect.Map:
		w.mapping(n, t, path, nil, func(k, v *yaml.Node, key string) bool {
			if t.Key().Kind() != reflect.String {
				w.leaf(k, t.Key(), key)
			}
			w.walk(v, t.Elem(), key)
			return true
		})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			w.errf(n, path, "is %s, want a list", kindName(n))
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

// mapping checks n is a mapping without duplicate keys and calls each
// for every entry; each returns false for an unknown key, which is
// reported with valid (the known keys; nil for a map, where any key goes).
// Merge keys (<<: *anchor) are followed into the same type.
func (w *strictWalker) mapping(n *yaml.Node, t reflect.Type, path string, valid []string, each func(k, v *yaml.Node, key string) bool) {
	if n.Kind != yaml.MappingNode {
		w.errf(n, path, "is %s, want a mapping", kindName(n))
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
			w.errf(k, path, "key is %s, want a name", kindName(k))
			continue
		}
		key := joinKey(path, k.Value)
		if line, dup := first[k.Value]; dup {
			w.errf(k, key, "duplicate key (first on line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		if !each(k, v, key) {
			w.errf(k, key, "unknown key, valid keys here: %s", strings.Join(valid, ", "))
		}
	}
}

// merge follows a merge key's value: a mapping or a list of them.
func (w *strictWalker) merge(v *yaml.Node, t reflect.Type, path string, valid []string, each func(k, v *yaml.Node, key string) bool) {
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
			w.errf(m, joinKey(path, "<<"), "is %s, want a mapping or a list of mappings to merge", kindName(m))
			continue
		}
		// Checked once per type, like any node: merges of merges
		// must not multiply the walk.
		key := visit{m, t}
		if w.seen[key] {
			continue
		}
		w.seen[key] = true
		w.mapping(m, t, path, valid, each)
	}
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// leaf checks a value by decoding it on its own, and says what was wanted
// when that fails.
func (w *strictWalker) leaf(n *yaml.Node, t reflect.Type, path string) {
	custom := reflect.PointerTo(t).Implements(unmarshalerType)
	if n.Kind != yaml.ScalarNode {
		w.errf(n, path, "is %s, want %s", kindName(n), want(t))
		return
	}
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	if _, ok := err.(*yaml.TypeError); ok || !custom {
		w.errf(n, path, "%q: want %s", n.Value, want(t))
		return
	}
	// The type's own message (Score, Duration) says what it wants.
	_, reason := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
	w.errf(n, path, "%s", reason)
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

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "nothing"
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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
