package config

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
	"palisade/resources/model"
)

// AdminEpochKey is the key of the resources section that sets the
// operator's admin_epoch (the replicated configuration's version, see
// cluster/dc). It is read here and is not part of the scheduler's model.
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
	if err := cfg.Validate(); err != nil {
		col.ErrorAt(0, "resources", "%v", err)
		return nil, 0
	}
	return &cfg, admin
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
