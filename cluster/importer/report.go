package importer

import (
	"fmt"
	"io"
	"strings"
)

// Item is one line (or element) of an input and what became of it.
type Item struct {
	Source string // "ha.cf:12", "cib.xml: primitive st-n1"
	What   string // the directive as written, secrets replaced by "***"
	Note   string // where it went, or why not
}

// Report says what happened to every part of the input.
type Report struct {
	Converted []Item
	// NotNeeded lists directives with no Palisade equivalent because none
	// is needed (logging, compression, realtime, ...): they do not make the
	// import fail.
	NotNeeded []Item
	// NotConverted lists what could not be converted: without --partial
	// the import fails and writes nothing.
	NotConverted []Item
	// Warnings are behaviour differences the operator must know about.
	Warnings []string
}

func (r *Report) converted(src, what, note string, args ...any) {
	r.Converted = append(r.Converted, Item{src, what, fmt.Sprintf(note, args...)})
}

func (r *Report) notNeeded(src, what, note string, args ...any) {
	r.NotNeeded = append(r.NotNeeded, Item{src, what, fmt.Sprintf(note, args...)})
}

func (r *Report) notConverted(src, what, note string, args ...any) {
	r.NotConverted = append(r.NotConverted, Item{src, what, fmt.Sprintf(note, args...)})
}

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// Complete says whether everything was converted (or needed no conversion).
func (r *Report) Complete() bool { return len(r.NotConverted) == 0 }

// WriteTo prints the report for an operator.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	section := func(title string, items []Item) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", title)
		for _, it := range items {
			fmt.Fprintf(&b, "  %s: %s\n", it.Source, it.What)
			for _, l := range strings.Split(it.Note, "\n") {
				fmt.Fprintf(&b, "      %s\n", l)
			}
		}
	}
	section("converted", r.Converted)
	section("not needed", r.NotNeeded)
	section("NOT CONVERTED", r.NotConverted)
	if len(r.Warnings) > 0 {
		b.WriteString("warnings:\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "  - %s\n", strings.ReplaceAll(w, "\n", "\n    "))
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// String is the printed report.
func (r *Report) String() string {
	var b strings.Builder
	_, _ = r.WriteTo(&b)
	return b.String()
}
