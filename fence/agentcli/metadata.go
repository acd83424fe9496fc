package agentcli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"palisade/fence"
)

// metaEntry is one <parameter> element: a parameter under its canonical or
// its legacy name (fence-agents lists both, marking the pair with
// obsoletes= and deprecated=).
type metaEntry struct {
	key  string
	p    fence.Param
	attr string
}

// WriteMetadata prints the fence-agents metadata XML for plugin p installed
// as name, generated from its declared parameters, in the layout fencing.py
// prints (Pacemaker parses it; humans diff it against the reference).
func WriteMetadata(w io.Writer, p *fence.Plugin, name string) error {
	var b strings.Builder
	shortdesc := p.ShortDesc
	b.WriteString("<?xml version=\"1.0\" ?>\n")
	fmt.Fprintf(&b, "<resource-agent name=\"%s\" shortdesc=\"%s\" >\n", esc(name), esc(shortdesc))
	for _, a := range p.Aliases {
		// Under a fence_palisade_* name the other names are ours too.
		an := a.Name
		if fence.IsPalisadeName(name) {
			an = fence.PalisadeName(an)
		}
		fmt.Fprintf(&b, "<symlink name=\"%s\" shortdesc=\"%s\"/>\n", esc(an), esc(a.ShortDesc))
	}
	fmt.Fprintf(&b, "<longdesc>%s</longdesc>\n", esc(p.LongDesc))
	fmt.Fprintf(&b, "<vendor-url>%s</vendor-url>\n", esc(p.VendorURL))
	b.WriteString("<parameters>\n")

	var entries []metaEntry
	for _, prm := range p.AllParams(name) {
		if prm.Hidden {
			continue
		}
		if prm.Legacy != "" {
			entries = append(entries,
				metaEntry{key: prm.Name, p: prm, attr: fmt.Sprintf(` obsoletes="%s"`, prm.Legacy)},
				metaEntry{key: prm.Legacy, p: prm, attr: ` deprecated="1"`})
			continue
		}
		entries = append(entries, metaEntry{key: prm.Name, p: prm})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].p.Order != entries[j].p.Order {
			return entries[i].p.Order < entries[j].p.Order
		}
		return entries[i].key < entries[j].key
	})
	for _, e := range entries {
		req := "0"
		if e.p.Required {
			req = "1"
		}
		fmt.Fprintf(&b, "\t<parameter name=\"%s\" unique=\"0\" required=\"%s\"%s>\n", esc(e.key), req, e.attr)
		fmt.Fprintf(&b, "\t\t<getopt mixed=\"%s\" />\n", esc(e.p.Mixed()))
		def := ""
		if e.p.Default != "" {
			def = fmt.Sprintf("default=\"%s\" ", esc(e.p.Default))
		}
		if e.p.Type == fence.TypeSelect {
			fmt.Fprintf(&b, "\t\t<content type=\"select\" %s >\n", def)
			for _, c := range e.p.Choices {
				fmt.Fprintf(&b, "\t\t\t<option value=\"%s\" />\n", esc(c))
			}
			b.WriteString("\t\t</content>\n")
		} else {
			fmt.Fprintf(&b, "\t\t<content type=\"%s\" %s />\n", e.p.Type, def)
		}
		fmt.Fprintf(&b, "\t\t<shortdesc lang=\"en\">%s</shortdesc>\n", esc(e.p.ShortDesc))
		b.WriteString("\t</parameter>\n")
	}
	b.WriteString("</parameters>\n<actions>\n")
	for _, a := range p.AllActions(true) {
		if a == fence.ActionOn {
			b.WriteString("\t<action name=\"on\" automatic=\"0\"/>\n")
			continue
		}
		fmt.Fprintf(&b, "\t<action name=\"%s\" />\n", a)
	}
	b.WriteString("</actions>\n</resource-agent>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

var escaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;", "'", "&apos;")

func esc(s string) string { return escaper.Replace(s) }

// WriteUsage prints the --help text.
func WriteUsage(w io.Writer, p *fence.Plugin, name string) {
	fmt.Fprintf(w, "Usage:\n\t%s [options]\nOptions:\n", name)
	for _, prm := range p.AllParams(name) {
		if prm.Hidden {
			continue
		}
		left := prm.Mixed()
		desc := prm.ShortDesc
		if prm.Type == fence.TypeSelect {
			desc += " (" + strings.Join(prm.Choices, "|") + ")"
		}
		if prm.Name == fence.OptAction {
			var acts []string
			for _, a := range p.AllActions(true) {
				if string(a) == prm.Default {
					acts = append(acts, string(a)+" (default)")
					continue
				}
				acts = append(acts, string(a))
			}
			desc = "Action: " + strings.Join(acts, ", ")
		}
		if prm.Default != "" && prm.Name != fence.OptAction {
			desc += " (Default: " + prm.Default + ")"
		}
		fmt.Fprintf(w, "   %-31s%s\n", left, desc)
	}
}
