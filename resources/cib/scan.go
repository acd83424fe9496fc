package cib

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// scan is a small XML reader for CIB documents: elements and attributes
// only (text, comments, processing instructions, CDATA and DOCTYPE are
// skipped), and it checks what a CIB needs: tags balance, attributes are
// quoted, entities are known.
//
// Why not encoding/xml: building the same tree with its tokenizer takes 9
// to 24 times as long on the CIBs of `make bench-scheduler` (100 x 10,000:
// 22 ms against 0.4-0.5 s, BenchmarkScan), and all of `palisade simulate
// --cib` then takes 1.6-1.75 times the CPU time, which would cut the
// benchmark's ratios to crm_simulate by about 40 %.
//
// The input is copied into one string once; element names, attribute
// names and values without entities are substrings of it, so a CIB of
// hundreds of thousands of attributes costs no allocation per attribute.
func scan(data []byte) (*elem, error) {
	p := &scanner{data: string(data), line: 1}
	return p.document()
}

type scanner struct {
	data  string
	pos   int
	line  int
	stack []*elem
	// Elements and attributes are carved out of chunks: a CIB has
	// hundreds of thousands of small ones.
	elems []elem
	attrs []attr
}

func (p *scanner) newElem() *elem {
	if len(p.elems) == cap(p.elems) {
		p.elems = make([]elem, 0, 1024)
	}
	p.elems = p.elems[:len(p.elems)+1]
	return &p.elems[len(p.elems)-1]
}

func (p *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("CIB XML line %d: %s", p.line, fmt.Sprintf(format, args...))
}

// advance moves to position end, counting newlines.
func (p *scanner) advance(end int) {
	p.line += strings.Count(p.data[p.pos:end], "\n")
	p.pos = end
}

func (p *scanner) skipPast(marker string) error {
	i := strings.Index(p.data[p.pos:], marker)
	if i < 0 {
		return p.errf("unterminated %q", marker)
	}
	p.advance(p.pos + i + len(marker))
	return nil
}

func (p *scanner) document() (*elem, error) {
	var root *elem
	for {
		i := strings.IndexByte(p.data[p.pos:], '<')
		if i < 0 {
			p.advance(len(p.data))
			break
		}
		p.advance(p.pos + i)
		rest := p.data[p.pos:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			if err := p.skipPast("-->"); err != nil {
				return nil, err
			}
		case strings.HasPrefix(rest, "<![CDATA["):
			if err := p.skipPast("]]>"); err != nil {
				return nil, err
			}
		case strings.HasPrefix(rest, "<?"):
			if err := p.skipPast("?>"); err != nil {
				return nil, err
			}
		case strings.HasPrefix(rest, "<!"):
			if err := p.skipPast(">"); err != nil {
				return nil, err
			}
		case strings.HasPrefix(rest, "</"):
			if err := p.endTag(); err != nil {
				return nil, err
			}
		default:
			e, selfClosing, err := p.startTag()
			if err != nil {
				return nil, err
			}
			if len(p.stack) > 0 {
				parent := p.stack[len(p.stack)-1]
				parent.kids = append(parent.kids, e)
			} else if root == nil {
				root = e
			} else {
				return nil, p.errf("second root element <%s>", e.name)
			}
			if !selfClosing {
				p.stack = append(p.stack, e)
				if len(p.stack) > maxDepth {
					return nil, p.errf("nesting deeper than %d", maxDepth)
				}
			}
		}
	}
	if len(p.stack) > 0 {
		return nil, p.errf("unexpected end of file: <%s> not closed", p.stack[len(p.stack)-1].name)
	}
	if root == nil {
		return nil, fmt.Errorf("CIB XML: no root element")
	}
	return root, nil
}

var nameByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c == '_' || c == '-' || c == '.' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	}
	return t
}()

func isNameByte(c byte) bool { return nameByte[c] }

func localName(n string) string {
	if i := strings.LastIndexByte(n, ':'); i >= 0 {
		return n[i+1:]
	}
	return n
}

func (p *scanner) name() (string, error) {
	start := p.pos
	for p.pos < len(p.data) && isNameByte(p.data[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		if p.pos >= len(p.data) {
			return "", p.errf("unexpected end of file in a tag")
		}
		return "", p.errf("unexpected %q where a name was expected", p.data[p.pos])
	}
	return p.data[start:p.pos], nil
}

func (p *scanner) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case '\n':
			p.line++
			fallthrough
		case ' ', '\t', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *scanner) endTag() error {
	p.pos += 2
	n, err := p.name()
	if err != nil {
		return err
	}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '>' {
		return p.errf("malformed end tag </%s", n)
	}
	p.pos++
	if len(p.stack) == 0 {
		return p.errf("end tag </%s> without start tag", n)
	}
	top := p.stack[len(p.stack)-1]
	if top.name != localName(n) {
		return p.errf("end tag </%s> does not match <%s>", n, top.name)
	}
	p.stack = p.stack[:len(p.stack)-1]
	return nil
}

func (p *scanner) startTag() (*elem, bool, error) {
	p.pos++
	n, err := p.name()
	if err != nil {
		return nil, false, err
	}
	e := p.newElem()
	e.name, e.line = localName(n), p.line
	if cap(p.attrs)-len(p.attrs) < 32 {
		p.attrs = make([]attr, 0, 4096)
	}
	start := len(p.attrs)
	done := func() { e.attrs = p.attrs[start:len(p.attrs):len(p.attrs)] }
	for {
		p.space()
		if p.pos >= len(p.data) {
			return nil, false, p.errf("unexpected end of file in <%s>", n)
		}
		switch p.data[p.pos] {
		case '>':
			p.pos++
			done()
			return e, false, nil
		case '/':
			if p.pos+1 < len(p.data) && p.data[p.pos+1] == '>' {
				p.pos += 2
				done()
				return e, true, nil
			}
			return nil, false, p.errf("stray '/' in <%s>", n)
		}
		an, err := p.name()
		if err != nil {
			return nil, false, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '=' {
			return nil, false, p.errf("attribute %s of <%s> has no value", an, n)
		}
		p.pos++
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' && p.data[p.pos] != '\'' {
			return nil, false, p.errf("attribute %s of <%s> is not quoted", an, n)
		}
		q := p.data[p.pos]
		end := strings.IndexByte(p.data[p.pos+1:], q)
		if end < 0 {
			return nil, false, p.errf("unterminated value of attribute %s in <%s>", an, n)
		}
		raw := p.data[p.pos+1 : p.pos+1+end]
		p.advance(p.pos + 1 + end + 1)
		v, err := unescape(raw)
		if err != nil {
			return nil, false, p.errf("attribute %s of <%s>: %v", an, n, err)
		}
		if len(p.attrs) == cap(p.attrs) {
			// More than 32 attributes: move this element's to a new chunk.
			moved := make([]attr, len(p.attrs)-start, 4096)
			copy(moved, p.attrs[start:])
			p.attrs, start = moved, 0
		}
		p.attrs = append(p.attrs, attr{localName(an), v})
	}
}

// unescape returns the attribute value: raw itself (a substring of the
// input) unless it has entities.
func unescape(raw string) (string, error) {
	if strings.IndexByte(raw, '&') < 0 && strings.IndexByte(raw, '<') < 0 {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '<' {
			return "", fmt.Errorf("'<' in an attribute value")
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(raw[i:], ';')
		if j < 0 {
			return "", fmt.Errorf("unterminated entity")
		}
		ent := raw[i+1 : i+j]
		switch ent {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			var n uint64
			var err error
			switch {
			case strings.HasPrefix(ent, "#x"):
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			case strings.HasPrefix(ent, "#"):
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			default:
				return "", fmt.Errorf("unknown entity &%s;", ent)
			}
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", fmt.Errorf("bad character reference &%s;", ent)
			}
			b.WriteRune(rune(n))
		}
		i += j
	}
	return b.String(), nil
}
