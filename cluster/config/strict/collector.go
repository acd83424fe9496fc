package strict

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxErrors bounds a report: one file, one screen. What is left out is
// counted in a last line.
const MaxErrors = 50

// Collector gathers every problem of one file. The zero value is not
// usable: make one with New.
type Collector struct {
	file    string
	errs    Errors
	dropped int
	// aliases left to follow: a file of nested aliases (a "billion
	// laughs") must not make a walk expand it.
	aliases int
}

// maxAliases bounds how many alias nodes one walk follows.
const maxAliases = 10000

// New returns a Collector for the file named file (used in every error).
func New(file string) *Collector { return &Collector{file: file, aliases: maxAliases} }

// File is the name errors carry.
func (c *Collector) File() string { return c.file }

// Errorf records a problem at the line of n (nil: no line) under key.
// Quote values of the file with Quote.
func (c *Collector) Errorf(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	c.ErrorAt(line, key, format, args...)
}

// ErrorAt records a problem at a line (0: none).
func (c *Collector) ErrorAt(line int, key, format string, args ...any) {
	c.add(&Error{File: c.file, Line: line, Key: key, Reason: fmt.Sprintf(format, args...)})
}

func (c *Collector) add(e *Error) {
	if len(c.errs) >= MaxErrors {
		c.dropped++
		return
	}
	c.errs = append(c.errs, e)
}

// Add records err: the problems of an Errors one by one (the file name
// becomes this Collector's when they have none), anything else as a
// problem of the file without a line or key.
func (c *Collector) Add(err error) {
	if err == nil {
		return
	}
	var es Errors
	if errors.As(err, &es) {
		for _, e := range es {
			cp := *e
			if cp.File == "" {
				cp.File = c.file
			}
			c.add(&cp)
		}
		return
	}
	var e *Error
	if errors.As(err, &e) {
		c.Add(Errors{e})
		return
	}
	c.add(&Error{File: c.file, Reason: err.Error()})
}

// AddAt records a problem another package reported as a plain error
// (a validator that knows no lines) at n's line under key.
func (c *Collector) AddAt(n *yaml.Node, key string, err error) {
	if err != nil {
		c.Errorf(n, key, "%s", err.Error())
	}
}

// Len is the number of problems so far.
func (c *Collector) Len() int { return len(c.errs) + c.dropped }

// Err returns nil or the problems as Errors: by line (problems without a
// line last, in the order found), duplicates removed, and a last line
// counting those beyond MaxErrors.
func (c *Collector) Err() error {
	if c.Len() == 0 {
		return nil
	}
	out := slices.Clone(c.errs)
	slices.SortStableFunc(out, func(a, b *Error) int { return cmp.Compare(lineKey(a), lineKey(b)) })
	out = slices.CompactFunc(out, func(a, b *Error) bool { return *a == *b })
	if c.dropped > 0 {
		out = append(out, &Error{File: c.file, Reason: fmt.Sprintf("%d more problems not shown", c.dropped)})
	}
	return out
}

func lineKey(e *Error) int {
	if e.Line <= 0 {
		return int(^uint(0) >> 1)
	}
	return e.Line
}

// Syntax records a yaml.v3 parse error ("yaml: line N: reason") at its line.
func (c *Collector) Syntax(err error) {
	l, reason := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
	c.ErrorAt(l, "", "YAML syntax: %s", reason)
}

// SyntaxError turns the error of yaml.Unmarshal into Errors naming file
// and line.
func SyntaxError(file string, err error) error {
	c := New(file)
	c.Syntax(err)
	return c.Err()
}

// Parse reads data as one YAML document and returns its top node (nil for
// an empty document). A syntax error is recorded and gives nil.
func (c *Collector) Parse(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		c.Syntax(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
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
