package cib

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// scanEncodingXML builds the tree scan builds with encoding/xml's
// tokenizer: the baseline BenchmarkScan measures scan against, and a
// second opinion on what scan reads (TestScanMatchesEncodingXML).
func scanEncodingXML(data []byte) (*elem, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*elem
	var root *elem
	for {
		// RawToken: scan does not translate name spaces either, and it
		// checks that tags balance itself (below), as scan does.
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CIB XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			e := &elem{name: t.Name.Local, line: line}
			if len(t.Attr) > 0 {
				e.attrs = make([]attr, len(t.Attr))
				for i, a := range t.Attr {
					e.attrs[i] = attr{a.Name.Local, a.Value}
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, e)
			} else if root == nil {
				root = e
			} else {
				return nil, fmt.Errorf("CIB XML line %d: second root element <%s>", line, e.name)
			}
			stack = append(stack, e)
			if len(stack) > maxDepth {
				return nil, fmt.Errorf("CIB XML line %d: nesting deeper than %d", line, maxDepth)
			}
		case xml.EndElement:
			line, _ := d.InputPos()
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name.Local {
				return nil, fmt.Errorf("CIB XML line %d: end tag </%s> does not match", line, t.Name.Local)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("CIB XML: unexpected end of file: <%s> not closed", stack[len(stack)-1].name)
	}
	if root == nil {
		return nil, fmt.Errorf("CIB XML: no root element")
	}
	return root, nil
}

// sameTree reports the first difference between two trees ("" if none).
func sameTree(a, b *elem, path string) string {
	path += "/" + a.name
	switch {
	case a.name != b.name:
		return fmt.Sprintf("%s: element <%s> vs <%s>", path, a.name, b.name)
	case len(a.attrs) != len(b.attrs):
		return fmt.Sprintf("%s: %d attributes vs %d", path, len(a.attrs), len(b.attrs))
	case len(a.kids) != len(b.kids):
		return fmt.Sprintf("%s: %d children vs %d", path, len(a.kids), len(b.kids))
	}
	for i := range a.attrs {
		if a.attrs[i] != b.attrs[i] {
			return fmt.Sprintf("%s: attribute %q=%q vs %q=%q", path, a.attrs[i].k, a.attrs[i].v, b.attrs[i].k, b.attrs[i].v)
		}
	}
	for i := range a.kids {
		if d := sameTree(a.kids[i], b.kids[i], path); d != "" {
			return d
		}
	}
	return ""
}
