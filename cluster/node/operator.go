package node

import (
	"context"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/node/control"
)

// Heard is one observation of a peer on a link: a heartbeat, or any
// authentic packet (duplicates included) noticed since the last one.
type Heard struct {
	From       uint32
	Link       int
	Generation uint64
	At         time.Time
}

// OnHeard registers a callback for every observation of a peer on a link
// (metrics: heartbeat age and loss per link). Called on the loop
// goroutine: do not block.
func (n *Node) OnHeard(fn func(Heard)) {
	n.mu.Lock()
	n.onHeard = append(n.onHeard, fn)
	n.mu.Unlock()
}

func (n *Node) heard(from uint32, link int, gen uint64, at time.Time) {
	n.mu.Lock()
	fns := n.onHeard
	n.mu.Unlock()
	for _, fn := range fns {
		fn(Heard{From: from, Link: link, Generation: gen, At: at})
	}
}

// OnStatus registers a function that completes each status answer after
// the node and DC parts are filled (the crm_mon view joins them). Called
// on the control goroutine.
func (n *Node) OnStatus(fn func(*api.Status)) {
	n.mu.Lock()
	n.onStatus = append(n.onStatus, fn)
	n.mu.Unlock()
}

// SetAccess sets who may use the control socket besides root: the read
// group (read-only commands) and the admin group (every command), nil for
// none. Commands are classified by api.Commands. Call it before Run.
func (n *Node) SetAccess(readGID, adminGID *uint32) {
	n.mu.Lock()
	n.access.ReadGID, n.access.AdminGID = readGID, adminGID
	n.mu.Unlock()
}

func (n *Node) controlPolicy() control.Policy {
	n.mu.Lock()
	p := n.access
	n.mu.Unlock()
	p.Classify = func(cmd string) (change, by bool) {
		ci := api.AccessOf(cmd)
		return ci.Access == api.Change, ci.By
	}
	return p
}

// Ping returns once the loop goroutine ran an empty operation: the
// systemd watchdog's proof that the loop is not hung.
func (n *Node) Ping(ctx context.Context) error { return n.do(ctx, func() {}) }
