// Package membership is the pure membership state machine of a Palisade
// node: it decides, from received heartbeats and a logical clock, which peers
// are alive over which links and which membership view this node is in.
//
// It follows the shape of go.etcd.io/raft: no goroutines, no sockets and no
// wall clock. The caller owns the clock (any monotonic time.Duration since an
// arbitrary origin) and drives the machine:
//
//	m, err := membership.New(membership.Config{Self: 1, Generation: gen,
//		Nodes: []membership.NodeID{1, 2, 3}, Links: 2, Timing: timing, Start: now})
//	...
//	m.Step(membership.Heartbeat{From: 2, Link: 0, Generation: g, At: now, Advert: adv})
//	m.Tick(now)                 // at the deadline below (or on any period)
//	for _, ev := range m.Ready() { ... log / act ... }
//	adv := m.Advert()           // put into every heartbeat this node sends
//	at, ok := m.NextDeadline()  // when Tick next changes something, if ever
//
// A driver sleeps until NextDeadline rather than ticking on a short period:
// a Tick before it changes nothing, a Tick at it reports the transition
// (warn, dead, initdead). Steps are cheap in steady state: a heartbeat from
// a live peer on a live link that repeats its advert, and a clock that
// passes no deadline, change no state and skip the full re-evaluation.
//
// Semantics follow Linux-HA Heartbeat's ha.cf: a peer (and each of its links)
// is "warn" after warntime without a heartbeat and "dead" after deadtime; a
// peer never heard since start-up stays "pending" until initdead has elapsed.
// A peer is alive (up or warn) while any of its links is. A heartbeat with a
// higher generation than known means the peer restarted: it is reported and
// the view changes even if the peer never looked dead.
//
// Views: the view is this node plus every live peer, each with its
// generation. The first view forms when every configured peer has been heard
// or initdead has elapsed, so a booting node never believes it is alone
// before initdead. On every change the view id becomes one more than the
// highest id seen locally or advertised by any peer; a node that hears a
// member advertise the same member set under a higher id adopts that id, so
// members converge on one id. View.Agreed reports that every member
// advertises exactly this view. The DC is the lowest node id in the view
// (quorum is decided by a later stage; here every node has one vote).
package membership
