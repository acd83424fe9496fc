package quorum

import "fmt"

// NoQuorumPolicy says what a partition without quorum does with the
// resources it runs. Whatever the policy, an inquorate partition never
// fences and never takes over a lost node's resources: that is enforced by
// the recovery gate, not here.
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
	// PolicySuicide makes every node of the partition fence itself
	// (watchdog / self power-off).
	PolicySuicide NoQuorumPolicy = "suicide"
)

// ParsePolicy turns a configuration string into a NoQuorumPolicy; the empty
// string means the default, stop.
func ParsePolicy(s string) (NoQuorumPolicy, error) {
	switch p := NoQuorumPolicy(s); p {
	case "":
		return PolicyStop, nil
	case PolicyStop, PolicyFreeze, PolicyIgnore, PolicySuicide:
		return p, nil
	}
	return "", fmt.Errorf("no-quorum-policy %q: want one of stop, freeze, ignore, suicide", s)
}

// MayStart reports whether a partition without quorum may start a resource
// it does not currently run. Only ignore allows it.
func (p NoQuorumPolicy) MayStart() bool { return p == PolicyIgnore }

// MustStop reports whether a partition without quorum must stop what it runs.
func (p NoQuorumPolicy) MustStop() bool { return p == PolicyStop || p == PolicySuicide || p == "" }
