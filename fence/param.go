package fence

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParamType is a parameter's content type in fence-agents metadata.
type ParamType string

const (
	TypeString  ParamType = "string"
	TypeInteger ParamType = "integer"
	TypeSecond  ParamType = "second"
	TypeBoolean ParamType = "boolean"
	TypeSelect  ParamType = "select"
)

// Param declares one parameter of a plugin. The same declaration drives the
// argv parser, the stdin parser, the YAML options of the daemon, validation
// and the metadata XML, so the five can never disagree.
type Param struct {
	// Name is the canonical stdin/YAML name: the long option with '-'
	// replaced by '_' ("ip", "power_timeout").
	Name string
	// Short is the one-letter option ('a' for -a), 0 if none.
	Short byte
	// Legacy is the deprecated stdin name fence-agents still accepts
	// ("ipaddr" for ip, "passwd" for password), "" if none.
	Legacy string
	Type   ParamType
	// Default is applied when the parameter is not given ("" = none).
	Default string
	// Choices lists the valid values of a TypeSelect parameter.
	Choices []string
	// Required is what metadata advertises.
	Required bool
	// Placeholder is the "[ip]" of "--ip=[ip]" in usage and metadata.
	Placeholder string
	ShortDesc   string
	// Order sorts metadata and usage like fence-agents' "order" field.
	Order int
	// Hidden parameters are accepted but not advertised in metadata or
	// usage. Never hide a parameter of the reference agent: pcs and crmsh
	// check a CIB against the metadata, so ours lists every parameter the
	// reference lists, and one we accept and ignore says so in ShortDesc
	// (ipmitool_path, snmpget_path, gnutlscli_path).
	Hidden bool
	// NoArgv parameters exist only in stdin/YAML form (password_file).
	NoArgv bool
}

// Long returns the long option name without the leading "--".
func (p Param) Long() string { return strings.ReplaceAll(p.Name, "_", "-") }

// TakesValue reports whether the option needs an argument on the command line.
func (p Param) TakesValue() bool { return p.Type != TypeBoolean }

// Mixed is the "getopt mixed" text of metadata: "-a, --ip=[ip]".
func (p Param) Mixed() string {
	s := "--" + p.Long()
	if p.TakesValue() && p.Placeholder != "" {
		s += "=" + p.Placeholder
	}
	if p.Short != 0 {
		s = "-" + string(p.Short) + ", " + s
	}
	return s
}

// Options are a request's parameters under their canonical names, with
// defaults applied. Values are strings as on the fence-agents wire; the
// typed getters below parse them (Normalize has already validated them).
type Options map[string]string

// Has reports whether the option is set (defaults count as set).
func (o Options) Has(name string) bool { _, ok := o[name]; return ok }

// Bool follows fence-agents: an option given without a value ("") or with
// 1/yes/on/true is true.
func (o Options) Bool(name string) bool {
	v, ok := o[name]
	if !ok {
		return false
	}
	b, _ := parseBool(v)
	return b
}

// Int returns the integer value, 0 if unset.
func (o Options) Int(name string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(o[name]))
	return n
}

// Seconds returns a "second" option as a duration, 0 if unset.
func (o Options) Seconds(name string) time.Duration {
	d, _ := parseSeconds(o[name])
	return d
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "1", "yes", "on", "true":
		return true, true
	case "0", "no", "off", "false":
		return false, true
	}
	return false, false
}

// parseSeconds accepts whole seconds as fence-agents does and, as an
// extension, decimal fractions ("0.5").
func parseSeconds(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e6 {
		return 0, fmt.Errorf("%q is not a valid time in seconds", v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// validate checks one value against its declaration; the error names the
// option the way fence-agents does (--power-timeout).
func (p Param) validate(v string) error {
	switch p.Type {
	case TypeInteger:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 0 {
			return fmt.Errorf("the value you have entered for --%s is not a valid integer: %q", p.Long(), v)
		}
	case TypeSecond:
		if _, err := parseSeconds(v); err != nil {
			return fmt.Errorf("the value you have entered for --%s is not a valid time in seconds: %q", p.Long(), v)
		}
	case TypeBoolean:
		if _, ok := parseBool(v); !ok {
			return fmt.Errorf("the value you have entered for --%s is not a valid boolean (1/0, yes/no, on/off, true/false): %q", p.Long(), v)
		}
	case TypeSelect:
		for _, c := range p.Choices {
			if strings.EqualFold(c, v) {
				return nil
			}
		}
		return fmt.Errorf("you have to enter a valid choice for --%s from the valid values: %s (got %q)", p.Long(), strings.Join(p.Choices, ", "), v)
	}
	return nil
}

// sortParams orders parameters like fence-agents metadata: by order, then name.
func sortParams(ps []Param) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Order != ps[j].Order {
			return ps[i].Order < ps[j].Order
		}
		return ps[i].Name < ps[j].Name
	})
}
