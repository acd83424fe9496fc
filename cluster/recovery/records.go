package recovery

import (
	"slices"
	"time"

	"palisade/cluster/eventlog"
)

// Record is one node's fence lifecycle as the DC replicates it: every
// member adopts the DC's records (with the CIB), persists them, and so a
// new DC — or this node after a restart — knows which nodes are unclean,
// which fences are out and which are confirmed.
//
// Lifecycle: member → unclean (lost, or a failed stop) → fencing (request
// out) → fenced (device verified OFF, or an operator confirmed) → member
// again when it rejoins (with a new generation after a reboot). An
// unclean node lost only by membership that rejoins before a request is
// out is a member again at once.
type Record struct {
	Node     string    `json:"node"`
	State    NodeState `json:"state"`
	Attempt  int       `json:"attempt,omitempty"`
	Failures int       `json:"failures,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	By       string    `json:"by,omitempty"`
	// Resources is what the node was last known to run when it became
	// unclean (for the log; recovery blocks on the live status).
	Resources []string `json:"resources,omitempty"`
	// Gen is the node's generation the record is about: a record of an
	// older incarnation never applies to a node that restarted since.
	Gen          uint64 `json:"gen,omitempty"`
	ByMembership bool   `json:"by_membership,omitempty"`
	// View is the view of the DC decision that last changed the record;
	// an older record never replaces a newer one.
	View uint64 `json:"view,omitempty"`
}

// Records exports the lifecycle of every node that is not simply a clean
// member, sorted by node, for the DC to replicate.
func (g *Gate) Records() []Record {
	var out []Record
	for _, n := range g.order {
		r := g.nodes[n]
		if r.state == StateMember || r.state == StateUnknown || r.state == StateDown {
			if r.view == 0 {
				continue
			}
		}
		gen := r.gen
		if r.state == StateFenced {
			gen = r.fencedGen
		}
		out = append(out, Record{Node: n, State: r.state, Attempt: r.attempt, Failures: r.failures, Reason: r.reason, By: r.by,
			Resources: slices.Clone(r.resources), Gen: gen, ByMembership: r.byMembership, View: r.view})
	}
	return out
}

// Adopt applies replicated records: a member takes its DC's (same view:
// newer=false), a new DC those of the previous one that other members
// report (newer=true: only records of a later view than its own). A gate
// that is active keeps its own decisions. Records about an older
// incarnation of a node are ignored, and a node lost only by membership
// that is a member here again is whole (as at a rejoin). Membership is
// otherwise reconciled at the next SetPartition.
func (g *Gate) Adopt(recs []Record, newer bool, now time.Duration) {
	if g.active() {
		return
	}
	for _, rec := range recs {
		r, ok := g.nodes[rec.Node]
		if !ok || rec.Node == g.cfg.Self || rec.View < r.view || (newer && rec.View == r.view) {
			continue // what others decided about this node is theirs to carry out
		}
		if rec.State == StateUnclean && rec.ByMembership && r.member {
			continue // lost there, but back here: nothing of it moved while it was unclean
		}
		if rec.State == StateFenced && r.member && (rec.Gen == 0 || rec.Gen != r.gen) {
			continue // the member here is a later incarnation than the one fenced
		}
		if rec.Gen != 0 && r.gen != 0 && rec.Gen < r.gen {
			continue
		}
		if r.state != rec.State {
			g.log(now, eventlog.Entry{Event: eventlog.FenceAdopted, Target: rec.Node, Attempt: rec.Attempt, By: rec.By,
				Detail: string(r.state) + " → " + string(rec.State) + " (replicated from the DC)"})
		}
		r.state, r.attempt, r.failures, r.reason, r.by = rec.State, max(r.attempt, rec.Attempt), rec.Failures, rec.Reason, rec.By
		r.resources, r.byMembership, r.view, r.mine, r.scheduled = slices.Clone(rec.Resources), rec.ByMembership, rec.View, false, false
		if rec.State == StateFenced {
			r.fencedGen = rec.Gen
		}
	}
}
