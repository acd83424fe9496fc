package config

import (
	"palisade/fence"
	"palisade/fence/topology"
	"palisade/quorum"
	"palisade/resources/model"
)

// The quorum and fencing sections and the resources' cluster options
// (Pacemaker's names) can say the same thing twice. These are the one
// place where the two are put together; running is the resources
// configuration the node runs with (the cluster's replicated copy, or the
// file's), nil when there is none.

// NoQuorumPolicy is the no-quorum-policy in force: the quorum section's
// no_quorum_policy when it names one, else the resources' no-quorum-policy
// option, else stop. The recovery gate and the scheduler both apply it.
func (c *Cluster) NoQuorumPolicy(running *model.Config) quorum.NoQuorumPolicy {
	return NoQuorumPolicy(c.Quorum, running)
}

// NoQuorumPolicy is Cluster.NoQuorumPolicy for a quorum section on its own
// (nil: the defaults).
func NoQuorumPolicy(qs *quorum.Section, running *model.Config) quorum.NoQuorumPolicy {
	if qs != nil && qs.PolicySet {
		return qs.Policy
	}
	if running != nil {
		return running.Options.QuorumPolicy()
	}
	return quorum.PolicyStop
}

// FenceAction is what a fence does to its target: the fencing section's
// action when it names one, else the resources' stonith-action when it
// names one (configurations carried over from Pacemaker), else off.
func (c *Cluster) FenceAction(running *model.Config) fence.Action {
	return FenceAction(c.Fencing, running)
}

// FenceAction is Cluster.FenceAction for a fencing section on its own
// (nil: the defaults).
func FenceAction(fc *topology.Config, running *model.Config) fence.Action {
	if fc != nil && fc.ActionSet {
		return fc.Action
	}
	if running != nil && running.Options.FenceActionSet() {
		return fence.Action(running.Options.FenceAction())
	}
	if fc != nil {
		return fc.Action
	}
	return fence.ActionOff
}

// FencingEnabled says lost nodes are fenced: the fencing section is not
// disabled and stonith-enabled is not false.
func (c *Cluster) FencingEnabled(running *model.Config) bool {
	return c.Fencing.Enabled && (running == nil || running.Options.Stonith())
}
