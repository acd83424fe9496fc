package dc

import (
	"fmt"
	"strings"
	"time"

	"palisade/cluster/dcmsg"
	"palisade/cluster/eventlog"
	"palisade/cluster/replica"
	"palisade/resources/model"
)

// EventConfigChanged is logged by the DC when it accepts a configuration
// change (Detail: new version, proposer, source).
const EventConfigChanged = "config_changed"

// Propose submits a configuration change: applied at once on the DC,
// forwarded to the DC elsewhere. The answer appears in Ready.ConfigResults
// (on this node) with p.ID.
func (c *Coordinator) Propose(p dcmsg.Proposal, now time.Duration) {
	switch {
	case c.isDC():
		c.ready.ConfigResults = append(c.ready.ConfigResults, c.applyProposal(p, c.cfg.Self, now))
	case c.view.DC == "" || c.view.DC == c.cfg.Self || !c.acting():
		c.ready.ConfigResults = append(c.ready.ConfigResults, dcmsg.ConfigResult{ID: p.ID, Retry: true,
			Error: c.notDCError().Error()})
	default:
		c.send(c.view.DC, dcmsg.Message{Kind: dcmsg.KindConfigPropose, Proposal: &p})
	}
}

// stepConfig handles KindConfigPropose and KindConfigResult.
func (c *Coordinator) stepConfig(m dcmsg.Message, now time.Duration) {
	switch m.Kind {
	case dcmsg.KindConfigPropose:
		var res dcmsg.ConfigResult
		if !c.isDC() {
			res = dcmsg.ConfigResult{ID: m.Proposal.ID, DC: c.view.DC, Retry: true, Error: fmt.Sprintf("%s is not the DC of an agreed view (the DC is %q)", c.cfg.Self, c.view.DC)}
		} else {
			res = c.applyProposal(*m.Proposal, m.From, now)
		}
		if m.From == c.cfg.Self {
			c.ready.ConfigResults = append(c.ready.ConfigResults, res)
			return
		}
		c.send(m.From, dcmsg.Message{Kind: dcmsg.KindConfigResult, ConfigResult: &res})
	case dcmsg.KindConfigResult:
		c.ready.ConfigResults = append(c.ready.ConfigResults, *m.ConfigResult)
	}
}

// applyProposal is the DC's decision on a change.
func (c *Coordinator) applyProposal(p dcmsg.Proposal, from string, now time.Duration) dcmsg.ConfigResult {
	res := dcmsg.ConfigResult{ID: p.ID, DC: c.cfg.Self, Version: c.cib.Version, Digest: c.cib.Digest}
	refuse := func(retry bool, format string, args ...any) dcmsg.ConfigResult {
		res.Retry, res.Error = retry, fmt.Sprintf(format, args...)
		c.log(now, eventlog.Entry{Event: EventConfigChanged, OK: eventlog.Bool(false), Node: from, Detail: "refused: " + res.Error})
		return res
	}
	switch {
	case c.rebuilding:
		return refuse(true, "the DC %s is collecting status after a membership change", c.cfg.Self)
	case !c.q.Quorate():
		// A change accepted without quorum could silently undo (or be
		// undone by) the majority's configuration when the partition heals.
		return refuse(true, "the DC %s has no quorum: configuration changes need a quorate partition", c.cfg.Self)
	case p.Config == nil:
		return refuse(false, "the proposal has no resources configuration")
	}
	// A prefix is accepted (config show used to print 12 digits).
	if p.BaseDigest != "" && (len(p.BaseDigest) < 12 || !strings.HasPrefix(c.cib.Digest, p.BaseDigest)) {
		res.Conflict = true
		return refuse(false, "%s (running version %s)", dcmsg.ConflictText, c.cib.Version)
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
