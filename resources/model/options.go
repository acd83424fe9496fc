package model

import (
	"slices"
	"strings"

	"palisade/quorum"
)

// Pacemaker's defaults for the cluster options and the words the
// word-valued ones take, in one place: the scheduler, the DC, the daemon,
// `palisade simulate`, the CIB reader and writer and the configuration
// decoder all ask Options rather than work a default out themselves.

// Names of the word-valued cluster options.
const (
	OptNoQuorumPolicy     = "no-quorum-policy"
	OptPlacementStrategy  = "placement-strategy"
	OptStonithAction      = "stonith-action"
	OptNodeHealthStrategy = "node-health-strategy"
)

// OptionWords lists the values each word-valued option takes, default
// first. Pacemaker compares them without regard to case.
var OptionWords = map[string][]string{
	OptNoQuorumPolicy:     policyWords(),
	OptPlacementStrategy:  {"default", "utilization", "balanced", "minimal"},
	OptStonithAction:      {"reboot", "off", "poweroff"},
	OptNodeHealthStrategy: {"none", "migrate-on-red", "only-green", "progressive", "custom"},
}

// no-quorum-policy is one enum for the whole daemon: quorum.NoQuorumPolicy.
func policyWords() []string {
	out := make([]string, len(quorum.Policies))
	for i, p := range quorum.Policies {
		out[i] = string(p)
	}
	return out
}

// word is an option's value in the canonical spelling, or def when it is
// unset or not one of the option's words.
func word(option, v, def string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if slices.Contains(OptionWords[option], v) {
		return v
	}
	return def
}

// OptionProblem is a word-valued option set to a word it does not take.
type OptionProblem struct {
	Option string
	Value  string
	Valid  []string
}

// WordProblems lists the word-valued options set to a word they do not
// take, in OptionWords order. A configuration file refuses them (the
// decoder); a CIB read for scheduling falls back to the default with a
// warning, as Pacemaker does.
func (o Options) WordProblems() []OptionProblem {
	var out []OptionProblem
	for _, c := range []struct{ name, v string }{
		{OptNoQuorumPolicy, o.NoQuorumPolicy}, {OptPlacementStrategy, o.PlacementStrategy},
		{OptStonithAction, o.StonithAction}, {OptNodeHealthStrategy, o.NodeHealthStrategy},
	} {
		if c.v != "" && word(c.name, c.v, "") == "" {
			out = append(out, OptionProblem{Option: c.name, Value: c.v, Valid: OptionWords[c.name]})
		}
	}
	return out
}

// Stonith is stonith-enabled: true unless set false.
func (o Options) Stonith() bool { return o.StonithEnabled == nil || *o.StonithEnabled }

// Symmetric is symmetric-cluster: true unless set false (resources may
// run anywhere not banned).
func (o Options) Symmetric() bool { return o.SymmetricCluster == nil || *o.SymmetricCluster }

// StartFailureIsFatal is the option start-failure-is-fatal of c, true
// (Pacemaker's default) for a nil configuration as for one without it.
func (c *Config) StartFailureIsFatal() bool { return c == nil || c.Options.StartFatal() }

// StartFatal is start-failure-is-fatal: true unless set false (a failed
// start bans the resource from the node at once).
func (o Options) StartFatal() bool { return o.StartFailureIsFatal == nil || *o.StartFailureIsFatal }

// StopOrphans is stop-orphan-resources: true unless set false.
func (o Options) StopOrphans() bool { return o.StopOrphanResources == nil || *o.StopOrphanResources }

// QuorumPolicy is no-quorum-policy: stop unless set to another of the
// policies.
func (o Options) QuorumPolicy() quorum.NoQuorumPolicy {
	return quorum.NoQuorumPolicy(word(OptNoQuorumPolicy, o.NoQuorumPolicy, string(quorum.PolicyStop)))
}

// Placement is placement-strategy: default unless set to another
// strategy.
func (o Options) Placement() string {
	return word(OptPlacementStrategy, o.PlacementStrategy, "default")
}

// FenceAction is what stonith-action asks of a fence, reboot or off:
// Pacemaker's default is reboot, and poweroff is its old spelling of off.
// (Palisade's own fencing section defaults to off; see
// cluster/config.Cluster.FenceAction for the two together.)
func (o Options) FenceAction() string {
	if a := word(OptStonithAction, o.StonithAction, "reboot"); a != "poweroff" {
		return a
	}
	return "off"
}

// FenceActionSet says stonith-action names one of its words.
func (o Options) FenceActionSet() bool { return word(OptStonithAction, o.StonithAction, "") != "" }

// HealthStrategy is node-health-strategy: none unless set to another
// strategy.
func (o Options) HealthStrategy() string {
	return word(OptNodeHealthStrategy, o.NodeHealthStrategy, "none")
}
