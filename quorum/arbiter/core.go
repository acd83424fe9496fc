package arbiter

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"palisade/quorum/arbitration"
)

// ClientID names one client connection inside the server core.
type ClientID uint64

// Output is one thing the server edge must do: send Msg to a connection
// (and close it when Close is set), or log Note (To == 0).
type Output struct {
	To    ClientID
	Msg   Message
	Close bool
	Note  string
}

// CoreConfig configures the arbiter's decision core.
type CoreConfig struct {
	// Lease is how long an ack counts after the report it answers was
	// sent; clients must report more often than that to keep the vote.
	Lease time.Duration
	// Grace: after start, no ack is given for this long, so that acks a
	// previous instance gave have expired (the arbiter keeps no state).
	// 0 means Lease; a negative value means none (tests only).
	Grace time.Duration
	// ServerID identifies this arbiter instance (sent in Welcome).
	ServerID string
}

// Core is the arbiter's decision logic for any number of clusters: a pure
// state machine stepped by connection events and the clock, returning the
// messages to send. It keeps only soft state: after a restart clients
// reconnect and report again.
//
// Safety: at any moment at most one partition (view) of a cluster counts
// the arbiter's vote. A grant moves from one partition to another only
// after every node that may still count the old one has released it (a
// Release, a report of a new view) or its lease has run out, measured
// from the last ack the core sent it; a fresh core gives no ack during its
// grace period.
type Core struct {
	cfg      CoreConfig
	started  bool
	start    time.Duration
	graceEnd bool
	clients  map[ClientID]*client
	clusters map[string]*cluster
	pending  map[*cluster]bool // clusters waiting for a release or a lease to end
}

type client struct {
	id        ClientID
	cl        *cluster
	node      string
	report    *Report
	key       arbitration.Key
	lastHeard time.Duration
	// The grant this node may count, as far as the core knows: set by an
	// ack, cleared by a release or a report of another view.
	grant    uint64
	grantKey arbitration.Key
	ackSent  time.Duration
	// last verdict sent, to push only changes
	lastVerdict  string
	lastDecision uint64
	lastView     uint64
}

// counts reports whether the node may still count a grant at now.
func (c *client) counts(now, lease time.Duration) uint64 {
	if c.grant != 0 && c.key == c.grantKey && now < c.ackSent+lease {
		return c.grant
	}
	return 0
}

type ghost struct {
	node     string
	decision uint64
	until    time.Duration
}

type cluster struct {
	name     string
	rules    arbitration.Rules
	clients  map[string]*client
	ghosts   []ghost
	holder   arbitration.Key
	decision uint64
	lastID   uint64
	why      string
}

// NewCore returns an empty core.
func NewCore(cfg CoreConfig) *Core {
	if cfg.Grace == 0 {
		cfg.Grace = cfg.Lease
	}
	return &Core{cfg: cfg, clients: map[ClientID]*client{}, clusters: map[string]*cluster{}, pending: map[*cluster]bool{}}
}

func (s *Core) clock(now time.Duration) {
	if !s.started {
		s.started, s.start = true, now
	}
}

func (s *Core) inGrace(now time.Duration) bool { return s.cfg.Grace > 0 && now < s.start+s.cfg.Grace }

func refuse(id ClientID, format string, args ...any) []Output {
	msg := fmt.Sprintf(format, args...)
	return []Output{{To: id, Msg: &Error{Message: msg}, Close: true}, {Note: fmt.Sprintf("client %d refused: %s", id, msg)}}
}

// Hello opens a session for connection id. certCluster is the cluster
// name the client's TLS certificate was issued for (its CommonName): a
// client may only speak for that cluster.
func (s *Core) Hello(id ClientID, certCluster string, h *Hello, now time.Duration) []Output {
	s.clock(now)
	if _, ok := s.clients[id]; ok {
		out := refuse(id, "hello sent twice")
		return append(out, s.Disconnect(id, now)...)
	}
	if err := h.validate(); err != nil {
		return refuse(id, "bad hello: %v", err)
	}
	if h.Cluster != certCluster {
		return refuse(id, "certificate is for cluster %q, hello names cluster %q", certCluster, h.Cluster)
	}
	rules := h.Rules()
	cl := s.clusters[h.Cluster]
	if cl != nil && len(cl.clients) > 0 && !cl.rules.Equal(rules) {
		return refuse(id, "cluster %s: node %s sends %s; fix its quorum configuration", h.Cluster, h.Node, rules.Diff(cl.rules))
	}
	var out []Output
	if cl == nil {
		cl = &cluster{name: h.Cluster, clients: map[string]*client{}}
		s.clusters[h.Cluster] = cl
	}
	cl.rules = rules
	if old := cl.clients[h.Node]; old != nil {
		out = append(out, Output{To: old.id, Msg: &Error{Message: "replaced by a new connection from the same node"}, Close: true})
		out = append(out, s.drop(old, now)...)
	}
	c := &client{id: id, cl: cl, node: h.Node, lastHeard: now}
	s.clients[id] = c
	cl.clients[h.Node] = c
	grace := time.Duration(0)
	if s.inGrace(now) {
		grace = s.start + s.cfg.Grace - now
	}
	out = append(out, Output{To: id, Msg: &Welcome{Server: s.cfg.ServerID, LeaseMS: s.cfg.Lease.Milliseconds(), GraceMS: grace.Milliseconds()}})
	out = append(out, Output{Note: fmt.Sprintf("cluster %s: node %s connected (client %d)", cl.name, h.Node, id)})
	return out
}

// Report handles a node's report: it answers with the node's verdict and
// pushes changed verdicts to the other nodes of the cluster.
func (s *Core) Report(id ClientID, r *Report, now time.Duration) []Output {
	s.clock(now)
	c := s.clients[id]
	if c == nil {
		return refuse(id, "report before hello")
	}
	if err := r.validate(); err != nil {
		out := refuse(id, "bad report: %v", err)
		return append(out, s.Disconnect(id, now)...)
	}
	if c.report != nil && r.Seq <= c.report.Seq {
		out := refuse(id, "report seq %d after %d", r.Seq, c.report.Seq)
		return append(out, s.Disconnect(id, now)...)
	}
	c.report, c.key, c.lastHeard = r, arbitration.KeyOf(r.View, r.Members), now
	return s.evaluate(c.cl, now, c)
}

// Release handles a node's confirmation that it no longer counts a grant.
func (s *Core) Release(id ClientID, r *Release, now time.Duration) []Output {
	s.clock(now)
	c := s.clients[id]
	if c == nil {
		return refuse(id, "release before hello")
	}
	c.lastHeard = now
	if c.grant == r.Decision {
		c.grant = 0
	}
	return s.evaluate(c.cl, now, nil)
}

// Disconnect forgets connection id. If the node may still count a grant,
// the cluster remembers that until its lease ends.
func (s *Core) Disconnect(id ClientID, now time.Duration) []Output {
	s.clock(now)
	c := s.clients[id]
	if c == nil {
		return nil
	}
	out := s.drop(c, now)
	if s.clusters[c.cl.name] == c.cl {
		out = append(out, s.evaluate(c.cl, now, nil)...)
	}
	return out
}

func (s *Core) drop(c *client, now time.Duration) []Output {
	delete(s.clients, c.id)
	cl := c.cl
	if cl.clients[c.node] == c {
		delete(cl.clients, c.node)
	}
	if g := c.counts(now, s.cfg.Lease); g != 0 {
		cl.ghosts = append(cl.ghosts, ghost{node: c.node, decision: g, until: c.ackSent + s.cfg.Lease})
		s.pending[cl] = true
	}
	out := []Output{{Note: fmt.Sprintf("cluster %s: node %s disconnected (client %d)", cl.name, c.node, c.id)}}
	if len(cl.clients) == 0 && len(cl.ghosts) == 0 {
		delete(s.clusters, cl.name)
		delete(s.pending, cl)
	}
	return out
}

// Tick advances the clock: it closes connections silent for a lease,
// forgets expired grants and moves votes that were waiting for them.
func (s *Core) Tick(now time.Duration) []Output {
	s.clock(now)
	var out []Output
	var silent []*client
	for _, c := range s.clients {
		if now-c.lastHeard > s.cfg.Lease {
			silent = append(silent, c)
		}
	}
	// Deterministic order for tests and logs.
	sort.Slice(silent, func(i, j int) bool { return silent[i].id < silent[j].id })
	for _, c := range silent {
		out = append(out, Output{To: c.id, Msg: &Error{Message: fmt.Sprintf("no report for %s", now-c.lastHeard)}, Close: true})
		out = append(out, s.Disconnect(c.id, now)...)
	}
	var todo []*cluster
	if !s.graceEnd && !s.inGrace(now) {
		s.graceEnd = true
		for _, cl := range s.clusters {
			todo = append(todo, cl)
		}
	} else {
		for cl := range s.pending {
			todo = append(todo, cl)
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].name < todo[j].name })
	for _, cl := range todo {
		if s.clusters[cl.name] == cl {
			out = append(out, s.evaluate(cl, now, nil)...)
		} else {
			delete(s.pending, cl)
		}
	}
	return out
}

// blockers lists the nodes that may still count a grant other than the
// current one, pruning expired ghosts.
func (s *Core) blockers(cl *cluster, now time.Duration) []string {
	var b []string
	live := cl.ghosts[:0]
	for _, g := range cl.ghosts {
		if now < g.until {
			live = append(live, g)
			if cl.holder.IsZero() || g.decision != cl.decision {
				b = append(b, g.node)
			}
		}
	}
	cl.ghosts = live
	for _, c := range cl.clients {
		if g := c.counts(now, s.cfg.Lease); g != 0 && (cl.holder.IsZero() || g != cl.decision) {
			b = append(b, c.node)
		}
	}
	slices.Sort(b)
	return slices.Compact(b)
}

// evaluate decides the cluster's vote and returns the verdicts to send:
// every changed one, and always one for the reporting client.
func (s *Core) evaluate(cl *cluster, now time.Duration, reporter *client) []Output {
	var out []Output
	reports := make([]arbitration.Report, 0, len(cl.clients))
	for _, c := range cl.clients {
		if c.report != nil {
			reports = append(reports, arbitration.Report{Node: c.node, View: c.report.View, Members: c.report.Members, Score: c.report.Score, Held: c.report.Held})
		}
	}
	v := arbitration.Decide(cl.rules, reports, cl.holder)
	target, why := v.Winner, v.Why
	if s.inGrace(now) {
		target = arbitration.Key{}
		why = fmt.Sprintf("arbiter started %s ago: no vote until its grace period ends in %s", now-s.start, s.start+s.cfg.Grace-now)
	}
	waiting := ""
	if target != cl.holder {
		if !cl.holder.IsZero() {
			note := fmt.Sprintf("cluster %s: vote withdrawn from %s", cl.name, cl.holder)
			if !target.IsZero() {
				note += " for " + target.String()
			}
			out = append(out, Output{Note: note + ": " + why})
			cl.holder, cl.decision = arbitration.Key{}, 0
		}
		if b := s.blockers(cl, now); len(b) > 0 {
			waiting = "waiting for " + strings.Join(b, ", ") + " to give up the previous grant"
			s.pending[cl] = true
		} else if !target.IsZero() {
			cl.lastID++
			cl.holder, cl.decision = target, cl.lastID
			out = append(out, Output{Note: fmt.Sprintf("cluster %s: vote to %s, decision %d (%s)", cl.name, target, cl.decision, why)})
		}
	}
	if waiting == "" && len(cl.ghosts) == 0 {
		delete(s.pending, cl)
	}
	cl.why = why
	if waiting != "" {
		cl.why = waiting
	}
	// Verdicts, in node order for determinism.
	nodes := make([]string, 0, len(cl.clients))
	for n := range cl.clients {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		c := cl.clients[n]
		if c.report == nil {
			continue
		}
		vote := &Vote{Seq: c.report.Seq, View: c.report.View}
		switch {
		case !cl.holder.IsZero() && c.key == cl.holder:
			vote.Verdict, vote.Decision = VerdictAck, cl.decision
		case c.counts(now, s.cfg.Lease) != 0:
			vote.Verdict, vote.Decision = VerdictNack, c.grant
			vote.Reason = "give up the vote: " + why
		case waiting != "":
			vote.Verdict, vote.Reason = VerdictWait, waiting
		case !v.Stable || s.inGrace(now):
			vote.Verdict, vote.Reason = VerdictWait, why
		case cl.holder.IsZero():
			vote.Verdict, vote.Reason = VerdictNack, why
		default:
			vote.Verdict, vote.Reason = VerdictNack, "the vote is with "+cl.holder.String()+" ("+why+")"
		}
		changed := vote.Verdict != c.lastVerdict || vote.Decision != c.lastDecision || vote.View != c.lastView
		if c == reporter || changed {
			c.lastVerdict, c.lastDecision, c.lastView = vote.Verdict, vote.Decision, vote.View
			if vote.Verdict == VerdictAck {
				// Only an ack actually sent extends what the node may count.
				c.grant, c.grantKey, c.ackSent = vote.Decision, c.key, now
			}
			out = append(out, Output{To: c.id, Msg: vote})
		}
	}
	return out
}

// ClusterStatus is one cluster as the arbiter sees it (for its status
// output and tests).
type ClusterStatus struct {
	Name     string
	Holder   arbitration.Key
	Decision uint64
	Nodes    []string
	Why      string
}

// Clusters lists the clusters the core knows, by name.
func (s *Core) Clusters() []ClusterStatus {
	var out []ClusterStatus
	for _, cl := range s.clusters {
		st := ClusterStatus{Name: cl.name, Holder: cl.holder, Decision: cl.decision, Why: cl.why}
		for n := range cl.clients {
			st.Nodes = append(st.Nodes, n)
		}
		slices.Sort(st.Nodes)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
