// Package replica is the replicated CIB every node keeps: the resources
// section of cluster.yaml with the last status snapshot the DC published,
// the fence records and history, versioned like Pacemaker's (admin_epoch,
// epoch, num_updates) and identified by a digest of the configuration.
//
// It holds what every node needs to agree on one copy without asking
// anyone: the total order of copies (Newer: version, then digest), the
// merge of two copies' status (each node's entries from the copy that
// heard from it last), the checks a received copy must pass before it
// replaces a good one, the start-up copy and its persistence (StartCIB,
// Persisted), the operator's edits (ApplyEdit) and the operator state an
// edited file must not silently undo (KeepOperatorState), and what the
// configuration says about one primitive (Instance, OnFailOf). Pure: no
// I/O, no clock; the DC (cluster/dc) decides when a copy changes.
package replica
