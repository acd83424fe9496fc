package pacemaker

import (
	"fmt"
	"sort"
	"strings"
)

// CIB builds an initial cib.xml. Options go into cib-bootstrap-options; the
// defaults shorten what tests would otherwise wait for (dc-deadtime,
// election-timeout, the recheck interval).
type CIB struct {
	Options   map[string]string
	Resources []string // <primitive>/<group> elements, as XML
	// Constraints are <rsc_location>/<rsc_order>/... elements, as XML.
	Constraints []string
	// RscDefaults are rsc_defaults meta attributes.
	RscDefaults map[string]string
}

// XML renders the CIB.
func (c CIB) XML() string {
	opts := map[string]string{
		"stonith-enabled":          "true",
		"dc-deadtime":              "2s",
		"election-timeout":         "5s",
		"cluster-recheck-interval": "5s",
	}
	for k, v := range c.Options {
		opts[k] = v
	}
	var b strings.Builder
	b.WriteString(`<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">` + "\n")
	b.WriteString("  <configuration>\n    <crm_config>\n      <cluster_property_set id=\"cib-bootstrap-options\">\n")
	for _, k := range sortedKeys(opts) {
		fmt.Fprintf(&b, "        <nvpair id=\"cib-bootstrap-options-%s\" name=\"%s\" value=\"%s\"/>\n", k, k, xmlEsc(opts[k]))
	}
	b.WriteString("      </cluster_property_set>\n    </crm_config>\n    <nodes/>\n    <resources>\n")
	for _, r := range c.Resources {
		b.WriteString(r + "\n")
	}
	b.WriteString("    </resources>\n    <constraints>\n")
	for _, r := range c.Constraints {
		b.WriteString(r + "\n")
	}
	b.WriteString("    </constraints>\n")
	if len(c.RscDefaults) > 0 {
		b.WriteString("    <rsc_defaults>\n      <meta_attributes id=\"rsc-options\">\n")
		for _, k := range sortedKeys(c.RscDefaults) {
			fmt.Fprintf(&b, "        <nvpair id=\"rsc-options-%s\" name=\"%s\" value=\"%s\"/>\n", k, k, xmlEsc(c.RscDefaults[k]))
		}
		b.WriteString("      </meta_attributes>\n    </rsc_defaults>\n")
	}
	b.WriteString("  </configuration>\n  <status/>\n</cib>\n")
	return b.String()
}

// Stonith is a <primitive class="stonith"> with instance attributes (in
// the given order) and a recurring monitor.
func Stonith(id, agent string, attrs [][2]string, monitor string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "      <primitive id=\"%s\" class=\"stonith\" type=\"%s\">\n        <instance_attributes id=\"%s-ia\">\n", id, agent, id)
	for _, a := range attrs {
		fmt.Fprintf(&b, "          <nvpair id=\"%s-ia-%s\" name=\"%s\" value=\"%s\"/>\n", id, a[0], a[0], xmlEsc(a[1]))
	}
	b.WriteString("        </instance_attributes>\n")
	if monitor != "" {
		fmt.Fprintf(&b, "        <operations>\n          <op id=\"%s-monitor\" name=\"monitor\" interval=\"%s\"/>\n        </operations>\n", id, monitor)
	}
	b.WriteString("      </primitive>")
	return b.String()
}

// Location is an rsc_location constraint.
func Location(id, rsc, node, score string) string {
	return fmt.Sprintf("      <rsc_location id=\"%s\" rsc=\"%s\" node=\"%s\" score=\"%s\"/>", id, rsc, node, score)
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;")

func xmlEsc(s string) string { return xmlEscaper.Replace(s) }
