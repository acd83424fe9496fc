package strict

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem in a configuration file.
type Error struct {
	File   string // empty when the input has no name
	Line   int    // 0 when the problem has no single line
	Key    string // key path, e.g. "links[1].kind" or "resources.resources[0].tpye"
	Reason string
}

// Bounds of what an error prints of the file's own text: an error must
// stay one readable line whatever the file holds.
const (
	// QuoteMax is the longest value Quote prints whole.
	QuoteMax = 40
	// quotePrefix is how much of a longer value it prints.
	quotePrefix = 32
	maxKey      = 160
	maxReason   = 600
)

func (e *Error) Error() string {
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
		b.WriteString(clip(e.Key, maxKey))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(clip(e.Reason, maxReason))
	return b.String()
}

// Errors is every problem found in one input, in file order, so an
// operator fixes a file in one pass.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Quote quotes a value of the file for an error message (like %q), and
// only a short prefix of a long one: `"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"… (52428800 bytes)`.
func Quote(s string) string {
	if len(s) <= QuoteMax {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(prefix(s, quotePrefix)), len(s))
}

// clip shortens text built elsewhere (a key path, another package's
// message) that still holds too much of the file.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes, cut)", prefix(s, max-24), len(s))
}

// prefix is at most n bytes of s, cut at a rune boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
