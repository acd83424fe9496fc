package replica

import (
	"fmt"

	"palisade/cluster/recovery"
	"palisade/fence/topology"
	"palisade/resources/model"
)

// Persisted is what a node keeps of the replicated configuration across
// restarts.
type Persisted struct {
	Version Version       `json:"version"`
	Digest  string        `json:"digest"`
	Config  *model.Config `json:"config"`
	// FileDigest identifies the resources section of cluster.yaml (with its
	// admin_epoch) this node last started from or had accepted. A restart
	// or SIGHUP with that same file proposes nothing, so a stale file never
	// undoes a change made elsewhere; an edited file is proposed to the DC.
	FileDigest string `json:"file_digest"`
	// The last replicated status and fence lifecycle records: what a lost
	// node held and which fences are out survive a restart of this node
	// (a newer copy from a live member still wins on join).
	Status   model.Status      `json:"status"`
	Reported []string          `json:"reported,omitempty"`
	Left     []string          `json:"left,omitempty"`
	Fencing  []recovery.Record `json:"fencing,omitempty"`
	// View is the highest membership view id this node was in: after a
	// restart its view ids start above it (membership.RaiseViewFloor).
	View uint64 `json:"view,omitempty"`
	// Pending and ReportedIn: see CIB.
	Pending    []model.ResourceStatus `json:"pending,omitempty"`
	ReportedIn map[string]uint64      `json:"reported_in,omitempty"`
	// Operator: see CIB.
	Operator OperatorState `json:"operator"`
	// History: see CIB.
	History []topology.HistoryEntry `json:"history,omitempty"`
}

// PersistedOf is what a node keeps of its replica cib: everything but
// num_updates' meaning (see StartCIB), with the file digest it started
// from and the highest view it was in.
func PersistedOf(cib *CIB, fileDigest string, view uint64) Persisted {
	return Persisted{Version: cib.Version, Digest: cib.Digest, Config: cib.Config, FileDigest: fileDigest, View: view,
		Status: cib.Status, Reported: cib.Reported, Left: cib.Left, Fencing: cib.Fencing, Pending: cib.Pending, ReportedIn: cib.ReportedIn,
		Operator: cib.Operator, History: cib.History}
}

// FileDigest identifies a resources section as read from a file.
func FileDigest(cfg *model.Config, adminEpoch uint64) string {
	if cfg == nil {
		return ""
	}
	return fmt.Sprintf("%d:%s", adminEpoch, ConfigDigest(cfg))
}

// StartCIB chooses a node's initial replica from what it persisted and
// what its configuration file says. Without a persisted copy the file's
// section starts at version admin_epoch.1.0 (every node of a new cluster
// the same; on join the highest version, then the highest digest, wins).
// With one, the persisted copy is used (num_updates reset: its status is
// old, so a live member's copy of the same epoch wins), and propose
// reports whether the file was edited since the node last saw it: the
// caller then proposes the file to the DC once it has joined.
func StartCIB(p *Persisted, file *model.Config, fileAdmin uint64) (cib *CIB, fileDigest string, propose bool) {
	fd := FileDigest(file, fileAdmin)
	if p == nil || p.Config == nil {
		if file == nil {
			return nil, "", false
		}
		return &CIB{Version: Version{AdminEpoch: fileAdmin, Epoch: 1}, Config: file, Digest: ConfigDigest(file)}, fd, false
	}
	// Reported is not carried over: what other nodes ran is known only
	// from what they reported while this node was up. Its own restart may
	// have hidden a move (it was fenced, a peer took its resources): the
	// persisted status still says where resources may be (lost nodes are
	// waited for there), but no node counts as known until it reports
	// again, so a lost peer may be running anything until it is fenced.
	cib = &CIB{Version: Version{AdminEpoch: p.Version.AdminEpoch, Epoch: p.Version.Epoch}, Config: p.Config, Digest: ConfigDigest(p.Config),
		Status: p.Status, Left: p.Left, Fencing: p.Fencing, Pending: p.Pending, ReportedIn: p.ReportedIn, Operator: p.Operator,
		History: p.History}
	return cib, p.FileDigest, file != nil && fd != p.FileDigest
}
