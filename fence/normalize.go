package fence

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// ignoredKeys are stdin/YAML keys that are silently dropped, as fence-agents
// does: Pacemaker passes the target node's name on every call.
var ignoredKeys = map[string]bool{"nodename": true}

// ParamIndex maps every accepted spelling of a parameter name to its
// declaration: the canonical name, the legacy name, and both with '-'
// instead of '_'.
type ParamIndex map[string]Param

// Index builds the lookup table for the plugin under name.
func (p *Plugin) Index(name string) ParamIndex {
	idx := ParamIndex{}
	for _, prm := range p.AllParams(name) {
		for _, k := range []string{prm.Name, prm.Legacy} {
			if k == "" {
				continue
			}
			idx[k] = prm
			idx[strings.ReplaceAll(k, "_", "-")] = prm
		}
	}
	return idx
}

// Normalize turns raw parameters (from argv or the daemon's YAML) into
// Options: legacy and hyphenated names become canonical, values are checked
// against their type, and defaults are applied. An unknown key is an error
// naming the key: the daemon's configuration is strict, and so is the
// command line (as in fence-agents). The fence-agents stdin form is
// lenient about unknown keys; package agentcli filters them out (with a
// warning) before calling Normalize.
func Normalize(p *Plugin, name string, raw map[string]string) (Options, error) {
	return normalize(p, name, raw)
}

func normalize(p *Plugin, name string, raw map[string]string) (Options, error) {
	idx := p.Index(name)
	opts := Options{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error for several bad keys
	for _, k := range keys {
		v := raw[k]
		if ignoredKeys[k] {
			continue
		}
		prm, ok := idx[k]
		if !ok {
			return nil, fmt.Errorf("%w: unknown parameter %q for %s (refusing rather than guessing what the caller meant)", ErrConfig, k, p.canonicalName(name))
		}
		if err := prm.validate(v); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		if prev, dup := opts[prm.Name]; dup && prev != v {
			return nil, fmt.Errorf("%w: parameter %q given twice with different values (as %q and another spelling)", ErrConfig, prm.Name, k)
		}
		if prm.Type == TypeSelect || prm.Name == OptAction {
			v = strings.ToLower(v)
		}
		opts[prm.Name] = v
	}
	given := map[string]bool{}
	for k := range opts {
		given[k] = true
	}
	for _, prm := range p.AllParams(name) {
		if _, ok := opts[prm.Name]; !ok && prm.Default != "" {
			opts[prm.Name] = prm.Default
		}
	}
	if opts.Bool(OptPortAsIP) && opts[OptPlug] != "" {
		opts[OptIP] = opts[OptPlug]
	}
	// Pacemaker 2.0+ runs agents with its own timeouts; fence-agents then
	// disables its own so that the two do not race. Unlike fence-agents we
	// keep the timeouts given explicitly: an operator who set
	// login_timeout=25 on the device means it.
	if _, set := opts[OptDisableTmo]; !set && os.Getenv("PCMK_service") == "pacemaker-fenced" {
		opts[OptDisableTmo] = "1"
	}
	if b, ok := parseBool(opts[OptDisableTmo]); ok && b && opts[OptDisableTmo] != "" {
		for _, k := range []string{OptPowerTimeout, OptLoginTimeout, OptShellTimeout} {
			if !given[k] {
				opts[k] = "0"
			}
		}
	}
	return opts, nil
}
