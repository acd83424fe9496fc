package dc

import (
	"time"

	"palisade/quorum"
	"palisade/resources/model"
)

// EventQuorumDevice is logged when the quorum device's part in this
// node's quorum changes: its votes, an undecided view, a health problem.
const EventQuorumDevice = "quorum_device"

// SetDeviceVote records the quorum device's verdict; the next Advance
// (every input of the Engine) evaluates it.
func (c *Coordinator) SetDeviceVote(v quorum.ViewVote) { c.q.SetVote(v) }

// checkDevice re-evaluates quorum when what the device's verdict means
// changed since the last evaluation (a new verdict, or its lease ran out).
func (c *Coordinator) checkDevice(now time.Duration) {
	if c.q.DeviceChanged(now) {
		c.evaluate(now, c.isDC(), false)
	}
}

// Pending reports whether this node's agreed view waits for the quorum
// device's verdict (no decisions until it comes).
func (c *Coordinator) Pending() bool { return c.q.Pending() }

// Quorum returns the quorum verdict of the current view.
func (c *Coordinator) Quorum() quorum.Info { return c.q.Info() }

// scheduled applies Config.NoQuorumPolicy to the configuration the
// scheduler gets: the quorum section's policy wins over the resources'
// option when it is set, and suicide schedules like stop (each node
// fences itself on top of it, outside the scheduler).
func (c *Coordinator) scheduled(cfg *model.Config) *model.Config {
	return WithPolicy(cfg, c.cfg.NoQuorumPolicy)
}

// WithPolicy is cfg as the scheduler sees it under the quorum section's
// no-quorum-policy p ("" : cfg's own option): suicide schedules like stop.
// cfg itself is never written (the replica is shared).
func WithPolicy(cfg *model.Config, p quorum.NoQuorumPolicy) *model.Config {
	if p == "" || cfg == nil {
		return cfg
	}
	if p == quorum.PolicySuicide {
		p = quorum.PolicyStop
	}
	if cfg.Options.NoQuorumPolicy == string(p) {
		return cfg
	}
	cc := *cfg // the replica is shared: never write into it
	cc.Options.NoQuorumPolicy = string(p)
	return &cc
}

// QuorateAt reports whether this node acts as quorate at now (see
// quorum.Tracker.QuorateAt).
func (c *Coordinator) QuorateAt(now time.Duration) bool { return c.q.QuorateAt(now) }

// Agreed reports whether the current view is agreed (every member
// advertises it).
func (c *Coordinator) Agreed() bool { return c.view.Agreed }

// dropHeld forgets the starts held for replication when the quorum verdict
// changed within a view (a quorum device's vote came or went): they were
// allowed under the old verdict, and the scheduler decides them again.
// Without a device only a view change moves quorum, and SetView already
// drops them.
func (c *Coordinator) dropHeld(wasQuorate, wasPending bool, now time.Duration) {
	if len(c.held) == 0 || wasQuorate == c.q.Quorate() && wasPending == c.q.Pending() {
		return
	}
	c.held = nil
	c.publish(now) // the replicas no longer list them as pending
}

// fenceSuspects asks the gate to fence every suspect node (DC only): its
// resources, whatever they are, move only once it is confirmed off.
func (c *Coordinator) fenceSuspects(now time.Duration) {
	for _, n := range c.cfg.Nodes {
		if !c.q.Suspect(n) || c.gate().Blocked(n) {
			continue
		}
		if err := c.requestFence(n, "quorate only with the quorum device's votes: "+n+" may have held them meanwhile", now); err != nil {
			c.ready.Errors = append(c.ready.Errors, err)
		}
		c.drainGate(now)
	}
}
