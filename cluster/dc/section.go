package dc

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"palisade/resources/model"
)

// AdminEpochKey is the key of the resources section that sets the
// operator's admin_epoch. It is read here and removed before the section
// is decoded into the scheduler's model.
const AdminEpochKey = "admin_epoch"

// DecodeConfig reads a configuration to propose: either a whole
// cluster.yaml (its resources: section is used) or a resources section on
// its own (the keys options, rsc_defaults, nodes, resources, constraints,
// admin_epoch). Errors name file and line.
func DecodeConfig(file string, data []byte) (*model.Config, uint64, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, 0, model.SyntaxError(file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, 0, fmt.Errorf("%s: want a YAML mapping: a cluster.yaml or its resources section", file)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		// In a cluster.yaml, resources: is the section (a mapping); in a
		// section on its own, resources: is the list of resources.
		if root.Content[i].Value == "resources" && root.Content[i+1].Kind == yaml.MappingNode {
			root = root.Content[i+1]
			break
		}
	}
	cfg, admin, err := DecodeSection(file, root)
	if err == nil && cfg == nil {
		err = fmt.Errorf("%s: no resources section", file)
	}
	return cfg, admin, err
}

// DecodeSection reads the resources section strictly (unknown keys are
// errors) with the scheduler's model, after taking admin_epoch out, and
// validates it.
func DecodeSection(file string, n *yaml.Node) (*model.Config, uint64, error) {
	cfg, admin, err := decodeUnchecked(file, n)
	if err != nil || cfg == nil {
		return cfg, admin, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, 0, fmt.Errorf("%s: resources: %w", file, err)
	}
	return cfg, admin, nil
}

// decodeUnchecked is decodeSection without model.Validate. The section
// node is checked in place (model.StrictDecoder), so errors carry the
// file's own lines: FILE:LINE: resources.key.path: reason.
func decodeUnchecked(file string, n *yaml.Node) (*model.Config, uint64, error) {
	if n == nil {
		return nil, 0, nil
	}
	var admin uint64
	var errs model.DecodeErrors
	if n.Kind == yaml.MappingNode {
		cp := *n
		cp.Content = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value != AdminEpochKey {
				cp.Content = append(cp.Content, k, v)
				continue
			}
			a, err := strconv.ParseUint(v.Value, 10, 64)
			if err != nil || v.Kind != yaml.ScalarNode {
				errs = append(errs, &model.DecodeError{File: file, Line: v.Line, Key: "resources." + AdminEpochKey,
					Reason: fmt.Sprintf("%q: want a whole number ≥ 0 (raise it to force this configuration over the cluster's)", v.Value)})
			}
			admin = a
		}
		n = &cp
	}
	var cfg model.Config
	dec := model.StrictDecoder{File: file, Path: "resources", ExtraKeys: []string{AdminEpochKey}}
	if err := dec.Decode(n, &cfg); err != nil {
		var more model.DecodeErrors
		if !errors.As(err, &more) {
			return nil, 0, err
		}
		errs = append(errs, more...)
	}
	errs = append(errs, checkOptions(file, n)...)
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *model.DecodeError) int { return a.Line - b.Line })
		return nil, 0, errs
	}
	return &cfg, admin, nil
}

// decodeResources is decodeSection without the admin_epoch.
func decodeResources(file string, n *yaml.Node) (*model.Config, error) {
	cfg, _, err := DecodeSection(file, n)
	return cfg, err
}

// optionValues are the values palisade acts on for the cluster options
// that take a word. The scheduler would fall back to the default with a
// warning (as Pacemaker does for a CIB); in cluster.yaml a typo is an error
// at the line, before it can change what a partition does without quorum.
var optionValues = map[string][]string{
	"no-quorum-policy":   {"stop", "freeze", "ignore", "demote"},
	"placement-strategy": {"default", "utilization", "balanced", "minimal"},
	"stonith-action":     {"reboot", "off", "poweroff"},
}

// checkOptions checks the word-valued options of a resources section node.
func checkOptions(file string, n *yaml.Node) model.DecodeErrors {
	var errs model.DecodeErrors
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "options" || n.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		opts := n.Content[i+1]
		for j := 0; j+1 < len(opts.Content); j += 2 {
			k, v := opts.Content[j].Value, opts.Content[j+1]
			valid, ok := optionValues[k]
			if !ok || v.Kind != yaml.ScalarNode || slices.Contains(valid, strings.ToLower(v.Value)) {
				continue
			}
			errs = append(errs, &model.DecodeError{File: file, Line: v.Line, Key: "resources.options." + k,
				Reason: fmt.Sprintf("%q: want one of %s", v.Value, strings.Join(valid, ", "))})
		}
	}
	return errs
}
