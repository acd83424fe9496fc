package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config"
	"palisade/resources/model"
)

// simInput is what simulate schedules, whatever it was read from.
type simInput struct {
	doc *model.Document
	// fenceAction is decided by the source (the live cluster, or a
	// cluster.yaml's fencing section); "" leaves it to fenceAction().
	fenceAction string
	// what names the source for messages.
	what string
}

// liveInput is `simulate --live`: the running cluster's configuration and
// status as its DC schedules them, through the local daemon.
func liveInput(ctx context.Context) (simInput, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	in, err := client().SchedulerInput(ctx)
	if err != nil {
		return simInput{}, &exitError{exitCode(err), fmt.Errorf("simulate --live: %w", err)}
	}
	return simInput{doc: &in.Document, fenceAction: in.FenceAction,
		what: fmt.Sprintf("the live cluster (configuration %s, DC %s, status of %s)", in.Version, orNone(in.DC), in.Self)}, nil
}

// fileInput reads a YAML file simulate was given: a scheduler document
// (config: and status:), a whole cluster.yaml (its resources section, its
// nodes all online, its fencing action), or a resources section as
// `palisade config show` prints it (nodes from its nodes: list, or from
// --cluster). A configuration without status starts from nothing
// running, every node online: what the cluster would do at start.
func fileInput(path, clusterFile string) (simInput, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return simInput{}, &exitError{2, fmt.Errorf("reading %s: %w", path, err)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return simInput{}, &exitError{2, model.SyntaxError(path, err)}
	}
	keys := topKeys(&root)
	if keys["config"] != nil || keys["status"] != nil {
		d, err := model.DecodeYAMLFile(path, data)
		if err != nil {
			return simInput{}, &exitError{2, err} // names file, line and key
		}
		return simInput{doc: d}, nil
	}
	// A cluster.yaml or a resources section, through the one decoder
	// (every problem at once, with file and line).
	cd, err := config.ParseDocument(path, data)
	if err != nil {
		return simInput{}, &exitError{2, err}
	}
	cfg := cd.Resources
	if cfg == nil {
		cfg = &model.Config{}
	}
	in := simInput{doc: &model.Document{Config: *cfg}}
	var nodes []string
	if c := cd.Cluster; c != nil {
		for _, n := range c.Nodes {
			nodes = append(nodes, n.Name)
		}
		if c.Fencing != nil && c.Fencing.ActionSet {
			in.fenceAction = string(c.Fencing.Action)
		}
	} else if clusterFile != "" {
		cdata, err := os.ReadFile(clusterFile)
		if err != nil {
			return simInput{}, &exitError{2, fmt.Errorf("--cluster: %w", err)}
		}
		var croot yaml.Node
		if err := yaml.Unmarshal(cdata, &croot); err != nil {
			return simInput{}, &exitError{2, model.SyntaxError(clusterFile, err)}
		}
		nodes = nodeNames(topKeys(&croot)["nodes"])
	}
	for _, n := range cfg.Nodes {
		if !slices.Contains(nodes, n.Name) {
			nodes = append(nodes, n.Name)
		}
	}
	if len(nodes) == 0 {
		return simInput{}, &exitError{2, fmt.Errorf("%s: a resources section names no nodes: give --cluster cluster.yaml (or use --live)", path)}
	}
	for _, n := range nodes {
		in.doc.Status.Nodes = append(in.doc.Status.Nodes, model.NodeState{Name: n, State: model.NodeOnline})
	}
	return in, nil
}

// topKeys maps a YAML document's top-level keys to their values.
func topKeys(doc *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

// nodeNames reads cluster.yaml's nodes list (names in file order).
func nodeNames(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, item := range n.Content {
		for k, v := range topKeys(item) {
			if k == "name" && v.Value != "" {
				out = append(out, v.Value)
			}
		}
	}
	return out
}
