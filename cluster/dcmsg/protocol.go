package dcmsg

import (
	"errors"
	"fmt"

	"palisade/cluster/api"
	"palisade/cluster/replica"
	"palisade/resources/model"
)

// Proposal is a configuration change sent to the DC. Only the DC changes
// the configuration: it validates, bumps epoch and replicates, so two
// nodes of one partition can never accept different changes under the
// same version.
type Proposal struct {
	// ID is unique per proposer ("n2/7"); the result carries it back.
	ID     string        `json:"id"`
	Config *model.Config `json:"config"`
	// AdminEpoch is the operator's resources.admin_epoch. It can only
	// raise the cluster's admin_epoch, never lower it.
	AdminEpoch uint64 `json:"admin_epoch,omitempty"`
	// Source says where the change comes from, for the log ("SIGHUP
	// /etc/palisade/cluster.yaml", "config push new.yaml by alice").
	Source string `json:"source,omitempty"`
	// BaseDigest, when set, is the digest of the configuration the change
	// was made on: the DC refuses it (Conflict) if its own differs, so an
	// edit never undoes a change made meanwhile.
	BaseDigest string `json:"base_digest,omitempty"`
	// Edits are set when the change is made of operator edits (standby,
	// move...; several for one Heartbeat verb) on the running
	// configuration; otherwise the change comes from a file, and the DC
	// carries over what operators set (OperatorState, the cli-
	// constraints) and refuses it, unless Force, when something could not
	// be carried. An edit that clears a cli- constraint must not see it
	// carried back, so edits never go through that carrying.
	Edits []replica.Edit `json:"edits,omitempty"`
	Force bool           `json:"force,omitempty"`
}

// ConflictText starts the refusal of a proposal whose BaseDigest is not
// the running configuration.
const ConflictText = "the configuration changed while this change was prepared"

// ConfigResult is the DC's answer to a Proposal.
type ConfigResult struct {
	ID string `json:"id"`
	// Accepted: the change is the cluster's configuration now (Version,
	// Digest). Unchanged: it already was (nothing bumped).
	Accepted  bool            `json:"accepted,omitempty"`
	Unchanged bool            `json:"unchanged,omitempty"`
	Version   replica.Version `json:"version"`
	Digest    string          `json:"digest,omitempty"`
	DC        string          `json:"dc,omitempty"`
	Error     string          `json:"error,omitempty"`
	// Retry marks a refusal that may pass later (no DC yet, no quorum,
	// the DC is rebuilding status): the proposal itself was not judged.
	Retry bool `json:"retry,omitempty"`
	// Conflict: the proposal's BaseDigest is not the running
	// configuration; redo the edit on the new one.
	Conflict bool `json:"conflict,omitempty"`
	// Kept: what operators set that the change carried over; Dropped:
	// what a forced change dropped (see Proposal.Edits).
	Kept    []string `json:"kept,omitempty"`
	Dropped []string `json:"dropped,omitempty"`
}

// Err returns the refusal as an error (nil when accepted or unchanged).
func (r ConfigResult) Err() error {
	if r.Error == "" {
		return nil
	}
	switch {
	case r.Retry:
		return fmt.Errorf("%s: %w", r.Error, ErrRetry)
	case r.Conflict:
		return &api.Error{Code: api.Conflict, Message: r.Error}
	}
	return &api.Error{Code: api.Invalid, Message: r.Error}
}

// ErrRetry wraps refusals that may pass if tried again later; its code
// (api.Retry) reaches the client through the wrapping.
var ErrRetry error = api.Errorf(api.Retry, "try again later")

// OpRequest is an operator command that the DC decides (typed on any
// node, forwarded to the DC).
type OpRequest struct {
	ID       string `json:"id"`
	Op       string `json:"op"` // confirm, cleanup
	Node     string `json:"node,omitempty"`
	Resource string `json:"resource,omitempty"`
	By       string `json:"by,omitempty"`
}

// Operator commands.
const (
	OpConfirm = "confirm"
	OpCleanup = "cleanup"
)

// OpAnswer is the DC's decision on an OpRequest.
type OpAnswer struct {
	ID    string `json:"id"`
	DC    string `json:"dc,omitempty"`
	Error string `json:"error,omitempty"`
	Retry bool   `json:"retry,omitempty"`
	// Code classifies a refusal (api.Code values).
	Code   string   `json:"code,omitempty"`
	Result string   `json:"result,omitempty"`
	Nodes  []string `json:"nodes,omitempty"`
}

// Err returns the refusal as an error (nil when done).
func (a OpAnswer) Err() error {
	if a.Error == "" {
		return nil
	}
	if a.Retry {
		return fmt.Errorf("%s: %w", a.Error, ErrRetry)
	}
	return errors.New(a.Error)
}

// Errors of operator requests.
var (
	ErrNoDC  = errors.New("no DC")
	ErrNotDC = errors.New("not the DC")
)
