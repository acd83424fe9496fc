package agent

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ReloadAgent is OCF 1.1's reload action (reload-agent): apply changed
// reloadable parameters in place. OCF 1.0 agents use Reload for the same.
const ReloadAgent Action = "reload-agent"

// Metadata is what a resource agent's meta-data action says about it.
type Metadata struct {
	Name string
	// OCFVersion is the <version> element: the OCF standard version the
	// agent follows ("1.0", "1.1"; "" when missing).
	OCFVersion string
	Params     []Param
	// Actions the agent advertises, in its order.
	Actions []Action
}

// Param is one parameter an agent declares.
type Param struct {
	Name     string
	Required bool
	// Unique: unique="1" (OCF 1.0 agents mark the parameters a reload
	// cannot apply this way).
	Unique bool
	// Reloadable: reloadable="1" (OCF 1.1: reload-agent applies it).
	Reloadable bool
	// Private: private="1", the value is a secret (not logged, not
	// recorded in the status).
	Private bool
	Type    string // content type: string, integer, boolean, select, ...
	Default string
	Choices []string // for select
}

// maxMetadata bounds the meta-data output read from an agent (the largest
// stock OCF agent prints about 30 KiB).
const maxMetadata = 1 << 20

type xmlMetadata struct {
	XMLName xml.Name `xml:"resource-agent"`
	Name    string   `xml:"name,attr"`
	Version string   `xml:"version"`
	Params  []struct {
		Name       string `xml:"name,attr"`
		Required   string `xml:"required,attr"`
		Unique     string `xml:"unique,attr"`
		Reloadable string `xml:"reloadable,attr"`
		Private    string `xml:"private,attr"`
		Content    struct {
			Type    string `xml:"type,attr"`
			Default string `xml:"default,attr"`
			Options []struct {
				Value string `xml:"value,attr"`
			} `xml:"option"`
		} `xml:"content"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name string `xml:"name,attr"`
	} `xml:"actions>action"`
}

// ParseMetadata decodes OCF resource agent meta-data XML. It is lenient
// about what does not matter (descriptions, unknown elements, HTML
// entities in texts) and strict about what does: a resource-agent root,
// parameter names an OCF_RESKEY_ variable can carry, at least one action.
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > maxMetadata {
		return nil, fmt.Errorf("meta-data of %d bytes: more than %d is not meta-data", len(b), maxMetadata)
	}
	var x xmlMetadata
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("decoding meta-data XML: %w", err)
	}
	m := &Metadata{Name: x.Name, OCFVersion: strings.TrimSpace(x.Version)}
	seen := map[string]bool{}
	for i, p := range x.Params {
		if !validName(p.Name) {
			return nil, fmt.Errorf("meta-data of %s: parameter %d: name %q is not a parameter name (letters, digits and _)", x.Name, i+1, p.Name)
		}
		if seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		prm := Param{Name: p.Name, Required: isTrue(p.Required), Unique: isTrue(p.Unique), Reloadable: isTrue(p.Reloadable),
			Private: isTrue(p.Private), Type: strings.ToLower(strings.TrimSpace(p.Content.Type)), Default: p.Content.Default}
		for _, o := range p.Content.Options {
			prm.Choices = append(prm.Choices, o.Value)
		}
		m.Params = append(m.Params, prm)
	}
	for _, a := range x.Actions {
		if n := strings.TrimSpace(a.Name); n != "" && !slices.Contains(m.Actions, Action(n)) {
			m.Actions = append(m.Actions, Action(n))
		}
	}
	if len(m.Actions) == 0 {
		return nil, fmt.Errorf("meta-data of %q lists no actions", x.Name)
	}
	return m, nil
}

// isTrue reads an XML boolean attribute as Pacemaker's crm_is_true does.
func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "on":
		return true
	}
	return false
}

// Has reports whether the agent advertises action a.
func (m *Metadata) Has(a Action) bool { return m != nil && slices.Contains(m.Actions, a) }

// Param returns the parameter named name.
func (m *Metadata) Param(name string) (Param, bool) {
	if m != nil {
		for _, p := range m.Params {
			if p.Name == name {
				return p, true
			}
		}
	}
	return Param{}, false
}

// ocf11 reports whether the agent follows OCF 1.1 or later.
func (m *Metadata) ocf11() bool {
	major, minor, _ := strings.Cut(m.OCFVersion, ".")
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil {
		return false
	}
	if err2 != nil {
		mi = 0
	}
	return ma > 1 || ma == 1 && mi >= 1
}

// ReloadAction is the action that reloads changed parameters in place, as
// Pacemaker's controller picks it: reload-agent for an OCF 1.1 agent that
// advertises it, reload for an older agent that advertises reload, none
// ("") otherwise (a changed parameter then restarts the resource).
func (m *Metadata) ReloadAction() Action {
	switch {
	case m == nil:
		return ""
	case m.ocf11() && m.Has(ReloadAgent):
		return ReloadAgent
	case !m.ocf11() && m.Has(Reload):
		return Reload
	}
	return ""
}

// RestartOnly names the parameters a reload cannot apply (Pacemaker's
// op-force-restart): for reload-agent those not marked reloadable; for
// an OCF 1.0 reload those marked unique (the convention before OCF 1.1).
// Nil when the agent cannot reload at all.
func (m *Metadata) RestartOnly() []string {
	act := m.ReloadAction()
	if act == "" {
		return nil
	}
	out := []string{}
	for _, p := range m.Params {
		if act == ReloadAgent && !p.Reloadable || act == Reload && p.Unique {
			out = append(out, p.Name)
		}
	}
	return out
}

// PrivateParams names the parameters whose values are secrets: those
// marked private, or (for agents that mark none, as Pacemaker does) the
// usual names password, passwd and user.
func (m *Metadata) PrivateParams() []string {
	var out []string
	for _, p := range m.paramsOrNil() {
		if p.Private {
			out = append(out, p.Name)
		}
	}
	if out == nil {
		return DefaultPrivateParams()
	}
	return out
}

func (m *Metadata) paramsOrNil() []Param {
	if m == nil {
		return nil
	}
	return m.Params
}

// DefaultPrivateParams are the parameter names Pacemaker treats as secrets
// when an agent marks none (or has no meta-data).
func DefaultPrivateParams() []string { return []string{"passwd", "password", "user"} }

// ParamError is one problem with a resource's parameters.
type ParamError struct {
	Param string // "" for the resource as a whole
	Msg   string
}

func (e ParamError) Error() string {
	if e.Param == "" {
		return e.Msg
	}
	return "parameter " + e.Param + ": " + e.Msg
}

// CheckParams checks params against the agent's declared parameters:
// every required one set, no unknown name, integers, booleans and select
// choices well formed. Values are never quoted whole (a secret or a huge
// value must not end up in a log): at most a short prefix.
func (m *Metadata) CheckParams(params map[string]string) []ParamError {
	var errs []ParamError
	for _, p := range m.Params {
		if v, ok := params[p.Name]; p.Required && (!ok || v == "") {
			errs = append(errs, ParamError{p.Name, "required by " + m.Name + ", not set"})
		}
	}
	var names []string
	for _, p := range m.Params {
		names = append(names, p.Name)
	}
	for _, k := range sortedKeys(params) {
		p, ok := m.Param(k)
		if !ok {
			errs = append(errs, ParamError{k, fmt.Sprintf("unknown to %s (its parameters: %s)", m.Name, strings.Join(names, ", "))})
			continue
		}
		v := params[k]
		shown := quoteShort(v)
		if p.Private {
			shown = "(secret)"
		}
		switch p.Type {
		case "integer":
			if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil && v != "" {
				errs = append(errs, ParamError{k, fmt.Sprintf("%s is not an integer", shown)})
			}
		case "boolean":
			switch strings.ToLower(v) {
			case "", "1", "0", "true", "false", "yes", "no", "y", "n", "on", "off":
			default:
				errs = append(errs, ParamError{k, fmt.Sprintf("%s is not a boolean (want true or false)", shown)})
			}
		case "select":
			if len(p.Choices) > 0 && v != "" && !slices.Contains(p.Choices, v) {
				errs = append(errs, ParamError{k, fmt.Sprintf("%s is not one of %s", shown, strings.Join(p.Choices, ", "))})
			}
		}
	}
	return errs
}

// quoteShort quotes at most the first 40 bytes of v.
func quoteShort(v string) string {
	const limit = 40
	if len(v) <= limit {
		return strconv.Quote(v)
	}
	return strconv.Quote(v[:limit]) + fmt.Sprintf("... (%d bytes)", len(v))
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// MetadataSource gives the meta-data of the agent of an instance. The
// Registry is one; the executor uses it for parameter digests (which
// parameters a reload applies, which are secrets).
type MetadataSource interface {
	// Metadata returns the agent's meta-data, or nil and no error when
	// its class has none (lsb, heartbeat).
	Metadata(ctx context.Context, inst Instance) (*Metadata, error)
}

// ErrNotInstalled: the agent does not exist on this node.
var ErrNotInstalled = errors.New("not installed")

// metadataCache keeps each agent's parsed meta-data: agents do not change
// while the daemon runs (a package upgrade is followed by a restart).
type metadataCache struct {
	mu sync.Mutex
	m  map[string]*Metadata
}

// Metadata runs the agent's meta-data action (once per agent) and parses
// it. Classes without meta-data (lsb, heartbeat) give nil.
func (r *Registry) Metadata(ctx context.Context, inst Instance) (*Metadata, error) {
	switch inst.Class {
	case "lsb", "heartbeat":
		return nil, nil
	}
	key := inst.Class + ":" + inst.Provider + ":" + inst.Type
	r.meta.mu.Lock()
	if md, ok := r.meta.m[key]; ok {
		r.meta.mu.Unlock()
		return md, nil
	}
	r.meta.mu.Unlock()
	q := inst
	q.Params, q.Interval = nil, 0
	if q.Timeout <= 0 || q.Timeout > DefaultTimeout {
		q.Timeout = DefaultTimeout
	}
	res := r.Run(ctx, MetaData, q)
	if res.RC == ErrInstalled {
		return nil, fmt.Errorf("agent %s:%s:%s is not installed on this node: %w (%s)", inst.Class, inst.Provider, inst.Type, ErrNotInstalled, res.ExitReason)
	}
	if res.Status != StatusDone || res.RC != OK {
		reason := res.ExitReason
		if reason == "" {
			reason = fmt.Sprintf("rc %d (%s), %s", int(res.RC), res.RC, res.Status)
		}
		return nil, fmt.Errorf("meta-data of %s:%s:%s: %s", inst.Class, inst.Provider, inst.Type, reason)
	}
	md, err := ParseMetadata([]byte(res.Output))
	if err != nil {
		return nil, fmt.Errorf("meta-data of %s:%s:%s: %w", inst.Class, inst.Provider, inst.Type, err)
	}
	r.meta.mu.Lock()
	if r.meta.m == nil {
		r.meta.m = map[string]*Metadata{}
	}
	r.meta.m[key] = md
	r.meta.mu.Unlock()
	return md, nil
}
