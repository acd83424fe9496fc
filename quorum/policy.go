package quorum

import (
	"fmt"
	"strings"
)

// NoQuorumPolicy says what a partition without quorum does with the
// resources it runs. Whatever the policy, an inquorate partition never
// fences and never takes over a lost node's resources: that is enforced by
// the recovery gate, not here.
//
// The same five words are accepted wherever the configuration names the
// policy (quorum.no_quorum_policy and the resources' no-quorum-policy
// option) and mean the same thing in both places:
//
//	stop     stop every resource of the partition (the default)
//	freeze   keep what runs where it runs, start nothing
//	ignore   keep managing what the partition owns as if quorate
//	demote   demote promoted instances to unpromoted, stop everything else
//	suicide  every node of the partition fences itself (watchdog / disk)
type NoQuorumPolicy string

// The values follow Pacemaker's no-quorum-policy.
const (
	// PolicyStop stops every resource in the partition (the default).
	PolicyStop NoQuorumPolicy = "stop"
	// PolicyFreeze keeps running resources where they are but starts
	// nothing new.
	PolicyFreeze NoQuorumPolicy = "freeze"
	// PolicyIgnore keeps managing resources the partition already owns as
	// if quorate (still no fencing and no takeover of lost nodes).
	PolicyIgnore NoQuorumPolicy = "ignore"
	// PolicyDemote demotes every promoted instance of a promotable clone to
	// unpromoted (it keeps running, as a replica) and stops every other
	// resource, like Pacemaker's no-quorum-policy=demote.
	PolicyDemote NoQuorumPolicy = "demote"
	// PolicySuicide makes every node of the partition fence itself: it
	// stops feeding its watchdog (and resets at once where it can), so the
	// quorate side may count it fenced after the watchdog timeout.
	PolicySuicide NoQuorumPolicy = "suicide"
)

// Policies lists every accepted value, default first.
var Policies = []NoQuorumPolicy{PolicyStop, PolicyFreeze, PolicyIgnore, PolicyDemote, PolicySuicide}

// ParsePolicy turns a configuration word into a NoQuorumPolicy, without
// regard to case as Pacemaker reads it; the empty string means the
// default, stop. It is the one parser of the word, wherever the file
// names it.
func ParsePolicy(s string) (NoQuorumPolicy, error) {
	p := NoQuorumPolicy(strings.ToLower(strings.TrimSpace(s)))
	switch p {
	case "":
		return PolicyStop, nil
	case PolicyStop, PolicyFreeze, PolicyIgnore, PolicyDemote, PolicySuicide:
		return p, nil
	}
	return "", fmt.Errorf("want one of %s", PolicyWords())
}

// PolicyWords lists the accepted words, default first: "stop, freeze, ...".
func PolicyWords() string {
	words := make([]string, len(Policies))
	for i, p := range Policies {
		words[i] = string(p)
	}
	return strings.Join(words, ", ")
}

// MayStart reports whether a partition without quorum may start a resource
// it does not currently run. Only ignore allows it.
func (p NoQuorumPolicy) MayStart() bool { return p == PolicyIgnore }

// MustStop reports whether a partition without quorum must stop what it
// runs. Under demote this covers every resource except promotable clone
// instances, which are demoted instead (see Demotes).
func (p NoQuorumPolicy) MustStop() bool {
	return p == PolicyStop || p == PolicySuicide || p == PolicyDemote || p == ""
}

// Demotes reports whether promoted instances are demoted (and kept running
// as unpromoted) rather than stopped.
func (p NoQuorumPolicy) Demotes() bool { return p == PolicyDemote }

// SelfFences reports whether each node of an inquorate partition must fence
// itself: stop feeding its watchdog, and reset at once where it can.
func (p NoQuorumPolicy) SelfFences() bool { return p == PolicySuicide }
