package external

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"

	"palisade/fence"
)

// Metadata is what an agent's "-o metadata" XML says about it.
type Metadata struct {
	Name      string
	ShortDesc string
	LongDesc  string
	VendorURL string
	Params    []fence.Param
	// Actions the agent advertises, in its order.
	Actions []string
}

// Has reports whether the agent advertises action a.
func (m *Metadata) Has(a string) bool {
	for _, x := range m.Actions {
		if x == a {
			return true
		}
	}
	return false
}

// Param returns the parameter named name (canonical name).
func (m *Metadata) Param(name string) (fence.Param, bool) {
	for _, p := range m.Params {
		if p.Name == name {
			return p, true
		}
	}
	return fence.Param{}, false
}

type xmlAgent struct {
	XMLName   xml.Name `xml:"resource-agent"`
	Name      string   `xml:"name,attr"`
	ShortDesc string   `xml:"shortdesc,attr"`
	LongDesc  string   `xml:"longdesc"`
	VendorURL string   `xml:"vendor-url"`
	Params    []struct {
		Name       string `xml:"name,attr"`
		Required   string `xml:"required,attr"`
		Deprecated string `xml:"deprecated,attr"`
		Obsoletes  string `xml:"obsoletes,attr"`
		Getopt     struct {
			Mixed string `xml:"mixed,attr"`
		} `xml:"getopt"`
		Content struct {
			Type    string `xml:"type,attr"`
			Default string `xml:"default,attr"`
			Options []struct {
				Value string `xml:"value,attr"`
			} `xml:"option"`
		} `xml:"content"`
		ShortDesc string `xml:"shortdesc"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name string `xml:"name,attr"`
	} `xml:"actions>action"`
}

// maxMetadata bounds the metadata read from an agent (the largest
// fence-agents metadata is about 40 KiB).
const maxMetadata = 1 << 20

var (
	paramName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)
	shortOpt  = regexp.MustCompile(`^-([A-Za-z0-9]),`)
	longOpt   = regexp.MustCompile(`--([A-Za-z0-9][A-Za-z0-9.-]*)(=(\[[^\]]*\]))?`)
)

// ParseMetadata decodes fence-agents metadata XML. Parameters become
// fence.Params: type, default, choices, option letter, placeholder, and a
// deprecated name as the Legacy name of the parameter that obsoletes it.
// Errors name what was wrong.
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > maxMetadata {
		return nil, fmt.Errorf("metadata of %d bytes: more than %d is not metadata", len(b), maxMetadata)
	}
	var x xmlAgent
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("decoding metadata XML: %w", err)
	}
	if !strings.HasPrefix(x.Name, "fence_") {
		return nil, fmt.Errorf("metadata names agent %q, not a fence_ agent", x.Name)
	}
	m := &Metadata{Name: x.Name, ShortDesc: strings.TrimSpace(x.ShortDesc), LongDesc: strings.TrimSpace(x.LongDesc), VendorURL: strings.TrimSpace(x.VendorURL)}
	legacyOf := map[string]string{}
	for _, p := range x.Params {
		if p.Obsoletes != "" {
			legacyOf[p.Name] = p.Obsoletes
		}
	}
	seen := map[string]bool{}
	for i, p := range x.Params {
		if !paramName.MatchString(p.Name) {
			return nil, fmt.Errorf("parameter %d: name %q is not a parameter name", i+1, p.Name)
		}
		if p.Deprecated == "1" {
			continue // an obsolete name, kept as the Legacy of its successor
		}
		name := strings.ReplaceAll(p.Name, "-", "_")
		if seen[name] {
			continue
		}
		seen[name] = true
		prm := fence.Param{
			Name:      name,
			Legacy:    legacyOf[p.Name],
			Required:  p.Required == "1",
			Default:   p.Content.Default,
			ShortDesc: strings.TrimSpace(p.ShortDesc),
			Order:     i + 1,
		}
		switch p.Content.Type {
		case "boolean":
			prm.Type = fence.TypeBoolean
		case "integer":
			prm.Type = fence.TypeInteger
		case "second":
			prm.Type = fence.TypeSecond
		case "select":
			prm.Type = fence.TypeSelect
			for _, o := range p.Content.Options {
				prm.Choices = append(prm.Choices, o.Value)
			}
			if len(prm.Choices) == 0 {
				return nil, fmt.Errorf("parameter %s: select with no options", p.Name)
			}
		default:
			prm.Type = fence.TypeString
		}
		mixed := strings.TrimSpace(p.Getopt.Mixed)
		if s := shortOpt.FindStringSubmatch(mixed); s != nil {
			prm.Short = s[1][0]
		}
		if l := longOpt.FindStringSubmatch(mixed); l != nil {
			if long := strings.ReplaceAll(l[1], "-", "_"); long != name && prm.Legacy == "" {
				// The stdin name differs from the option (fence_watchdog's
				// dummy metadata): keep the option name reachable.
				prm.Legacy = long
			}
			prm.Placeholder = l[3]
		}
		if prm.Type == fence.TypeBoolean {
			prm.Placeholder = ""
		}
		m.Params = append(m.Params, prm)
	}
	for _, a := range x.Actions {
		if a.Name != "" {
			m.Actions = append(m.Actions, a.Name)
		}
	}
	if len(m.Actions) == 0 {
		return nil, fmt.Errorf("metadata of %s lists no actions", m.Name)
	}
	if _, ok := m.Param(fence.OptAction); !ok {
		return nil, fmt.Errorf("metadata of %s has no action parameter", m.Name)
	}
	return m, nil
}
