package transport

import (
	"bytes"
	"sync"
	"time"
)

// peer is what the receive path remembers about one configured node.
type peer struct {
	gen       uint64
	any       window   // every seq accepted from this generation
	perLink   []window // seq seen per link, to tell duplicates from replays
	lastHeard []time.Time
	// hb is the payload of the last heartbeat queued from generation
	// hbGen (see Config.CoalesceHeartbeats).
	hb    []byte
	hbGen uint64
}

// peerTable is shared by the per-link receive loops.
type peerTable struct {
	mu      sync.Mutex
	links   int
	winSize int
	peers   map[uint32]*peer
}

func newPeerTable(nodes []uint32, self uint32, links, winSize int) *peerTable {
	pt := &peerTable{links: links, winSize: winSize, peers: make(map[uint32]*peer)}
	for _, n := range nodes {
		if n != self {
			p := &peer{lastHeard: make([]time.Time, links)}
			pt.reset(p, 0)
			pt.peers[n] = p
		}
	}
	return pt
}

// reset starts a new generation: its sequence numbers begin again.
func (pt *peerTable) reset(p *peer, gen uint64) {
	p.gen = gen
	p.any = newWindow(pt.winSize)
	p.perLink = make([]window, pt.links)
	for i := range p.perLink {
		p.perLink[i] = newWindow(pt.winSize)
	}
}

// verdict is what to do with an authentic packet.
type verdict int

const (
	accept    verdict = iota // first copy: deliver
	duplicate                // already arrived on another link
	dropped                  // see the DropReason
	coalesced                // a heartbeat that says nothing new
	queued                   // first copy, handed to queue
)

// admit runs the generation and replay checks for an authentic packet
// from a known node and records the link's last-heard time for anything
// that is not a drop.
//
// A positive window makes the packet a heartbeat with payload hb to
// coalesce (Config.CoalesceHeartbeats): its first copy is coalesced
// unless it is the first heartbeat of the sender's generation, its
// payload differs from the last heartbeat accepted from the sender, or
// the sender was silent on every link for window or more.
//
// queue, if not nil, is called for a first copy that is not coalesced,
// under the table's lock: packets are queued in the order they were
// admitted, so the last heartbeat queued from a sender is always the one
// later heartbeats are compared with (two links' receive loops could
// otherwise queue an older heartbeat after a newer one, and the newer
// one, repeated, would be coalesced for good). queue reports whether
// there was room; if not, the packet is dropped (DropQueueFull) and the
// heartbeat forgotten, so that the next one is queued.
func (pt *peerTable) admit(node uint32, gen, seq uint64, link int, now time.Time, hb []byte, window time.Duration, queue func() bool) (verdict, DropReason) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	p := pt.peers[node]
	if p == nil {
		return dropped, DropUnknownNode
	}
	switch {
	case gen == 0 || seq == 0 || link < 0 || link >= pt.links:
		return dropped, DropMalformed // both count from 1
	case gen < p.gen:
		return dropped, DropOldGeneration
	case gen > p.gen:
		pt.reset(p, gen)
	}
	lw := &p.perLink[link]
	if lw.seen(seq) {
		// On this very link already (or too old): a replay, never a
		// sign of life.
		return dropped, DropReplay
	}
	if p.any.seen(seq) {
		if p.any.top-seq >= p.any.size() {
			return dropped, DropReplay
		}
		lw.mark(seq)
		p.lastHeard[link] = now
		return duplicate, 0
	}
	v := accept
	if window > 0 {
		if p.hbGen == gen && bytes.Equal(p.hb, hb) && now.Sub(pt.heard(p)) < window {
			v = coalesced
		} else {
			p.hbGen, p.hb = gen, append(p.hb[:0], hb...)
		}
	}
	p.any.mark(seq)
	lw.mark(seq)
	p.lastHeard[link] = now
	if v == accept && queue != nil {
		if !queue() {
			p.hbGen, p.hb = 0, p.hb[:0]
			return dropped, DropQueueFull
		}
		v = queued
	}
	return v, 0
}

// heard is when p was last heard on any link.
func (pt *peerTable) heard(p *peer) time.Time {
	var last time.Time
	for _, t := range p.lastHeard {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// appendHeard appends every (peer, link) heard at least once, in the
// order of nodes, then link.
func (pt *peerTable) appendHeard(dst []Heard, nodes []uint32, self uint32) []Heard {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	for _, n := range nodes {
		p := pt.peers[n]
		if n == self || p == nil {
			continue
		}
		for i, at := range p.lastHeard {
			if !at.IsZero() {
				dst = append(dst, Heard{Node: n, Link: i, Generation: p.gen, At: at})
			}
		}
	}
	return dst
}

func (pt *peerTable) snapshot(nodes []uint32, self uint32, linkNames []string) []PeerHeard {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	out := make([]PeerHeard, 0, len(pt.peers))
	for _, n := range nodes {
		p := pt.peers[n]
		if n == self || p == nil {
			continue
		}
		ph := PeerHeard{Node: n, Generation: p.gen, Links: make([]LinkHeard, len(linkNames))}
		for i, name := range linkNames {
			ph.Links[i] = LinkHeard{Link: name, At: p.lastHeard[i]}
		}
		out = append(out, ph)
	}
	return out
}
