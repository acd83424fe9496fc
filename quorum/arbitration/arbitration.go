// Package arbitration decides which partition of a split cluster a quorum
// device gives its votes to. It is the rule book shared by the arbiter node
// (package quorum/arbiter) and the quorum disk's master (package
// quorum/disk): a pure function of the nodes' reports, with no clock and no
// I/O.
//
// Every node that reaches the device reports its current view: view id,
// members, its heuristics score and whether its partition held the
// resources. Reports that name the same view and members form one
// partition. A partition is consistent when every reporting node it lists
// reports that same view; while some reports disagree the device waits
// (qnetd's ffsplit does the same), keeping its vote only with a holder that
// is still consistent.
//
// Ranking, best first: more node votes; then a higher heuristics score
// (the sum of its reporters' scores); then the side that held the
// resources; then the side with the tie-breaker node; then the side whose
// first member comes first in the configuration. The current holder keeps
// the vote unless a challenger has strictly more votes or, with equal
// votes, a strictly higher score, so a vote moves for a real reason (a
// larger partition, or ipfail: the holder lost connectivity) and not on a
// tie.
//
// Algorithms: ffsplit only considers partitions with at least half of the
// node votes; lms considers every partition (the last node standing that
// reaches the device keeps the cluster alive).
package arbitration

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"palisade/quorum"
)

// Node is one configured node and its votes.
type Node struct {
	Name  string
	Votes int
}

// Rules are one cluster's arbitration settings; every node of the cluster
// must send the same (Equal).
type Rules struct {
	Algorithm quorum.Algorithm
	// Nodes in configuration (id) order.
	Nodes []Node
	// TieBreaker names the node whose side wins a full tie; "" means the
	// first node.
	TieBreaker string
}

// Validate checks the rules.
func (r Rules) Validate() error {
	switch r.Algorithm {
	case quorum.AlgorithmFFSplit, quorum.AlgorithmLMS:
	default:
		return fmt.Errorf("algorithm %q: want ffsplit or lms", r.Algorithm)
	}
	if len(r.Nodes) == 0 {
		return fmt.Errorf("no nodes")
	}
	seen := map[string]bool{}
	total := 0
	for _, n := range r.Nodes {
		if n.Name == "" || seen[n.Name] {
			return fmt.Errorf("node name %q empty or repeated", n.Name)
		}
		if n.Votes < 0 {
			return fmt.Errorf("node %s: votes %d: want >= 0", n.Name, n.Votes)
		}
		seen[n.Name] = true
		total += n.Votes
	}
	if total == 0 {
		return fmt.Errorf("all nodes have 0 votes")
	}
	if r.TieBreaker != "" && !seen[r.TieBreaker] {
		return fmt.Errorf("tie-breaker %q is not a node", r.TieBreaker)
	}
	return nil
}

// Equal reports whether two nodes sent the same rules.
func (r Rules) Equal(o Rules) bool {
	return r.Algorithm == o.Algorithm && r.TieBreaker == o.TieBreaker && slices.Equal(r.Nodes, o.Nodes)
}

// Diff names the first difference between two rule sets, for the error an
// arbiter returns to a node whose configuration differs from its peers'.
func (r Rules) Diff(o Rules) string {
	switch {
	case r.Algorithm != o.Algorithm:
		return fmt.Sprintf("algorithm %s, the cluster uses %s", r.Algorithm, o.Algorithm)
	case r.TieBreaker != o.TieBreaker:
		return fmt.Sprintf("tie-breaker %q, the cluster uses %q", r.TieBreaker, o.TieBreaker)
	case !slices.Equal(r.Nodes, o.Nodes):
		return fmt.Sprintf("nodes %s, the cluster uses %s", nodesString(r.Nodes), nodesString(o.Nodes))
	}
	return ""
}

func nodesString(ns []Node) string {
	var b strings.Builder
	for i, n := range ns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n.Name + ":" + strconv.Itoa(n.Votes))
	}
	return b.String()
}

// TotalVotes is the sum of the node votes.
func (r Rules) TotalVotes() int {
	t := 0
	for _, n := range r.Nodes {
		t += n.Votes
	}
	return t
}

func (r Rules) tieBreaker() string {
	if r.TieBreaker != "" {
		return r.TieBreaker
	}
	return r.Nodes[0].Name
}

func (r Rules) index(name string) int {
	for i, n := range r.Nodes {
		if n.Name == name {
			return i
		}
	}
	return len(r.Nodes)
}

// Report is what one node says about its partition.
type Report struct {
	Node string
	// View identifies the node's agreed view; a new view gets a new id, so
	// a verdict for an old view never applies to a new one.
	View    uint64
	Members []string
	// Score is the node's heuristics score (ping groups).
	Score int
	// Held: the node's partition ran the cluster's resources before this
	// view (it was quorate).
	Held bool
}

// Key identifies a partition: a view id and its members.
type Key struct {
	View    uint64
	Members string // sorted, comma-separated
}

// KeyOf builds the key of a view.
func KeyOf(view uint64, members []string) Key {
	ms := slices.Clone(members)
	slices.Sort(ms)
	ms = slices.Compact(ms)
	return Key{View: view, Members: strings.Join(ms, ",")}
}

// IsZero reports whether k is the zero Key (no partition).
func (k Key) IsZero() bool { return k.View == 0 && k.Members == "" }

func (k Key) String() string { return "v" + strconv.FormatUint(k.View, 10) + " {" + k.Members + "}" }

// Partition is a group of reports naming the same view.
type Partition struct {
	Key
	Members    []string
	Reporters  []string
	Votes      int
	Score      int
	Held       bool
	Consistent bool
	// Eligible: consistent and allowed by the algorithm.
	Eligible bool
	// Note says why a partition is not consistent or not eligible.
	Note string
}

// Verdict is the decision.
type Verdict struct {
	// Winner is the partition that gets the device's votes; zero when none.
	Winner Key
	// Stable is false when some reports disagree: the caller should keep
	// waiting for the nodes to converge (Winner is then the holder if it
	// is still consistent, else zero).
	Stable bool
	// Why explains the verdict in a few words.
	Why string
	// Partitions are all the reported partitions, best first.
	Partitions []Partition
	// Ignored lists malformed reports (a node not in its own members, an
	// unknown node), with the reason.
	Ignored []string
}

// Decide picks the partition that gets the vote. holder is the partition
// that has it now (zero if none).
func Decide(r Rules, reports []Report, holder Key) Verdict {
	var v Verdict
	known := map[string]bool{}
	for _, n := range r.Nodes {
		known[n.Name] = true
	}
	byNode := map[string]Key{}
	groups := map[Key]*Partition{}
	var order []Key
	for _, rep := range reports {
		switch {
		case !known[rep.Node]:
			v.Ignored = append(v.Ignored, rep.Node+": not a node of the cluster")
			continue
		case !slices.Contains(rep.Members, rep.Node):
			v.Ignored = append(v.Ignored, rep.Node+": not a member of its own view")
			continue
		case byNode[rep.Node] != Key{}:
			v.Ignored = append(v.Ignored, rep.Node+": reported twice")
			continue
		}
		k := KeyOf(rep.View, rep.Members)
		byNode[rep.Node] = k
		p := groups[k]
		if p == nil {
			p = &Partition{Key: k, Members: strings.Split(k.Members, ",")}
			for _, m := range p.Members {
				if i := r.index(m); i < len(r.Nodes) {
					p.Votes += r.Nodes[i].Votes
				}
			}
			groups[k] = p
			order = append(order, k)
		}
		p.Reporters = append(p.Reporters, rep.Node)
		p.Score += rep.Score
		p.Held = p.Held || rep.Held
	}
	total := r.TotalVotes()
	v.Stable = true
	for _, k := range order {
		p := groups[k]
		p.Consistent = true
		for _, m := range p.Members {
			if mk, ok := byNode[m]; ok && mk != k {
				p.Consistent = false
				p.Note = m + " reports " + mk.String()
				break
			}
		}
		if !p.Consistent {
			v.Stable = false
			continue
		}
		switch {
		case r.Algorithm == quorum.AlgorithmFFSplit && 2*p.Votes < total:
			p.Note = fmt.Sprintf("ffsplit: %d of %d votes is less than half", p.Votes, total)
		case p.Votes == 0:
			p.Note = "no votes"
		default:
			p.Eligible = true
		}
	}
	var ps []Partition
	for _, k := range order {
		ps = append(ps, *groups[k])
	}
	tb := r.tieBreaker()
	slices.SortStableFunc(ps, func(a, b Partition) int {
		if a.Eligible != b.Eligible {
			return boolCmp(b.Eligible, a.Eligible)
		}
		c, _ := compare(r, tb, a, b)
		return c
	})
	v.Partitions = ps

	var cur *Partition
	for i := range ps {
		if !holder.IsZero() && ps[i].Key == holder && ps[i].Eligible {
			cur = &ps[i]
		}
	}
	if !v.Stable {
		if cur != nil {
			v.Winner, v.Why = cur.Key, "reports disagree; the holder keeps the vote while its own view is consistent"
		} else {
			v.Why = "reports disagree: waiting for the nodes to agree on their views"
		}
		return v
	}
	if len(ps) == 0 || !ps[0].Eligible {
		v.Why = "no eligible partition"
		if len(ps) > 0 && ps[0].Note != "" {
			v.Why += " (" + ps[0].Note + ")"
		}
		return v
	}
	best := &ps[0]
	if cur != nil && cur != best {
		if best.Votes > cur.Votes || best.Votes == cur.Votes && best.Score > cur.Score {
			_, why := compare(r, tb, *best, *cur)
			v.Winner, v.Why = best.Key, why+" than the holder"
			return v
		}
		v.Winner, v.Why = cur.Key, "the holder keeps the vote (no partition has more votes or a higher score)"
		return v
	}
	if cur != nil {
		v.Winner, v.Why = cur.Key, "the holder is the best partition"
		return v
	}
	if len(ps) > 1 && ps[1].Eligible {
		_, why := compare(r, tb, *best, ps[1])
		v.Winner, v.Why = best.Key, why
		return v
	}
	v.Winner, v.Why = best.Key, "the only eligible partition"
	return v
}

// compare orders a before b (negative) when a is the better partition, and
// says which criterion decided.
func compare(r Rules, tb string, a, b Partition) (int, string) {
	switch {
	case a.Votes != b.Votes:
		return b.Votes - a.Votes, "more votes"
	case a.Score != b.Score:
		return b.Score - a.Score, "higher heuristics score"
	case a.Held != b.Held:
		return boolCmp(b.Held, a.Held), "it held the resources"
	}
	at, bt := slices.Contains(a.Members, tb), slices.Contains(b.Members, tb)
	if at != bt {
		return boolCmp(bt, at), "it has the tie-breaker " + tb
	}
	ai, bi := r.index(a.Members[0]), r.index(b.Members[0])
	if ai != bi {
		return ai - bi, "its first node comes first in the configuration"
	}
	return strings.Compare(a.Members[0], b.Members[0]), "its first node's name sorts first"
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
