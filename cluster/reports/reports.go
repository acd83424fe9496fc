// Package reports is the DC's table of what each configured node said
// about itself in the current view (its status report, then the results
// of the actions it ran), merged with the replicated snapshot for the
// nodes that have not reported: the status the scheduler and the recovery
// gate decide on. Pure: no I/O, no clock (times are passed in). Not safe
// for concurrent use.
package reports

import (
	"maps"
	"slices"
	"sort"
	"time"

	"palisade/cluster/dcmsg"
	"palisade/resources/model"
)

// Node is what one node reported in the current view.
type Node struct {
	// Reported: the node sent its full status in this view (what runs
	// there is known from the node itself); Joined: it sent its replica
	// (an Unprobed report or a full one).
	Reported, Joined bool
	Resources        []model.ResourceStatus
	Failures         []model.Failure
	// Fatal lists resources an agent called "not configured" there.
	Fatal []string
	// Pending: starts the node reported running (decided by an earlier
	// DC): busy, and maybe active, until it reports their end.
	Pending []string
	// Attrs are the transient attributes the node reported (pingd).
	Attrs map[string]string
	// Alerted is the safety digest this node was last alerted for (kept
	// across views: one alert per node and digest).
	Alerted string
}

// Table holds a Node per configured node.
type Table struct {
	nodes []string
	by    map[string]*Node
}

// New returns a table of the configured nodes, none reported.
func New(nodes []string) *Table {
	t := &Table{nodes: nodes, by: map[string]*Node{}}
	for _, n := range nodes {
		t.by[n] = &Node{}
	}
	return t
}

// Node returns the entry of n (nil when n is not configured).
func (t *Table) Node(n string) *Node { return t.by[n] }

// Reset forgets every report: in a new view what any node runs is known
// again only from its own report (until then the replicated snapshot says
// what it last ran).
func (t *Table) Reset() {
	for _, ni := range t.by {
		*ni = Node{Alerted: ni.Alerted}
	}
}

// Report records a node's status report; false when the node is not
// configured. An Unprobed report (the node has not probed yet) only says
// the node joined.
func (t *Table) Report(st *dcmsg.NodeStatus) bool {
	ni := t.by[st.Node]
	if ni == nil {
		return false
	}
	ni.Joined = true
	if !st.Unprobed {
		ni.Reported, ni.Resources, ni.Failures, ni.Fatal, ni.Pending = true, st.Resources, st.Failures, st.Fatal, st.Pending
		ni.Attrs = st.Attributes
	}
	return true
}

// Answered drops a's resource from the starts its node reported pending:
// the action's result (or refusal) came.
func (t *Table) Answered(a dcmsg.Action) {
	ni := t.by[a.Node]
	ni.Pending = slices.DeleteFunc(ni.Pending, func(p string) bool { return p == a.Resource })
}

// Result records what an action's result says about its node: whether the
// resource is active there and with what (role, parameter digests), the
// fail count (the failed operation and its time, at wall, only with a
// failure: a later successful stop must not push failure-timeout back),
// and a fatal (not configured) failure.
func (t *Table) Result(a dcmsg.Action, r *dcmsg.ActionResult, wall time.Time) {
	ni := t.by[a.Node]
	var before model.ResourceStatus
	if i := slices.IndexFunc(ni.Resources, func(s model.ResourceStatus) bool { return s.Rsc == a.Resource }); i >= 0 {
		before = ni.Resources[i]
	}
	ni.Resources = slices.DeleteFunc(ni.Resources, func(s model.ResourceStatus) bool { return s.Rsc == a.Resource })
	if r.Active {
		rs := model.ResourceStatus{Rsc: a.Resource, Node: a.Node, Failed: r.Failed, Role: r.Role}
		// What it runs with: the result's record (start, reload), else
		// what it ran with before (promote, demote, a probe).
		before.Record().Apply(&rs)
		if r.Ran != nil {
			r.Ran.Apply(&rs)
		}
		ni.Resources = append(ni.Resources, rs)
	}
	if r.Fatal && !slices.Contains(ni.Fatal, a.Resource) {
		ni.Fatal = append(ni.Fatal, a.Resource)
	}
	prev := slices.IndexFunc(ni.Failures, func(f model.Failure) bool { return f.Rsc == a.Resource })
	switch {
	case r.FailCount <= 0:
		if prev >= 0 {
			ni.Failures = slices.Delete(ni.Failures, prev, prev+1)
		}
	case r.Failed || prev < 0:
		f := model.Failure{Rsc: a.Resource, Node: a.Node, Op: a.Op, Count: model.Score(r.FailCount), LastFailure: wall}
		if prev >= 0 {
			ni.Failures[prev] = f
		} else {
			ni.Failures = append(ni.Failures, f)
		}
	default:
		ni.Failures[prev].Count = model.Score(r.FailCount)
	}
}

// Off records that node is powered off: known to run nothing.
func (t *Table) Off(node string) {
	if ni := t.by[node]; ni != nil {
		ni.Reported, ni.Resources = true, nil
	}
}

// Resources is what runs where: each node's own report, else the
// snapshot's entries for it.
func (t *Table) Resources(snapshot []model.ResourceStatus) []model.ResourceStatus {
	return perNode(t, func(ni *Node) []model.ResourceStatus { return ni.Resources }, snapshot, func(r model.ResourceStatus) string { return r.Node })
}

// Failures is the fail counts, merged like Resources.
func (t *Table) Failures(snapshot []model.Failure) []model.Failure {
	return perNode(t, func(ni *Node) []model.Failure { return ni.Failures }, snapshot, func(f model.Failure) string { return f.Node })
}

// Pending is the starts reported running, merged like Resources
// (snapshot: the replica's pending starts of an earlier DC).
func (t *Table) Pending(snapshot []model.ResourceStatus) []model.ResourceStatus {
	var out []model.ResourceStatus
	for _, n := range t.nodes {
		if ni := t.by[n]; ni.Reported {
			for _, r := range ni.Pending {
				out = append(out, model.ResourceStatus{Rsc: r, Node: n})
			}
			continue
		}
		for _, r := range snapshot {
			if r.Node == n {
				out = append(out, r)
			}
		}
	}
	return out
}

// perNode merges per configured node: what a node reported itself in this
// view, else the last replicated snapshot's entries for it (a node that
// has not answered yet, or is lost).
func perNode[T any](t *Table, reported func(*Node) []T, snapshot []T, node func(T) string) []T {
	var out []T
	for _, n := range t.nodes {
		if ni := t.by[n]; ni.Reported {
			out = append(out, reported(ni)...)
			continue
		}
		for _, e := range snapshot {
			if node(e) == n {
				out = append(out, e)
			}
		}
	}
	return out
}

// Attributes is what node n reported in this view (nil for a node that
// did not report: its transient attributes are unknown).
func (t *Table) Attributes(n string) map[string]string {
	if ni := t.by[n]; ni != nil && ni.Reported && len(ni.Attrs) > 0 {
		return maps.Clone(ni.Attrs)
	}
	return nil
}

// fatal lists the resources reported "not configured" anywhere: by a node
// in this view, or in the snapshot for a node that has not reported.
func (t *Table) fatal(snapshot []model.Failure) []string {
	var out []string
	for _, n := range t.nodes {
		for _, r := range t.by[n].Fatal {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	for _, f := range snapshot {
		if ni := t.by[f.Node]; f.Op == "not-configured" && !slices.Contains(out, f.Rsc) && ni != nil && !ni.Reported {
			out = append(out, f.Rsc)
		}
	}
	slices.Sort(out)
	return out
}

// Status is the cluster status to schedule with: resources and failures
// merged with the snapshot, every configured node's state (state gives
// name, state and standby; the reported attributes are added), and a
// cluster-wide ban of every resource an agent called "not configured" (rc
// 6) on any node (Pacemaker's rule) until it is cleaned up.
func (t *Table) Status(snapshot model.Status, noQuorum bool, state func(n string) model.NodeState) model.Status {
	st := model.Status{NoQuorum: noQuorum, Resources: t.Resources(snapshot.Resources), Failures: t.Failures(snapshot.Failures)}
	for _, n := range t.nodes {
		ns := state(n)
		ns.Attributes = t.Attributes(n)
		st.Nodes = append(st.Nodes, ns)
	}
	for _, rsc := range t.fatal(snapshot.Failures) {
		for _, n := range t.nodes {
			if !slices.ContainsFunc(st.Failures, func(f model.Failure) bool { return f.Rsc == rsc && f.Node == n && f.Count >= model.Infinity }) {
				st.Failures = append(st.Failures, model.Failure{Rsc: rsc, Node: n, Op: "not-configured", Count: model.Infinity})
			}
		}
	}
	sort.SliceStable(st.Resources, func(i, j int) bool { return st.Resources[i].Rsc < st.Resources[j].Rsc })
	sort.SliceStable(st.Failures, func(i, j int) bool {
		if st.Failures[i].Rsc != st.Failures[j].Rsc {
			return st.Failures[i].Rsc < st.Failures[j].Rsc
		}
		return st.Failures[i].Node < st.Failures[j].Node
	})
	return st
}
