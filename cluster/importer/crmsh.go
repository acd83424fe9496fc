package importer

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// crmShell translates `crm configure show` output into CIB XML, so one
// reader (resources/cib and the fencing pass) handles both. Each crm
// element becomes its own configuration section placed on the XML line
// of its crm line, so every line number the readers report is the crm
// file's. Elements it cannot translate are reported as not converted.
func (c *converter) crmShell(src *Source) ([]byte, error) {
	lines, err := crmLines(src.Data)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src.Name, err)
	}
	type element struct {
		line    int
		section string
		id      string
		inner   string
		members []string
	}
	var els []*element
	byID := map[string]*element{}
	for _, l := range lines {
		inner, err := crmElement(l.words)
		if err != nil {
			c.rep.notConverted(fmt.Sprintf("%s:%d", src.Name, l.line), crmShort(l.words), "%v", err)
			continue
		}
		e := &element{line: l.line, section: crmSection[l.words[0]], inner: inner}
		if e.section == "resources" {
			e.id = l.words[1]
			if l.words[0] != "primitive" {
				for _, m := range l.words[2:] {
					if primitiveKeywords[m] {
						break
					}
					e.members = append(e.members, m)
				}
			}
			byID[e.id] = e
		}
		els = append(els, e)
	}
	// Groups and clones name members defined on their own lines; the CIB
	// nests them, so each member moves into its container.
	used := map[string]bool{}
	var expand func(e *element, depth int) (string, error)
	expand = func(e *element, depth int) (string, error) {
		out := e.inner
		if depth > 2 {
			return "", fmt.Errorf("%s: nested too deep", e.id)
		}
		for _, m := range e.members {
			me := byID[m]
			if me == nil {
				return "", fmt.Errorf("%s: member %s is not defined", e.id, m)
			}
			if used[m] {
				return "", fmt.Errorf("%s: member %s is already in another group or clone", e.id, m)
			}
			used[m] = true
			x, err := expand(me, depth+1)
			if err != nil {
				return "", err
			}
			out = strings.Replace(out, fmt.Sprintf(`<crmref id="%s"></crmref>`, xmlEscape(m)), x, 1)
		}
		return out, nil
	}
	expanded := map[*element]string{}
	for _, e := range els {
		if len(e.members) == 0 {
			continue
		}
		x, err := expand(e, 0)
		if err != nil {
			c.rep.notConverted(fmt.Sprintf("%s:%d", src.Name, e.line), e.id, "%v", err)
			used[e.id] = true // not emitted
			continue
		}
		expanded[e] = x
	}
	var b bytes.Buffer
	b.WriteString(`<cib have-quorum="1"><configuration>`)
	xmlLine := 1
	for _, e := range els {
		if e.id != "" && used[e.id] {
			continue
		}
		inner := e.inner
		if x, ok := expanded[e]; ok {
			inner = x
		}
		for xmlLine < e.line {
			b.WriteByte('\n')
			xmlLine++
		}
		fmt.Fprintf(&b, "<%s>%s</%s>", e.section, inner, e.section)
	}
	b.WriteString("</configuration></cib>\n")
	return b.Bytes(), nil
}

var crmSection = map[string]string{
	"node": "nodes", "primitive": "resources", "group": "resources", "clone": "resources", "ms": "resources",
	"location": "constraints", "colocation": "constraints", "collocation": "constraints", "order": "constraints",
	"property": "crm_config", "rsc_defaults": "rsc_defaults", "op_defaults": "op_defaults",
	"fencing_topology": "fencing-topology",
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func crmShort(w []string) string {
	s := strings.Join(w, " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	if w[0] == "primitive" || w[0] == "property" {
		// Parameters may hold passwords.
		if len(w) > 2 {
			return strings.Join(w[:3], " ") + " ..."
		}
	}
	return s
}

type crmLine struct {
	line  int
	words []string
}

// crmLines joins backslash-continued lines, drops comment lines and
// splits words with crm's double quoting ("a b" is one word, quotes
// removed).
func crmLines(data []byte) ([]crmLine, error) {
	var out []crmLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var cur strings.Builder
	line, start := 0, 0
	flush := func() error {
		if cur.Len() == 0 {
			return nil
		}
		w, err := crmWords(cur.String())
		cur.Reset()
		if err != nil {
			return fmt.Errorf("line %d: %w", start, err)
		}
		if len(w) > 0 {
			out = append(out, crmLine{start, w})
		}
		return nil
	}
	for sc.Scan() {
		line++
		t := strings.TrimRight(sc.Text(), " \t\r")
		if cur.Len() == 0 {
			if strings.HasPrefix(strings.TrimSpace(t), "#") || strings.TrimSpace(t) == "" {
				continue
			}
			start = line
		}
		if strings.HasSuffix(t, `\`) {
			cur.WriteString(strings.TrimSuffix(t, `\`) + " ")
			continue
		}
		cur.WriteString(t)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func crmWords(s string) ([]string, error) {
	var out []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
		case ch == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (ch == ' ' || ch == '\t'):
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		out = append(out, w.String())
	}
	return out, nil
}

// xmlEl writes <name k="v" ...> with the attributes in the order given.
type xmlEl struct {
	b strings.Builder
}

func (x *xmlEl) open(name string, kv ...string) {
	x.b.WriteString("<" + name)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		x.b.WriteString(" " + kv[i] + `="`)
		_ = xml.EscapeText(&x.b, []byte(kv[i+1])) // a strings.Builder never fails
		x.b.WriteString(`"`)
	}
	x.b.WriteString(">")
}

func (x *xmlEl) close(name string) { x.b.WriteString("</" + name + ">") }

func (x *xmlEl) empty(name string, kv ...string) {
	x.open(name, kv...)
	x.close(name)
}

// nvset writes a *_attributes set from k=v words.
func (x *xmlEl) nvset(set, id string, kvs []string) error {
	x.open(set, "id", id)
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q: want name=value", kv)
		}
		x.empty("nvpair", "id", id+"-"+k, "name", k, "value", v)
	}
	x.close(set)
	return nil
}

// crmSections splits words after the head into keyword groups:
// params/meta/utilization k=v... and op NAME k=v....
func crmSections(words []string, keywords map[string]bool) (map[string][]string, [][]string, error) {
	sets := map[string][]string{}
	var ops [][]string
	cur := ""
	for _, w := range words {
		switch {
		case keywords[w]:
			cur = w
			if w == "op" {
				ops = append(ops, nil)
			}
		case cur == "":
			return nil, nil, fmt.Errorf("unexpected %q (want params, meta, utilization or op)", w)
		case cur == "op":
			ops[len(ops)-1] = append(ops[len(ops)-1], w)
		default:
			sets[cur] = append(sets[cur], w)
		}
	}
	return sets, ops, nil
}

var primitiveKeywords = map[string]bool{"params": true, "meta": true, "utilization": true, "op": true}

// crmElement translates one crm element into a configuration section.
func crmElement(w []string) (string, error) {
	var x xmlEl
	head, args := w[0], w[1:]
	switch head {
	case "node":
		if len(args) == 0 {
			return "", fmt.Errorf("want `node NAME`")
		}
		id, name := "", args[0]
		args = args[1:]
		if strings.HasSuffix(name, ":") && len(args) > 0 { // node 1: n1
			id, name, args = strings.TrimSuffix(name, ":"), args[0], args[1:]
		}
		if strings.HasPrefix(name, "$id=") && len(args) > 0 {
			id, name, args = strings.TrimPrefix(name, "$id="), args[0], args[1:]
		}
		name, typ, _ := strings.Cut(name, ":")
		if id == "" {
			id = name
		}
		x.open("node", "id", id, "uname", name, "type", typ)
		sets, ops, err := crmSections(args, map[string]bool{"attributes": true, "utilization": true})
		if err != nil || len(ops) > 0 {
			return "", fmt.Errorf("node %s: %v", name, err)
		}
		if a := sets["attributes"]; len(a) > 0 {
			if err := x.nvset("instance_attributes", "nodes-"+id, a); err != nil {
				return "", err
			}
		}
		if u := sets["utilization"]; len(u) > 0 {
			if err := x.nvset("utilization", "nodes-"+id+"-utilization", u); err != nil {
				return "", err
			}
		}
		x.close("node")
	case "primitive":
		if len(args) < 2 {
			return "", fmt.Errorf("want `primitive ID AGENT ...`")
		}
		id, spec := args[0], args[1]
		if strings.HasPrefix(spec, "@") {
			return "", fmt.Errorf("primitive %s: resource templates are not supported", id)
		}
		parts := strings.Split(spec, ":")
		class, provider, typ := "ocf", "heartbeat", spec
		switch len(parts) {
		case 2:
			class, provider, typ = parts[0], "", parts[1]
		case 3:
			class, provider, typ = parts[0], parts[1], parts[2]
		}
		if err := crmPrimitive(&x, id, class, provider, typ, args[2:]); err != nil {
			return "", err
		}
	case "group", "clone", "ms":
		if len(args) < 2 {
			return "", fmt.Errorf("want `%s ID RESOURCE...`", head)
		}
		id := args[0]
		var members, rest []string
		for i, a := range args[1:] {
			if primitiveKeywords[a] {
				rest = args[1+i:]
				break
			}
			members = append(members, a)
		}
		sets, ops, err := crmSections(rest, primitiveKeywords)
		if err != nil || len(ops) > 0 {
			return "", fmt.Errorf("%s %s: %v", head, id, err)
		}
		el := map[string]string{"group": "group", "clone": "clone", "ms": "master"}[head]
		// A group's members are defined as primitives elsewhere in the
		// show output; the reader wants them nested, so the primitives are
		// referenced and nested by crmNest below.
		x.open(el, "id", id)
		if m := sets["meta"]; len(m) > 0 {
			if err := x.nvset("meta_attributes", id+"-meta_attributes", m); err != nil {
				return "", err
			}
		}
		if p := sets["params"]; len(p) > 0 {
			if err := x.nvset("instance_attributes", id+"-instance_attributes", p); err != nil {
				return "", err
			}
		}
		for _, m := range members {
			x.empty("crmref", "id", m)
		}
		x.close(el)
	case "location":
		return crmLocation(args)
	case "colocation", "collocation":
		if len(args) < 4 {
			return "", fmt.Errorf("want `colocation ID SCORE: RSC WITH-RSC`")
		}
		id, score := args[0], strings.TrimSuffix(args[1], ":")
		rscs := args[2:]
		if len(rscs) != 2 || strings.ContainsAny(strings.Join(rscs, ""), "()[]") {
			return "", fmt.Errorf("colocation %s: resource sets are not supported", id)
		}
		r, rRole, _ := strings.Cut(rscs[0], ":")
		wr, wRole, _ := strings.Cut(rscs[1], ":")
		x.empty("rsc_colocation", "id", id, "score", crmScore(score), "rsc", r, "rsc-role", rRole, "with-rsc", wr, "with-rsc-role", wRole)
	case "order":
		if len(args) < 3 {
			return "", fmt.Errorf("want `order ID [KIND:] FIRST THEN`")
		}
		id, rest := args[0], args[1:]
		kind, score := "", ""
		if strings.HasSuffix(rest[0], ":") {
			k := strings.TrimSuffix(rest[0], ":")
			switch strings.ToLower(k) {
			case "mandatory", "optional", "serialize":
				kind = strings.ToUpper(k[:1]) + strings.ToLower(k[1:])
			default:
				score = crmScore(k)
			}
			rest = rest[1:]
		}
		var sym string
		if n := len(rest); n > 0 && strings.HasPrefix(rest[n-1], "symmetrical=") {
			sym = strings.TrimPrefix(rest[n-1], "symmetrical=")
			rest = rest[:n-1]
		}
		if len(rest) != 2 || strings.ContainsAny(strings.Join(rest, ""), "()[]") {
			return "", fmt.Errorf("order %s: resource sets are not supported", id)
		}
		f, fa, _ := strings.Cut(rest[0], ":")
		t, ta, _ := strings.Cut(rest[1], ":")
		x.empty("rsc_order", "id", id, "first", f, "first-action", fa, "then", t, "then-action", ta, "kind", kind, "score", score, "symmetrical", sym)
	case "property", "rsc_defaults", "op_defaults":
		id := map[string]string{"property": "cib-bootstrap-options", "rsc_defaults": "rsc-options", "op_defaults": "op-options"}[head]
		if len(args) > 0 && strings.HasPrefix(args[0], "$id=") {
			id, args = strings.TrimPrefix(args[0], "$id="), args[1:]
		} else if len(args) > 0 && strings.HasSuffix(args[0], ":") {
			id, args = strings.TrimSuffix(args[0], ":"), args[1:]
		}
		switch head {
		case "property":
			if err := x.nvset("cluster_property_set", id, args); err != nil {
				return "", err
			}
		default:
			if err := x.nvset("meta_attributes", id, args); err != nil {
				return "", err
			}
		}
	case "fencing_topology":
		target := ""
		idx := map[string]int{}
		for _, a := range args {
			if strings.HasSuffix(a, ":") {
				target = strings.TrimSuffix(a, ":")
				continue
			}
			if target == "" {
				return "", fmt.Errorf("fencing_topology without a target (`NODE: DEVICE...`) is not supported")
			}
			idx[target]++
			x.empty("fencing-level", "id", fmt.Sprintf("fl-%s-%d", target, idx[target]), "target", target,
				"index", fmt.Sprint(idx[target]), "devices", a)
		}
	default:
		return "", fmt.Errorf("crm element %q is not supported", head)
	}
	return x.b.String(), nil
}

func crmPrimitive(x *xmlEl, id, class, provider, typ string, rest []string) error {
	sets, ops, err := crmSections(rest, primitiveKeywords)
	if err != nil {
		return fmt.Errorf("primitive %s: %w", id, err)
	}
	x.open("primitive", "id", id, "class", class, "provider", provider, "type", typ)
	for _, s := range []struct{ kw, el string }{{"params", "instance_attributes"}, {"meta", "meta_attributes"}, {"utilization", "utilization"}} {
		if kv := sets[s.kw]; len(kv) > 0 {
			if err := x.nvset(s.el, id+"-"+s.el, kv); err != nil {
				return fmt.Errorf("primitive %s: %w", id, err)
			}
		}
	}
	if len(ops) > 0 {
		x.open("operations")
		for _, op := range ops {
			if len(op) == 0 {
				return fmt.Errorf("primitive %s: op without a name", id)
			}
			kv := []string{"id", id + "-" + op[0], "name", op[0]}
			for _, a := range op[1:] {
				k, v, ok := strings.Cut(a, "=")
				if !ok {
					return fmt.Errorf("primitive %s: op %s: %q: want name=value", id, op[0], a)
				}
				kv = append(kv, k, v)
			}
			x.empty("op", kv...)
		}
		x.close("operations")
	}
	x.close("primitive")
	return nil
}

func crmScore(s string) string {
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return "INFINITY"
	case "-inf", "-infinity":
		return "-INFINITY"
	}
	return s
}

func crmLocation(args []string) (string, error) {
	if len(args) < 3 {
		return "", fmt.Errorf("want `location ID RSC SCORE: NODE` or `location ID RSC rule SCORE: EXPRESSION`")
	}
	id, rsc, rest := args[0], args[1], args[2:]
	if strings.ContainsAny(rsc, "{}()[]") || strings.HasPrefix(rsc, "~") {
		return "", fmt.Errorf("location %s: resource sets and patterns are not supported", id)
	}
	var x xmlEl
	role := ""
	if strings.HasPrefix(rest[0], "role=") {
		role, rest = strings.TrimPrefix(rest[0], "role="), rest[1:]
	}
	if len(rest) == 0 {
		return "", fmt.Errorf("location %s: no score", id)
	}
	if rest[0] != "rule" {
		if len(rest) != 2 || !strings.HasSuffix(rest[0], ":") {
			return "", fmt.Errorf("location %s: want SCORE: NODE", id)
		}
		x.empty("rsc_location", "id", id, "rsc", rsc, "role", role, "score", crmScore(strings.TrimSuffix(rest[0], ":")), "node", rest[1])
		return x.b.String(), nil
	}
	x.open("rsc_location", "id", id, "rsc", rsc, "role", role)
	n := 0
	for len(rest) > 0 {
		if rest[0] != "rule" {
			return "", fmt.Errorf("location %s: %q: want rule", id, rest[0])
		}
		rest = rest[1:]
		n++
		rid, rrole := fmt.Sprintf("%s-rule-%d", id, n), ""
		for len(rest) > 0 && (strings.HasPrefix(rest[0], "$id=") || strings.HasPrefix(rest[0], "id=") || strings.HasPrefix(rest[0], "$role=") || strings.HasPrefix(rest[0], "role=")) {
			k, v, _ := strings.Cut(strings.TrimPrefix(rest[0], "$"), "=")
			if k == "id" {
				rid = v
			} else {
				rrole = v
			}
			rest = rest[1:]
		}
		if len(rest) == 0 || !strings.HasSuffix(rest[0], ":") {
			return "", fmt.Errorf("location %s: rule without `SCORE:`", id)
		}
		score := strings.TrimSuffix(rest[0], ":")
		rest = rest[1:]
		var expr []string
		for len(rest) > 0 && rest[0] != "rule" {
			expr = append(expr, rest[0])
			rest = rest[1:]
		}
		kv := []string{"id", rid, "role", rrole}
		if strings.HasPrefix(score, "#") || (!strings.ContainsAny(score, "0123456789") && !strings.Contains(strings.ToLower(score), "inf")) {
			kv = append(kv, "score-attribute", score)
		} else {
			kv = append(kv, "score", crmScore(score))
		}
		// Expressions joined by and/or (one kind per rule).
		var exprs [][]string
		boolOp := ""
		cur := []string{}
		for _, e := range expr {
			if e == "and" || e == "or" {
				if boolOp != "" && boolOp != e {
					return "", fmt.Errorf("location %s: mixed and/or in one rule is not supported", id)
				}
				boolOp = e
				exprs = append(exprs, cur)
				cur = []string{}
				continue
			}
			cur = append(cur, e)
		}
		exprs = append(exprs, cur)
		kv = append(kv, "boolean-op", boolOp)
		x.open("rule", kv...)
		for i, e := range exprs {
			eid := fmt.Sprintf("%s-expr-%d", rid, i+1)
			switch {
			case len(e) == 2 && (e[0] == "defined" || e[0] == "not_defined"):
				x.empty("expression", "id", eid, "attribute", e[1], "operation", e[0])
			case len(e) == 3:
				typ, op, _ := strings.Cut(e[1], ":")
				if op == "" {
					op, typ = typ, ""
				}
				x.empty("expression", "id", eid, "attribute", e[0], "operation", op, "value", e[2], "type", typ)
			case len(e) == 4 && e[0] == "date":
				return "", fmt.Errorf("location %s: date expressions are not supported", id)
			default:
				return "", fmt.Errorf("location %s: expression %q: want ATTRIBUTE OP VALUE or defined ATTRIBUTE", id, strings.Join(e, " "))
			}
		}
		x.close("rule")
	}
	x.close("rsc_location")
	return x.b.String(), nil
}
