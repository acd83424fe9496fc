package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"palisade/cluster/engine"
	"palisade/cluster/membership"
	"palisade/cluster/recovery"
)

// Rules, as reported in Violation.Rule.
const (
	RuleDisjointQuorum = "two disjoint quorate partitions"
	RuleFenceAuthority = "fence outside an agreed quorate view"
	RuleHealthyFenced  = "healthy member fenced"
	RuleDoubleOwner    = "resource active on two powered-on nodes"
	RuleLog            = "event log (recovery.Verify)"
	RuleLiveness       = "no convergence within the settle bound"
)

// checkQuorum: two nodes that both act as quorate must share a member
// (majority quorum); a two-node cluster gives each half quorum on purpose
// and relies on the fence race, so it is not checked there.
func (w *World) checkQuorum(n *node) {
	if len(w.nodes) == 2 && w.dev == nil || !n.running() {
		return
	}
	c := n.eng.Coordinator()
	if !c.QuorateAt(w.now) {
		return
	}
	mine := c.Members()
	for _, o := range w.nodes {
		if o == n || !o.running() {
			continue
		}
		oc := o.eng.Coordinator()
		if !oc.QuorateAt(w.now) {
			continue
		}
		theirs := oc.Members()
		if !slices.ContainsFunc(mine, func(m string) bool { return slices.Contains(theirs, m) }) {
			w.violate(n.name, RuleDisjointQuorum, "%s quorate with %v, %s quorate with %v", n.name, mine, o.name, theirs)
		}
	}
}

// checkFenceRequest: a fence is decided only by the DC of an agreed quorate
// view, and executed for the DC only by a member of one. Agreement is
// judged from the nodes' membership states (every live member held the
// same member set within the last message delay), not from what the
// engine under test believes.
func (w *World) checkFenceRequest(n *node, f engine.FenceExec, when string) {
	v := n.mem.View()
	why := w.agreedQuorate(n, v)
	if why == "" && f.For == n.name && v.DC != n.id {
		why = "it is not the lowest member (DC) of its view"
	}
	if why != "" {
		w.violate(n.name, RuleFenceAuthority, "fence of %s (for %s) %s by %s: %s", f.Target, f.For, when, n.name, why)
	}
}

// agreedQuorate says why n's view v is not an agreed quorate view ("" if
// it is).
func (w *World) agreedQuorate(n *node, v membership.View) string {
	switch {
	case w.dev != nil:
		// A quorum device may make a minority (lms) or a half (ffsplit)
		// quorate: it must vote for this very view, as the device sees it
		// (a fence in flight may be carried out one engine tick after the
		// lease ended: the engine withdraws it at its next step).
		needed := (len(w.nodes)+w.dev.votes)/2 + 1
		if len(v.Members) < needed {
			var names []string
			for _, m := range v.Members {
				names = append(names, nodeName(m.ID))
			}
			slices.Sort(names)
			if len(v.Members)+w.dev.votes < needed || !w.dev.votingFor(n, v.ID, names, engineTick+10*time.Millisecond) {
				return fmt.Sprintf("its view has %d of %d nodes (%d votes needed) and the quorum device (%d votes) does not vote for it", len(v.Members), len(w.nodes), needed, w.dev.votes)
			}
		}
	case len(w.nodes) != 2 && 2*len(v.Members) <= len(w.nodes):
		return fmt.Sprintf("its view has %d of %d nodes", len(v.Members), len(w.nodes))
	}
	k := membersKey(v)
	grace := 10*time.Millisecond + w.net.delay
	for _, m := range v.Members {
		o := w.nodes[m.ID-1]
		if o == n || !o.alive || o.mem == nil {
			continue // a dead member holds no view; a paused one keeps its last
		}
		// A member that has only added nodes to the view since (a node
		// joined on its side of a cut that has not reached us yet) has
		// excluded nobody: it cannot act on a view without us before it
		// declares us dead, a whole deadtime after it last heard us, by
		// when we have stopped acting (the lease of half a deadtime).
		if !o.heldView(k, w.now-grace) && !o.heldSupersets(v, w.now-staleAfter) {
			return fmt.Sprintf("member %s does not hold that view (%s vs %s)", o.name, membersKey(o.mem.View()), k)
		}
	}
	return ""
}

// checkHealthyTarget: a node fenced because membership lost it must not
// have been a healthy member: running, and undisturbed (no network fault
// on its links, no pause, no restart) for long enough that its peers
// could not have lost it. Fences for a failed stop or monitor, and an
// operator's, are exempt.
func (w *World) checkHealthyTarget(n *node, f engine.FenceExec) {
	if !strings.HasPrefix(f.Reason, "node lost") && !strings.HasPrefix(f.Reason, "not seen at start-up") {
		return
	}
	t := w.Node(f.Target)
	window := Deadtime + 2*Keepalive + 100*time.Millisecond
	if t.running() && w.net.connected(t.idx) && w.now-w.lastDisturb[t.name] > window {
		w.violate(n.name, RuleHealthyFenced, "%s fences %s (%s) although it has run undisturbed for %v", n.name, f.Target, f.Reason, w.now-w.lastDisturb[t.name])
	}
}

// checkSingleOwner runs whenever a resource becomes active somewhere.
func (w *World) checkSingleOwner(rsc string) {
	var on []string
	for _, n := range sortedKeys(w.active[rsc]) {
		if w.active[rsc][n] && w.Node(n).powered {
			on = append(on, n)
		}
	}
	if len(on) > 1 {
		w.violate(on[0], RuleDoubleOwner, "%s active on %v", rsc, on)
	}
}

// checkLog runs recovery.Verify over the merged event log.
func (w *World) checkLog() {
	for _, v := range recovery.Verify(w.log) {
		w.violate(v.Entry.Writer, RuleLog, "%s", v.String())
	}
}

// checkConverged is the liveness check at the end of the settle time:
// every node runs in one agreed view of all, the DC has nothing unclean,
// pending or in flight, and every resource runs on exactly one node.
func (w *World) checkConverged() {
	var problems []string
	var views []string
	for _, n := range w.nodes {
		if !n.running() {
			problems = append(problems, n.name+" is not running")
			continue
		}
		c := n.eng.Coordinator()
		views = append(views, fmt.Sprintf("%s:%d/%v/%v", n.name, c.View(), c.Acting(), c.Members()))
		if !c.Acting() || len(c.Members()) != len(w.nodes) {
			problems = append(problems, fmt.Sprintf("%s is in view %d (agreed=%v) with %v", n.name, c.View(), c.Acting(), c.Members()))
		}
	}
	if d := w.dc(); d == nil {
		problems = append(problems, "no quorate DC")
	} else {
		c := d.eng.Coordinator()
		for _, st := range c.Gate().Status() {
			if st.State == recovery.StateUnclean || st.State == recovery.StateFencing {
				problems = append(problems, fmt.Sprintf("%s still %s on the DC %s", st.Node, st.State, d.name))
			}
		}
		if c.Rebuilding() || c.Busy() {
			problems = append(problems, fmt.Sprintf("the DC %s is still busy (rebuilding=%v waiting for %v; %+v)", d.name, c.Rebuilding(), c.Waiting(), c.Inflight()))
		}
	}
	for _, rsc := range sortedKeys(w.active) {
		var on []string
		for _, n := range sortedKeys(w.active[rsc]) {
			if w.active[rsc][n] {
				on = append(on, n)
			}
		}
		if len(on) != 1 {
			problems = append(problems, fmt.Sprintf("%s runs on %v", rsc, on))
		}
	}
	if len(problems) > 0 {
		w.violate("", RuleLiveness, "%v after the last fault: %s (views %s)", w.opts.Settle, strings.Join(problems, "; "), strings.Join(views, " "))
	}
}
