package executor

import (
	"maps"
	"slices"
	"time"

	"palisade/resources/agent"
	"palisade/resources/model"
)

// FailInfinity is the fail count of a resource that must not run on this
// node again until its failures are cleared (Pacemaker's INFINITY).
const FailInfinity = 1000000

// Record is the last result of one operation (resource, action, interval).
type Record struct {
	Action     agent.Action
	Interval   time.Duration
	CallID     uint64
	RC         agent.RC
	Status     agent.Status
	Expected   agent.RC
	Class      agent.Class
	OnFail     OnFail // effective policy if failed
	ExitReason string
	Started    time.Time
	Finished   time.Time
	// Digest is Pacemaker's op-digest of the parameters the operation ran
	// with (model.ParamsDigest).
	Digest string
}

// ResourceStatus is everything this node knows about one resource: what
// a new DC needs to rebuild the cluster status.
type ResourceStatus struct {
	Resource    string
	Node        string
	Role        string   // Stopped, Started, Unpromoted or Promoted (as in resources/model)
	Failed      bool     // active but failed: the DC must recover it
	Ops         []Record // last result per (action, interval), sorted
	FailCount   int
	Failures    map[agent.Action]int // fail count per action (Pacemaker's fail-count-rsc#op)
	LastFailure time.Time            // zero if none
}

type opKey struct {
	action   agent.Action
	interval time.Duration
}

// History is the pure bookkeeping core of the executor: last results,
// fail counts and the failure decision. It does no I/O and takes time as
// an argument, so tests replay it deterministically. Not safe for
// concurrent use; the Executor guards it.
type History struct {
	Node                string
	Fencing             bool // stonith enabled: failed stops fence by default
	StartFailureIsFatal bool // a failed start sets the fail count to FailInfinity

	ops map[string]map[opKey]Record
	// started holds, per resource that may be running here, the
	// parameters it was started (or last reloaded, or found running)
	// with: stop, monitor, promote and demote run with them, whatever the
	// configuration says meanwhile (as Pacemaker's controller keeps
	// stop_params), so a changed address is removed from where it is.
	started  map[string]map[string]string
	fails    map[string]int
	opFails  map[string]map[agent.Action]int
	lastFail map[string]time.Time
	callID   uint64
}

// Record stores the result of op and returns the event to report.
func (h *History) Record(op Op, res agent.Result, started, finished time.Time) Event {
	if h.ops == nil {
		h.ops = map[string]map[opKey]Record{}
		h.started = map[string]map[string]string{}
		h.fails = map[string]int{}
		h.opFails = map[string]map[agent.Action]int{}
		h.lastFail = map[string]time.Time{}
	}
	h.callID++
	rsc := op.Instance.ID
	expected := op.expected()
	class := agent.Classify(res, expected)
	if op.Probe {
		class = agent.ClassifyProbe(res)
	}
	ev := Event{
		Node: h.Node, Resource: rsc, Action: op.Action, Interval: op.Interval,
		Ref: op.Ref, Probe: op.Probe, CallID: h.callID, Result: res,
		Expected: expected, Class: class, Started: started, Finished: finished,
	}
	if class != agent.ClassNone {
		ev.OnFail = effectiveOnFail(op.OnFail, op.Action, h.Fencing)
		if ev.OnFail != OnFailIgnore {
			switch {
			case op.Action == agent.Start && h.StartFailureIsFatal, class != agent.ClassSoft:
				// Hard and fatal errors mean "not on this node": a
				// restart here cannot help.
				h.fails[rsc] = FailInfinity
			case h.fails[rsc] < FailInfinity:
				h.fails[rsc]++
			}
			h.lastFail[rsc] = finished
			if h.opFails[rsc] == nil {
				h.opFails[rsc] = map[agent.Action]int{}
			}
			h.opFails[rsc][op.Action]++
		}
	}
	if h.ops[rsc] == nil {
		h.ops[rsc] = map[opKey]Record{}
	}
	if op.Action == agent.Stop && class == agent.ClassNone {
		// A clean stop ends the resource's life here: older results
		// (start, monitors) no longer describe it.
		clear(h.ops[rsc])
	}
	h.track(op, res, class)
	h.ops[rsc][opKey{op.Action, op.Interval}] = Record{
		Action: op.Action, Interval: op.Interval, CallID: ev.CallID, RC: res.RC,
		Status: res.Status, Expected: expected, Class: class, OnFail: ev.OnFail, ExitReason: res.ExitReason,
		Started: started, Finished: finished, Digest: model.ParamsDigest(op.Instance.Params),
	}
	ev.FailCount = h.fails[rsc]
	ev.LastFailure = h.lastFail[rsc]
	return ev
}

// track keeps the parameters the resource runs with here (see started).
func (h *History) track(op Op, res agent.Result, class agent.Class) {
	rsc := op.Instance.ID
	done := res.Status == agent.StatusDone
	switch op.Action {
	case agent.Start:
		// Even a failed start may have left it half running with these.
		h.started[rsc] = maps.Clone(op.Instance.Params)
	case agent.Reload, agent.ReloadAgent:
		if class == agent.ClassNone {
			h.started[rsc] = maps.Clone(op.Instance.Params)
		}
	case agent.Stop:
		if class == agent.ClassNone {
			delete(h.started, rsc)
		}
	case agent.Monitor:
		if op.Interval != 0 {
			return
		}
		switch {
		case done && (res.RC == agent.OK || res.RC == agent.RunningPromoted):
			if _, ok := h.started[rsc]; !ok {
				h.started[rsc] = maps.Clone(op.Instance.Params)
			}
		case done && (res.RC == agent.NotRunning || res.RC == agent.ErrInstalled || res.RC == agent.ErrConfigured):
			delete(h.started, rsc)
		}
	}
}

// StartedParams returns the parameters rsc runs with here (see started).
func (h *History) StartedParams(rsc string) (map[string]string, bool) {
	p, ok := h.started[rsc]
	return p, ok
}

// FailCount returns the resource's fail count and last failure time.
func (h *History) FailCount(rsc string) (int, time.Time) {
	return h.fails[rsc], h.lastFail[rsc]
}

// ClearFailures resets the fail count (operator cleanup, or
// failure-timeout expiry decided by the DC).
func (h *History) ClearFailures(rsc string) {
	delete(h.fails, rsc)
	delete(h.opFails, rsc)
	delete(h.lastFail, rsc)
}

// Forget drops everything known about a resource (it was deleted).
func (h *History) Forget(rsc string) {
	h.ClearFailures(rsc)
	delete(h.ops, rsc)
	delete(h.started, rsc)
}

// Status returns all resources sorted by id.
func (h *History) Status() []ResourceStatus {
	ids := map[string]bool{}
	for id := range h.ops {
		ids[id] = true
	}
	for id := range h.fails {
		ids[id] = true
	}
	var out []ResourceStatus
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		rs := ResourceStatus{Resource: id, Node: h.Node, FailCount: h.fails[id], LastFailure: h.lastFail[id],
			Failures: maps.Clone(h.opFails[id])}
		for _, r := range h.ops[id] {
			rs.Ops = append(rs.Ops, r)
		}
		rs.Role, rs.Failed = role(rs.Ops)
		slices.SortFunc(rs.Ops, func(a, b Record) int {
			if a.Action != b.Action {
				if a.Action < b.Action {
					return -1
				}
				return 1
			}
			return int(a.Interval - b.Interval)
		})
		out = append(out, rs)
	}
	return out
}
