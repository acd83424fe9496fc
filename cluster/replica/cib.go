package replica

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"palisade/cluster/recovery"
	"palisade/fence/topology"
	"palisade/resources/model"
)

// Version orders CIB copies like Pacemaker: admin_epoch, then epoch, then
// num_updates. admin_epoch is the operator's (resources.admin_epoch in the
// YAML); epoch is bumped by the DC on every accepted configuration change;
// num_updates on every status update it publishes.
type Version struct {
	AdminEpoch uint64 `json:"admin_epoch"`
	Epoch      uint64 `json:"epoch"`
	NumUpdates uint64 `json:"num_updates"`
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.AdminEpoch != w.AdminEpoch {
		return v.AdminEpoch < w.AdminEpoch
	}
	if v.Epoch != w.Epoch {
		return v.Epoch < w.Epoch
	}
	return v.NumUpdates < w.NumUpdates
}

// SameConfigVersion reports whether v and w name the same configuration
// change (num_updates, which only counts status updates, is ignored).
func (v Version) SameConfigVersion(w Version) bool {
	return v.AdminEpoch == w.AdminEpoch && v.Epoch == w.Epoch
}

func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.AdminEpoch, v.Epoch, v.NumUpdates)
}

// CIB is the replicated cluster information: configuration and the last
// status snapshot the DC published.
type CIB struct {
	Version Version       `json:"version"`
	Config  *model.Config `json:"config,omitempty"`
	// Digest is ConfigDigest(Config). It breaks ties between copies of the
	// same version with different configurations (two partitions, or two
	// nodes started from different files), so every node picks the same
	// winner. Receivers recompute it; it is never trusted from the wire.
	Digest string       `json:"digest,omitempty"`
	Status model.Status `json:"status"`
	// Reported lists the nodes whose status in Status came from the node
	// itself (as opposed to "never known").
	Reported []string `json:"reported,omitempty"`
	// Left lists nodes that stopped everything and are shutting down
	// cleanly: their disappearance needs no fencing (every member's gate
	// learns it from here, so a future DC knows too).
	Left []string `json:"left,omitempty"`
	// Fencing is every node's fence lifecycle as the DC's gate holds it
	// (recovery.Record): members adopt it, so a new DC knows which nodes
	// are unclean or fenced, and it survives restarts in cib.json.
	Fencing []recovery.Record `json:"fencing,omitempty"`
	// Pending lists starts and promotes decided and not yet answered: a
	// DC that takes over treats them as maybe active on a lost node.
	Pending []model.ResourceStatus `json:"pending,omitempty"`
	// History is the cluster-wide fence history: the newest
	// topology.HistoryLimit fence attempts, operator confirmations and
	// refused fence orders, as the nodes that executed them reported them
	// (KindFenceResult). The DC appends, every member persists it, and a
	// new DC merges the members' copies, so every node shows the same
	// history and it survives restarts.
	History []topology.HistoryEntry `json:"history,omitempty"`
	// ReportedIn is, per node, the view in which the node's entries of
	// Status and Pending were last reported by the node itself. When a new
	// DC collects the members' copies, each node's entries come from the
	// copy that heard from it last (a partition only knows its own
	// members first hand).
	ReportedIn map[string]uint64 `json:"reported_in,omitempty"`
	// Operator is what operators set with edits (standby, maintenance),
	// kept across configurations proposed from files; it changes with
	// the configuration (epoch).
	Operator OperatorState `json:"operator"`
}

// MergeStatus returns a copy of a in which the status entries of every
// node that b heard from later (ReportedIn) are b's.
func MergeStatus(a, b *CIB) *CIB {
	out := *a
	out.ReportedIn = maps.Clone(a.ReportedIn)
	if out.ReportedIn == nil {
		out.ReportedIn = map[string]uint64{}
	}
	for _, n := range sortedNodes(b.ReportedIn) {
		if b.ReportedIn[n] <= a.ReportedIn[n] {
			continue
		}
		out.ReportedIn[n] = b.ReportedIn[n]
		out.Status.Resources = replaceNode(out.Status.Resources, b.Status.Resources, n, func(r model.ResourceStatus) string { return r.Node })
		out.Status.Failures = replaceNode(out.Status.Failures, b.Status.Failures, n, func(f model.Failure) string { return f.Node })
		out.Pending = replaceNode(out.Pending, b.Pending, n, func(r model.ResourceStatus) string { return r.Node })
		if slices.Contains(b.Reported, n) && !slices.Contains(out.Reported, n) {
			out.Reported = append(slices.Clone(out.Reported), n)
		}
	}
	return &out
}

func replaceNode[T any](mine, theirs []T, n string, node func(T) string) []T {
	out := slices.DeleteFunc(slices.Clone(mine), func(e T) bool { return node(e) == n })
	for _, e := range theirs {
		if node(e) == n {
			out = append(out, e)
		}
	}
	return out
}

func sortedNodes(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ConfigDigest is a hex SHA-256 of the canonical JSON form of cfg ("" for
// nil). encoding/json sorts map keys, so equal configurations have equal
// digests whatever the order of their YAML maps.
func ConfigDigest(cfg *model.Config) string {
	if cfg == nil {
		return ""
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		// model.Config is plain data: this cannot happen; make it visible.
		return "unencodable:" + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Older reports whether a loses to b: lower version, or the same version
// and a lower digest. The order is total over (version, digest), so two
// nodes comparing the same pair always agree on the winner.
func Older(a, b *CIB) bool {
	if a.Version != b.Version {
		return a.Version.Less(b.Version)
	}
	return a.Digest < b.Digest
}

// Newer returns whichever of a and b wins: the higher version, on equal
// versions the higher digest, and a when both are equal (so the local
// copy is kept).
func Newer(a, b *CIB) *CIB {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case Older(a, b):
		return b
	}
	return a
}

// CheckCIB validates a replica that arrived from another node before it
// replaces ours. The sender is an authenticated peer, but its copy may come
// from an older or newer palisade, or from a state file edited by hand: a
// configuration whose references do not resolve must not reach the
// scheduler of every node.
func CheckCIB(c *CIB) error {
	if c == nil || c.Config == nil {
		return nil
	}
	return c.Config.Validate()
}

// WithDigest returns c with Digest recomputed (c itself if it was right).
func WithDigest(c *CIB) *CIB {
	if c == nil {
		return nil
	}
	if d := ConfigDigest(c.Config); d != c.Digest {
		cp := *c
		cp.Digest = d
		return &cp
	}
	return c
}
