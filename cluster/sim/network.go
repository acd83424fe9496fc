package sim

import (
	"time"

	"palisade/cluster/membership"
	"palisade/cluster/wire"
)

// packet is one datagram between two simulated nodes.
type packet struct {
	from, to int // node indexes
	link     int
	gen      uint64 // the sender's generation (authenticated in the real header)
	// heartbeat, or a reliable frame
	heartbeat bool
	advert    membership.Advert
	typ       wire.Type
	payload   []byte
}

// network is the simulated links: every (link, from, to) direction can be
// cut on its own, and loss, delay and duplication apply to all traffic
// while a fault sets them.
type network struct {
	w     *World
	links int
	// cut[link][from][to]: datagrams from → to on link are lost.
	cut   [][][]bool
	loss  float64
	dup   float64
	delay time.Duration // extra delay, uniform in [0, delay)
}

func newNetwork(w *World, nodes, links int) *network {
	n := &network{w: w, links: links}
	n.cut = make([][][]bool, links)
	for l := range links {
		n.cut[l] = make([][]bool, nodes)
		for i := range nodes {
			n.cut[l][i] = make([]bool, nodes)
		}
	}
	return n
}

// base one-way latency on a LAN, plus jitter (which also reorders).
const (
	baseLatency = 150 * time.Microsecond
	jitter      = 400 * time.Microsecond
)

func (n *network) send(p packet) {
	if n.cut[p.link][p.from][p.to] {
		return
	}
	w := n.w
	if n.loss > 0 && w.rng.Float64() < n.loss {
		return
	}
	copies := 1
	if n.dup > 0 && w.rng.Float64() < n.dup {
		copies = 2
	}
	for range copies {
		d := baseLatency + time.Duration(w.rng.Int64N(int64(jitter)))
		if n.delay > 0 {
			d += time.Duration(w.rng.Int64N(int64(n.delay)))
		}
		to := w.nodes[p.to]
		w.after(d, func() { to.receive(p) })
	}
}

// setCut cuts (or restores) both directions between a and b on every
// link, or one direction when oneWay (a → b only).
func (n *network) setCut(a, b int, down, oneWay bool) {
	for l := range n.links {
		n.cut[l][a][b] = down
		if !oneWay {
			n.cut[l][b][a] = down
		}
	}
	n.w.disturb(n.w.nodes[a].name)
	n.w.disturb(n.w.nodes[b].name)
}

// setLinkCut cuts one link of node a to everyone (a NIC or switch port
// failing), both directions.
func (n *network) setLinkCut(a, link int, down bool) {
	for b := range n.w.nodes {
		if b != a {
			n.cut[link][a][b] = down
			n.cut[link][b][a] = down
		}
	}
	n.w.disturb(n.w.nodes[a].name)
}

// partition splits the nodes into the given groups (indexes): traffic
// between groups is lost on every link.
func (n *network) partition(groups [][]int) {
	group := map[int]int{}
	for g, members := range groups {
		for _, m := range members {
			group[m] = g
		}
	}
	for a := range n.w.nodes {
		for b := range n.w.nodes {
			if a == b {
				continue
			}
			for l := range n.links {
				n.cut[l][a][b] = group[a] != group[b]
			}
		}
	}
	n.w.disturbAll()
}

func (n *network) healAll() {
	for l := range n.cut {
		for a := range n.cut[l] {
			clear(n.cut[l][a])
		}
	}
	n.loss, n.dup, n.delay = 0, 0, 0
}

// connected reports whether node a exchanges datagrams both ways with
// every running node on some link, with no loss or delay fault on.
func (n *network) connected(a int) bool {
	if n.loss > 0 || n.delay > 0 {
		return false
	}
	for b, o := range n.w.nodes {
		if b == a || !o.running() {
			continue
		}
		ok := false
		for l := range n.links {
			ok = ok || (!n.cut[l][a][b] && !n.cut[l][b][a])
		}
		if !ok {
			return false
		}
	}
	return true
}
