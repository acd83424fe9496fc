package recovery

import (
	"fmt"
	"slices"
	"strings"

	"palisade/cluster/eventlog"
)

// Violation is one breach of the one rule found in an event log.
type Violation struct {
	Entry  eventlog.Entry
	Reason string
}

func (v Violation) String() string {
	return fmt.Sprintf("at mono %d ns, %s by %s: %s", v.Entry.MonoNS, v.Entry.Event, v.Entry.Writer, v.Reason)
}

// Verify checks a merged, time-ordered event log (eventlog.ReadFiles) for
// breaches of the one rule, independently of the gate's own bookkeeping:
//
//   - a start of a resource (start_allowed, action_sent/action_result with
//     action "start") while a node that last ran it was lost or asked to be
//     fenced and not yet confirmed fenced (fence_confirmed), unless a stop
//     of it on that node succeeded since;
//   - (a node the gate un-blocked because it rejoined before any fence
//     request went out is no longer pending for that writer);
//   - a fence request written by a node whose last quorum_changed entry
//     said "inquorate" (an inquorate takeover is caught by the first check,
//     since the inquorate side logs its lost nodes too).
//
// It returns every violation (nil when the log is clean).
func Verify(es []eventlog.Entry) []Violation {
	// A lost node blocks starts decided by its writer; when the writer was
	// quorate it blocks everyone (an inquorate partition's view of who is
	// lost does not bind the quorate side, which still sees that node).
	type lost struct {
		resources []string
		quorate   bool
	}
	pending := map[string]map[string]*lost{} // writer → target → lost
	inquorate := map[string]bool{}
	// When each resource was last stopped on each node (its executor's
	// own result), and last sent or started there: a lost node is not
	// blocking a resource it stopped after its last start.
	type onNode struct{ node, rsc string }
	stopped, started := map[onNode]int64{}, map[onNode]int64{}
	// off: confirmed fenced and not started again since (a writer that
	// learns of the loss later, from the other side of a partition, logs
	// it after the confirmation).
	off := map[string]bool{}
	var out []Violation
	for _, e := range es {
		switch {
		case e.Event == eventlog.ActionResult && e.Action == "stop" && e.OK != nil && *e.OK,
			e.Event == eventlog.Probed && e.OK != nil && !*e.OK && e.Writer == e.Node:
			// Stopped there, or found not running there by a probe of
			// the node itself.
			stopped[onNode{e.Node, e.Resource}] = e.MonoNS
		case e.Event == eventlog.ActionSent && e.Action == "start",
			e.Event == eventlog.ActionResult && e.Action == "start" && e.OK != nil && *e.OK:
			// Sent or run there. An allowed start is not: the DC holds it
			// until every member acknowledged it as pending, and a node
			// that probed "not running" after it had nothing to stop.
			started[onNode{e.Node, e.Resource}] = e.MonoNS
		}
		switch e.Event {
		case eventlog.DaemonStarted:
			// A new incarnation: the old one's bookkeeping is gone with it.
			// It learns again from the replicated records and its own views
			// (startup fencing logs every node it cannot see).
			delete(pending, e.Writer)
			delete(inquorate, e.Writer)
			delete(off, e.Writer)
		case eventlog.QuorumChanged:
			inquorate[e.Writer] = strings.HasPrefix(e.Detail, "inquorate")
		case eventlog.NodeLost, eventlog.FenceNeeded:
			if off[e.Target] {
				break // already off: nothing of it runs
			}
			if pending[e.Writer] == nil {
				pending[e.Writer] = map[string]*lost{}
			}
			l := pending[e.Writer][e.Target]
			if l == nil {
				l = &lost{}
				pending[e.Writer][e.Target] = l
			}
			l.quorate = l.quorate || !inquorate[e.Writer]
			for _, r := range e.Resources {
				if k := (onNode{e.Target, r}); stopped[k] > started[k] {
					continue // it stopped there since it last started
				}
				if !slices.Contains(l.resources, r) {
					l.resources = append(l.resources, r)
				}
			}
		case eventlog.FenceConfirmed:
			for _, m := range pending {
				delete(m, e.Target)
			}
			off[e.Target] = true
		case eventlog.NodeReturned:
			// The gate un-blocks a node that rejoined before any fence
			// request went out (its resources never moved).
			if strings.HasPrefix(e.Detail, RejoinedDetail) {
				delete(pending[e.Writer], e.Target)
			}
		case eventlog.ActionResult, eventlog.Probed:
			if (e.Action == "stop" && e.OK != nil && *e.OK) || (e.Event == eventlog.Probed && e.OK != nil && !*e.OK && e.Writer == e.Node) {
				// Stopped there after all: no longer blocked by that node.
				for _, m := range pending {
					if l := m[e.Node]; l != nil {
						l.resources = slices.DeleteFunc(l.resources, func(r string) bool { return r == e.Resource })
					}
				}
			}
		case eventlog.FenceRequested:
			if inquorate[e.Writer] {
				out = append(out, Violation{e, "fence requested by an inquorate partition"})
			}
		}
		if !isStart(e) {
			continue
		}
		for w, m := range pending {
			for t, l := range m {
				if (w == e.Writer || l.quorate) && t != e.Node && slices.Contains(l.resources, e.Resource) {
					out = append(out, Violation{e, fmt.Sprintf("start of %s on %s while %s (which ran it, as %s logged) is not confirmed fenced", e.Resource, e.Node, t, w)})
				}
			}
		}
	}
	return out
}

func isStart(e eventlog.Entry) bool {
	switch e.Event {
	case eventlog.StartAllowed:
		return true
	case eventlog.ActionSent:
		return e.Action == "start"
	case eventlog.ActionResult:
		return e.Action == "start" && e.OK != nil && *e.OK
	}
	return false
}
