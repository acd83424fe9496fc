package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
	"palisade/resources/model"
)

// AdminEpochKey is the key of the resources section that sets the
// operator's admin_epoch (the replicated configuration's version, see
// cluster/replica). It is read here and is not part of the scheduler's model.
const AdminEpochKey = "admin_epoch"

// decodeResources reads the resources section into col: admin_epoch, the
// scheduler's model strictly (unknown keys are errors, valid keys come
// from the model's yaml tags), the words of the word-valued options, then
// the model's own checks (unique ids, references). nil without a section.
func decodeResources(col *strict.Collector, n *yaml.Node) (*model.Config, uint64) {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil {
		return nil, 0
	}
	n = col.Deref(n)
	before := col.Len()
	var admin uint64
	if n.Kind == yaml.MappingNode {
		rest := *n
		rest.Content = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], col.Deref(n.Content[i+1])
			if k.Value != AdminEpochKey {
				rest.Content = append(rest.Content, n.Content[i], n.Content[i+1])
				continue
			}
			a, err := strconv.ParseUint(v.Value, 10, 64)
			if err != nil || v.Kind != yaml.ScalarNode {
				col.Errorf(v, strict.Join("resources", AdminEpochKey), "%s: want a whole number ≥ 0 (raise it to force this configuration over the cluster's)", strict.Quote(v.Value))
			}
			admin = a
		}
		n = &rest
	}
	var cfg model.Config
	col.DecodeStrict(n, "resources", &cfg, AdminEpochKey)
	checkOptionWords(col, n)
	if col.Len() > before {
		return nil, 0
	}
	if ps := cfg.Problems(); len(ps) > 0 {
		// Every problem, each at the line of the object it is about.
		at := objectLines(col, n)
		for _, p := range ps {
			key := p.What
			if p.What == "group" || p.What == "clone" {
				key = "resource"
			}
			if p.What == "ticket constraint" {
				key = "ticket"
			}
			where, ok := at[objectKey{key, p.ID, p.Nth}]
			if !ok {
				where = objectAt{path: "resources"}
			}
			col.ErrorAt(where.line, where.path, "%s", p)
		}
		return nil, 0
	}
	return &cfg, admin
}

// objectKey names the nth object of a kind with an id in a resources
// section: a resource (of any kind), a node, a location, ...
type objectKey struct {
	what, id string
	nth      int
}

type objectAt struct {
	line int
	path string
}

// objectLines finds where each resource, node and constraint of a
// resources section is, for the model's own checks (model.Problems),
// which know objects by id, not by line.
func objectLines(col *strict.Collector, n *yaml.Node) map[objectKey]objectAt {
	at := map[objectKey]objectAt{}
	count := map[[2]string]int{}
	record := func(what string, item *yaml.Node, idKey, path string) {
		item = col.Deref(item)
		if item.Kind != yaml.MappingNode {
			return
		}
		id := ""
		for i := 0; i+1 < len(item.Content); i += 2 {
			if item.Content[i].Value == idKey {
				id = col.Deref(item.Content[i+1]).Value
			}
		}
		count[[2]string{what, id}]++
		at[objectKey{what, id, count[[2]string{what, id}]}] = objectAt{item.Line, path}
	}
	child := func(m *yaml.Node, key string) *yaml.Node {
		if m = col.Deref(m); m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return col.Deref(m.Content[i+1])
			}
		}
		return nil
	}
	var resources func(list *yaml.Node, path string)
	resources = func(list *yaml.Node, path string) {
		if list == nil || list.Kind != yaml.SequenceNode {
			return
		}
		for i, r := range list.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			record("resource", r, "id", p)
			resources(child(r, "members"), p+".members")
		}
	}
	resources(child(n, "resources"), "resources.resources")
	if nodes := child(n, "nodes"); nodes != nil && nodes.Kind == yaml.SequenceNode {
		for i, nd := range nodes.Content {
			record("node", nd, "name", fmt.Sprintf("resources.nodes[%d]", i))
		}
	}
	cs := child(n, "constraints")
	for _, k := range []struct{ key, what string }{{"locations", "location"}, {"colocations", "colocation"}, {"orders", "order"}, {"tickets", "ticket"}} {
		if list := child(cs, k.key); list != nil && list.Kind == yaml.SequenceNode {
			for i, c := range list.Content {
				record(k.what, c, "id", fmt.Sprintf("resources.constraints.%s[%d]", k.key, i))
			}
		}
	}
	return at
}

// checkOptionWords refuses a word-valued option (no-quorum-policy,
// stonith-action, ...) set to a word it does not take. The scheduler
// would fall back to the default with a warning, as Pacemaker does for a
// CIB; in a configuration file a typo is an error at its line, before it
// can change what a partition does without quorum.
func checkOptionWords(col *strict.Collector, n *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		opts := col.Deref(n.Content[i+1])
		if n.Content[i].Value != "options" || opts.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(opts.Content); j += 2 {
			k, v := opts.Content[j].Value, col.Deref(opts.Content[j+1])
			valid, ok := model.OptionWords[k]
			if !ok || v.Kind != yaml.ScalarNode || slices.Contains(valid, strings.ToLower(strings.TrimSpace(v.Value))) {
				continue
			}
			col.Errorf(v, "resources.options."+k, "%s: want one of %s", strict.Quote(v.Value), strings.Join(valid, ", "))
		}
	}
}

// Document is a file given to `palisade config check` or `palisade config
// push`: a whole cluster.yaml, or a resources section on its own (what
// `palisade config show` prints).
type Document struct {
	// Cluster is the whole file when it is a cluster.yaml, nil for a
	// resources section on its own.
	Cluster *Cluster
	// Resources is the resources section, nil when a cluster.yaml has
	// none; AdminEpoch is its admin_epoch.
	Resources  *model.Config
	AdminEpoch uint64
}

// clusterKeys are top-level keys only a whole cluster.yaml has (nodes is
// in both: a resources section lists its nodes too).
var clusterKeys = []string{"cluster", "links", "timing", "auth", "state_dir", "run_dir", "socket", "quorum", "fencing", "alerts"}

// ParseDocument decodes a file as `palisade config check` and `palisade
// config push` read it (the CLI before sending, the daemon on receipt):
// a whole cluster.yaml, every section of it as Parse does (no host
// checks), or a resources section on its own. Every problem is reported at
// once.
func ParseDocument(file string, data []byte) (*Document, error) {
	col := strict.New(file)
	root := col.Parse(data)
	switch {
	case root == nil:
		if col.Len() == 0 {
			col.Errorf(nil, "", "empty file, want a cluster.yaml or its resources section")
		}
		return nil, col.Err()
	case root.Kind != yaml.MappingNode:
		col.Errorf(root, "", "is %s, want a mapping: a cluster.yaml or its resources section", strict.Kind(root))
		return nil, col.Err()
	}
	if isClusterFile(col, root) {
		c := decode(col, root)
		if err := col.Err(); err != nil {
			return nil, err
		}
		return &Document{Cluster: c, Resources: c.Resources, AdminEpoch: c.AdminEpoch}, nil
	}
	cfg, admin := decodeResources(col, root)
	if err := col.Err(); err != nil {
		return nil, err
	}
	return &Document{Resources: cfg, AdminEpoch: admin}, nil
}

// isClusterFile tells a cluster.yaml from a resources section: its own
// sections, or resources: as a mapping (in a section on its own,
// resources: is the list of resources).
func isClusterFile(col *strict.Collector, root *yaml.Node) bool {
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i].Value
		if slices.Contains(clusterKeys, k) || (k == "resources" && col.Deref(root.Content[i+1]).Kind == yaml.MappingNode) {
			return true
		}
	}
	return false
}
