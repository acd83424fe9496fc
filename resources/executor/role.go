package executor

import (
	"cmp"
	"slices"

	"palisade/resources/agent"
)

// Roles, spelled as resources/model spells them.
const (
	RoleStopped    = "Stopped"
	RoleStarted    = "Started"
	RoleUnpromoted = "Unpromoted"
	RolePromoted   = "Promoted"
)

// role replays the recorded results in call order to the resource's
// current role, and whether it is failed (active, or possibly active, and
// in need of recovery). When in doubt it says "active and failed": the DC
// then stops the resource (or fences the node) before starting it
// elsewhere, which is the safe side for the fencing-first rule.
func role(ops []Record) (string, bool) {
	ops = slices.Clone(ops)
	slices.SortFunc(ops, func(a, b Record) int { return cmp.Compare(a.CallID, b.CallID) })
	r, failed := RoleStopped, false
	for _, op := range ops {
		// on-fail=ignore: pretend it succeeded, as Pacemaker does.
		ok := op.Class == agent.ClassNone || op.OnFail == OnFailIgnore
		done := op.Status == agent.StatusDone
		switch op.Action {
		case agent.Start:
			r, failed = RoleStarted, !ok
		case agent.Stop:
			if ok {
				r, failed = RoleStopped, false
			} else {
				failed = true // may still hold its resources
				if r == RoleStopped {
					r = RoleStarted
				}
			}
		case agent.Promote:
			r, failed = RolePromoted, !ok
		case agent.Demote:
			if ok {
				r, failed = RoleUnpromoted, false
			} else {
				r, failed = RolePromoted, true
			}
		case agent.Monitor:
			switch {
			case done && op.RC == agent.OK:
				if r == RolePromoted || r == RoleUnpromoted {
					r = RoleUnpromoted
				} else {
					r = RoleStarted
				}
				failed = !ok
			case done && op.RC == agent.RunningPromoted:
				r, failed = RolePromoted, !ok
			case done && op.RC == agent.FailedPromoted:
				r, failed = RolePromoted, true
			case done && (op.RC == agent.NotRunning || op.RC == agent.ErrInstalled) && op.Interval == 0 && ok:
				r, failed = RoleStopped, false // a probe found it stopped
			case done && (op.RC == agent.ErrInstalled || op.RC == agent.ErrConfigured) && op.Interval == 0:
				// Not installed here, or not configured (rc 6): the agent
				// cannot be running it; the ban (here, or everywhere)
				// comes from the failure, not from a running copy.
				r, failed = RoleStopped, false
			default:
				// A failed recurring monitor (even "not running") or an
				// unreadable probe: treat as active and failed.
				if r == RoleStopped {
					r = RoleStarted
				}
				failed = !ok
			}
		default:
			if !ok {
				failed = true
			}
		}
	}
	return r, failed
}
