package dc

import (
	"fmt"
	"strings"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
	"palisade/cluster/replica"
	"palisade/resources/model"
)

// EventConfigChanged is logged by the DC when it accepts a configuration
// change (Detail: new version, proposer, source).
const EventConfigChanged = "config_changed"

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

// Propose submits a configuration change: applied at once on the DC,
// forwarded to the DC elsewhere. The answer appears in Ready.ConfigResults
// (on this node) with p.ID.
func (c *Coordinator) Propose(p Proposal, now time.Duration) {
	switch {
	case c.isDC():
		c.ready.ConfigResults = append(c.ready.ConfigResults, c.applyProposal(p, c.cfg.Self, now))
	case c.view.DC == "" || c.view.DC == c.cfg.Self || !c.acting():
		c.ready.ConfigResults = append(c.ready.ConfigResults, ConfigResult{ID: p.ID, Retry: true,
			Error: c.notDCError().Error()})
	default:
		c.send(c.view.DC, Message{Kind: KindConfigPropose, Proposal: &p})
	}
}

// stepConfig handles KindConfigPropose and KindConfigResult.
func (c *Coordinator) stepConfig(m Message, now time.Duration) {
	switch m.Kind {
	case KindConfigPropose:
		var res ConfigResult
		if !c.isDC() {
			res = ConfigResult{ID: m.Proposal.ID, DC: c.view.DC, Retry: true, Error: fmt.Sprintf("%s is not the DC of an agreed view (the DC is %q)", c.cfg.Self, c.view.DC)}
		} else {
			res = c.applyProposal(*m.Proposal, m.From, now)
		}
		if m.From == c.cfg.Self {
			c.ready.ConfigResults = append(c.ready.ConfigResults, res)
			return
		}
		c.send(m.From, Message{Kind: KindConfigResult, ConfigResult: &res})
	case KindConfigResult:
		c.ready.ConfigResults = append(c.ready.ConfigResults, *m.ConfigResult)
	}
}

// applyProposal is the DC's decision on a change.
func (c *Coordinator) applyProposal(p Proposal, from string, now time.Duration) ConfigResult {
	res := ConfigResult{ID: p.ID, DC: c.cfg.Self, Version: c.cib.Version, Digest: c.cib.Digest}
	refuse := func(retry bool, format string, args ...any) ConfigResult {
		res.Retry, res.Error = retry, fmt.Sprintf(format, args...)
		c.log(now, eventlog.Entry{Event: EventConfigChanged, OK: eventlog.Bool(false), Node: from, Detail: "refused: " + res.Error})
		return res
	}
	switch {
	case c.rebuilding:
		return refuse(true, "the DC %s is collecting status after a membership change", c.cfg.Self)
	case !c.quorate:
		// A change accepted without quorum could silently undo (or be
		// undone by) the majority's configuration when the partition heals.
		return refuse(true, "the DC %s has no quorum: configuration changes need a quorate partition", c.cfg.Self)
	case p.Config == nil:
		return refuse(false, "the proposal has no resources configuration")
	}
	// A prefix is accepted (config show used to print 12 digits).
	if p.BaseDigest != "" && (len(p.BaseDigest) < 12 || !strings.HasPrefix(c.cib.Digest, p.BaseDigest)) {
		res.Conflict = true
		return refuse(false, "%s (running version %s)", ConflictText, c.cib.Version)
	}
	next, operator := p.Config, c.cib.Operator
	if len(p.Edits) > 0 {
		for _, e := range p.Edits {
			operator = operator.Apply(e)
		}
	} else {
		var dropped []string
		next, res.Kept, dropped = replica.KeepOperatorState(p.Config, c.cib.Config, c.cib.Operator)
		if len(dropped) > 0 && !p.Force {
			return refuse(false, "configuration refused by the DC %s, running version %s kept: it would drop what operators set: %s; %s",
				c.cfg.Self, c.cib.Version, strings.Join(dropped, "; "), replica.DropHint)
		}
		res.Dropped = dropped
	}
	if err := c.validateConfig(next, now); err != nil {
		return refuse(false, "configuration refused by the DC %s, running version %s kept: %v", c.cfg.Self, c.cib.Version, err)
	}
	digest := replica.ConfigDigest(next)
	admin := max(c.cib.Version.AdminEpoch, p.AdminEpoch)
	if digest == c.cib.Digest && admin == c.cib.Version.AdminEpoch {
		res.Unchanged = true
		return res
	}
	cib := *c.cib
	cib.Config, cib.Digest, cib.Operator = next, digest, operator
	cib.Version = replica.Version{AdminEpoch: admin, Epoch: c.cib.Version.Epoch + 1}
	c.cib = &cib
	c.publish(now)
	res.Accepted, res.Version, res.Digest = true, c.cib.Version, c.cib.Digest
	detail := fmt.Sprintf("version %s digest %.12s from %s", c.cib.Version, digest, from)
	if p.Source != "" {
		detail += " (" + p.Source + ")"
	}
	if len(res.Kept) > 0 {
		detail += "; kept what operators set: " + strings.Join(res.Kept, ", ")
	}
	if len(res.Dropped) > 0 {
		detail += "; forced, dropped: " + strings.Join(res.Dropped, ", ")
	}
	c.log(now, eventlog.Entry{Event: EventConfigChanged, OK: eventlog.Bool(true), Node: from, Detail: detail})
	c.schedule(now)
	return res
}

// validateConfig checks a proposed configuration: the model's own rules,
// then a dry run of the scheduler on the current status, so a
// configuration that the scheduler cannot handle never replaces one that
// works.
func (c *Coordinator) validateConfig(cfg *model.Config, now time.Duration) (err error) {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if c.cfg.Schedule == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the scheduler fails on it: %v", r)
		}
	}()
	if _, err := c.cfg.Schedule(cfg, c.buildStatus(), c.cfg.Wall()); err != nil {
		return fmt.Errorf("the scheduler fails on it: %w", err)
	}
	return nil
}
