package scheduler

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatScores prints one "RSC allocation score on NODE: SCORE" line per
// score (crm_simulate's wording, without its function-name prefix), then
// "RSC promotion score on NODE: SCORE" lines.
func FormatScores(out Output) string {
	var b strings.Builder
	for _, l := range out.Scores {
		fmt.Fprintf(&b, "%s %s score on %s: %s\n", l.Rsc, l.Kind, l.Node, l.Score)
	}
	return b.String()
}

// FormatPlacement prints "RSC NODE ROLE" or "RSC Stopped", sorted by id;
// a resource left on an unclean, unfenced node is marked blocked, one left
// alone on several nodes is listed once per node.
func FormatPlacement(out Output) string {
	var b strings.Builder
	for _, p := range out.Placement {
		if p.Node == "" {
			fmt.Fprintf(&b, "%s Stopped\n", p.Rsc)
			continue
		}
		if p.MultiplyActive {
			fmt.Fprintf(&b, "%s %s %s (multiply active, left alone)\n", p.Rsc, p.Node, p.Role)
			continue
		}
		if p.Blocked {
			fmt.Fprintf(&b, "%s %s %s (blocked: node unclean, not fenced)\n", p.Rsc, p.Node, p.Role)
			continue
		}
		fmt.Fprintf(&b, "%s %s %s\n", p.Rsc, p.Node, p.Role)
	}
	return b.String()
}

// FormatTransition prints the summary and the numbered actions with their
// dependencies.
func FormatTransition(out Output) string {
	var b strings.Builder
	b.WriteString("Transition Summary:\n")
	for _, l := range out.Summary {
		b.WriteString("  * " + l + "\n")
	}
	b.WriteString("Actions:\n")
	for _, a := range out.Actions {
		b.WriteString("  " + actionLine(a) + "\n")
	}
	if len(out.Warnings) > 0 {
		b.WriteString("Warnings:\n")
		for _, w := range out.Warnings {
			b.WriteString("  " + w + "\n")
		}
	}
	return b.String()
}

func actionLine(a Action) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(a.ID))
	b.WriteString(". ")
	if a.Pseudo {
		b.WriteString("pseudo ")
	}
	b.WriteString(a.Key)
	if a.Node != "" {
		b.WriteString(" on " + a.Node)
	}
	if len(a.After) > 0 {
		parts := make([]string, len(a.After))
		for i, d := range a.After {
			parts[i] = strconv.Itoa(d)
		}
		b.WriteString(" after " + strings.Join(parts, ","))
	}
	if a.Reason != "" {
		b.WriteString(" (" + a.Reason + ")")
	}
	return b.String()
}

// FormatDot renders the transition graph for Graphviz: an edge A -> B
// means A must complete before B; pseudo actions are dashed, fencing red.
func FormatDot(out Output) string {
	var b strings.Builder
	b.WriteString("digraph transition {\n  rankdir=TB;\n")
	for _, a := range out.Actions {
		label := a.Key
		if a.Node != "" {
			label += " " + a.Node
		}
		attrs := ""
		switch {
		case a.Op == "fence":
			attrs = ", color=red, fontcolor=red"
		case a.Pseudo:
			attrs = ", style=dashed"
		}
		fmt.Fprintf(&b, "  a%d [label=%q%s];\n", a.ID, label, attrs)
	}
	for _, a := range out.Actions {
		for _, d := range a.After {
			fmt.Fprintf(&b, "  a%d -> a%d;\n", d, a.ID)
		}
	}
	b.WriteString("}\n")
	return b.String()
}
