package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbiter"
	"palisade/quorum/arbitration"
	"palisade/quorum/disk"
)

// Quorum devices in the simulator. A seed may give the cluster (of any
// size; two nodes then run without two_node) a quorum device:
//
//   - a palisade-arbiter: the production decision core (quorum/arbiter
//     Core) at a third site, reached by each node's production session
//     core (arbiter.Session) over simulated TCP connections: in order,
//     with latency; a cut path loses everything silently (both ends time
//     out), a crashed arbiter resets its connections and comes back with
//     no state (its grace period protects the grants it gave);
//   - a quorum disk: one or three shared in-memory disks, the production
//     disk core (quorum/disk Core) stepped by every node every loop, and
//     each machine's watchdog, fed only when the disk core allows it and
//     the daemon runs (a crashed or paused daemon, a node whose disks are
//     gone without quorum, a node that read a poison pill: the machine
//     resets when the watchdog fires, or at once for a pill).
//
// Faults (from their own random stream, so seeds without a device run
// exactly as before): the arbiter crashes and restarts, a node's path to
// the arbiter or to a disk is cut (or a disk becomes read-only for it),
// the arbiter's network is slow. Everything heals with the rest.
//
// The device's verdict reaches the node's engine as the daemon's wiring
// does it (cmd/palisaded/quorumdev.go): labelled with the view the device
// was told, with the lease end, and before any release reaches the
// device.

// Simulated device timing, scaled like the rest of the simulator.
const (
	arbLease       = 2 * time.Second
	arbInterval    = 500 * time.Millisecond
	arbConnTimeout = time.Second
	arbTick        = 100 * time.Millisecond
	arbLatency     = 300 * time.Microsecond
)

// diskTimeouts satisfy disk.CheckTiming for the simulator's deadtime.
var diskTimeouts = disk.Timeouts{Watchdog: 300 * time.Millisecond, MsgWait: 700 * time.Millisecond, Loop: 50 * time.Millisecond,
	IO: 50 * time.Millisecond, DeadAfter: 200 * time.Millisecond}

type simDevice struct {
	w     *World
	model quorum.DeviceModel
	alg   quorum.Algorithm
	votes int
	evict bool
	rng   *rand.Rand
	// busy: one device fault at a time.
	busy bool

	// arbiter
	arb      *arbiter.Core
	arbUp    bool
	arbRuns  int
	slow     time.Duration // extra latency on the arbiter's network
	arbCut   map[int]bool  // node index → its path to the arbiter is cut
	nextConn arbiter.ClientID
	conns    map[arbiter.ClientID]*arbConn

	// disk
	hdr   disk.Header
	disks []*disk.MemDisk
	paths [][]*disk.MemPath // [node][disk]: the machine's paths
	// the machines' watchdogs
	wdArmed map[int]bool
	wdFed   map[int]time.Duration
}

// arbConn is one TCP connection between a node's daemon and the arbiter.
type arbConn struct {
	id    arbiter.ClientID
	n     *node
	epoch int
	// reset: the arbiter is gone (its sends and ours fail at once);
	// lost: the path was cut (everything is silently lost).
	reset, lost bool
	// in-order delivery: the last arrival time each way
	toArb, toNode time.Duration
	established   bool
	lastVerdict   time.Duration
}

// nodeDevice is a daemon's side of the device (one per process).
type nodeDevice struct {
	// what the device was told: the engine's last agreed view
	told     bool
	view     uint64
	members  []string
	held     bool
	quorate  bool
	lastVote quorum.ViewVote

	// arbiter
	sess    *arbiter.Session
	conn    *arbConn
	dialing bool
	retryAt time.Duration

	// disk
	core *disk.Core
	last disk.Ready
	// validUntil is when the device's vote for the told view stops
	// counting, as the device edge (not the engine) sees it.
	validUntil time.Duration
}

// chooseDevice picks the seed's device from a stream of its own.
func chooseDevice(opts *Options) *rand.Rand {
	rng := rand.New(rand.NewPCG(opts.Seed^0xd3b1ce, opts.Seed+0x51))
	k := rng.IntN(4)
	if opts.Device == "" && opts.Script != nil {
		opts.Device = "none" // scripted scenarios say what they test
	}
	if opts.Device == "" {
		switch k {
		case 0:
			opts.Device = quorum.DeviceArbiter
		case 1:
			opts.Device = quorum.DeviceDisk
		default:
			opts.Device = "none"
		}
	}
	return rng
}

func newSimDevice(w *World, rng *rand.Rand) *simDevice {
	d := &simDevice{w: w, model: w.opts.Device, rng: rng, arbCut: map[int]bool{}, conns: map[arbiter.ClientID]*arbConn{},
		wdArmed: map[int]bool{}, wdFed: map[int]time.Duration{}}
	d.alg = []quorum.Algorithm{quorum.AlgorithmFFSplit, quorum.AlgorithmLMS}[rng.IntN(2)]
	d.evict = rng.IntN(2) == 0
	votes := map[string]int{}
	for i := range w.opts.Nodes {
		votes[fmt.Sprintf("n%d", i+1)] = 1
	}
	q, err := quorum.New(quorum.Config{Nodes: votes, Device: quorum.Device{Model: d.model, Algorithm: d.alg}})
	if err != nil {
		panic(err)
	}
	d.votes = q.DeviceVotes()
	switch d.model {
	case quorum.DeviceArbiter:
		d.startArbiter()
	case quorum.DeviceDisk:
		n := []int{1, 3}[rng.IntN(2)]
		d.hdr = disk.Header{SectorSize: 512, Slots: 8, Cluster: "sim", Timeouts: diskTimeouts}
		var devs []*disk.Device
		for k := range n {
			md := disk.NewMemDisk(int(d.hdr.Size()))
			d.disks = append(d.disks, md)
			devs = append(devs, &disk.Device{IO: md.Path(), Name: fmt.Sprintf("disk%d", k)})
		}
		var names []string
		for i := range w.opts.Nodes {
			names = append(names, fmt.Sprintf("n%d", i+1))
			var ps []*disk.MemPath
			for _, md := range d.disks {
				ps = append(ps, md.Path())
			}
			d.paths = append(d.paths, ps)
		}
		d.hdr.Created = w.wall()
		if err := disk.Create(devs, d.hdr, names); err != nil {
			panic(err)
		}
	}
	return d
}

func (d *simDevice) String() string {
	s := fmt.Sprintf("%s %s, %d votes", d.model, d.alg, d.votes)
	if d.model == quorum.DeviceDisk {
		s += fmt.Sprintf(", %d disks, evict=%v", len(d.disks), d.evict)
	}
	return s
}

func (d *simDevice) rules() arbitration.Rules {
	r := arbitration.Rules{Algorithm: d.alg}
	for _, n := range d.w.nodes {
		r.Nodes = append(r.Nodes, arbitration.Node{Name: n.name, Votes: 1})
	}
	return r
}

// quorumConfig is the quorum section the nodes run with.
func (d *simDevice) quorumConfig(votes map[string]int) quorum.Config {
	return quorum.Config{Nodes: votes, Device: quorum.Device{Model: d.model, Algorithm: d.alg}}
}

// start runs the daemon's side of the device in a new process of n.
func (d *simDevice) start(n *node) {
	nd := &nodeDevice{}
	n.dev = nd
	switch d.model {
	case quorum.DeviceArbiter:
		nd.sess = arbiter.NewSession(arbLease)
		n.every(arbInterval, func() { d.arbTickNode(n) })
		n.later(0, func() { d.dial(n) })
	case quorum.DeviceDisk:
		var devs []*disk.Device
		for k, p := range d.paths[n.idx] {
			devs = append(devs, &disk.Device{IO: p, Name: fmt.Sprintf("disk%d", k)})
		}
		core, err := disk.NewCore(disk.Config{Self: n.name, Nodes: d.rules().Nodes, Algorithm: d.alg, DeviceVotes: d.votes, Evict: d.evict,
			Incarnation: uint64(n.idx)<<32 | n.gen,
			BeforeRelease: func(v quorum.DeviceVote) {
				// The slot about to be written releases the grant: the
				// engine stops counting it first (as the daemon does).
				d.toEngine(n, v, 0)
			}}, devs)
		if err != nil {
			panic(err)
		}
		nd.core = core
		n.every(diskTimeouts.Loop, func() { d.diskStep(n) })
	}
}

// stop: the process died (crash: the machine runs on) or the machine
// went off.
func (d *simDevice) stop(n *node) {
	nd := n.dev
	n.dev = nil
	if nd != nil && nd.conn != nil {
		c := nd.conn
		nd.conn = nil
		if n.powered && !c.lost && !c.reset && !d.arbCut[n.idx] && d.arbUp {
			// A killed process: its kernel closes the connection, after
			// whatever it had sent.
			runs := d.arbRuns
			d.w.At(max(d.w.now+d.latency(), c.toArb), func() {
				if d.arbUp && d.arbRuns == runs && d.conns[c.id] == c {
					delete(d.conns, c.id)
					d.route(d.arb.Disconnect(c.id, d.w.now))
				}
			})
		}
		c.lost = true // nothing more reaches the dead process
	}
	if !n.powered {
		d.wdArmed[n.idx] = false
	}
}

// sync tells the device about the engine's agreed view (and its quorum,
// score and held flag), as the daemon's wiring does after every step.
func (d *simDevice) sync(n *node) {
	nd := n.dev
	c := n.eng.Coordinator()
	if nd == nil || !c.Agreed() || c.View() == 0 {
		return
	}
	view, members, held, quorate := c.View(), c.Members(), n.eng.Runs(), c.Quorum().ViewQuorate
	if nd.told && nd.view == view && slices.Equal(nd.members, members) && nd.held == held && nd.quorate == quorate {
		return
	}
	newView := !nd.told || nd.view != view || !slices.Equal(nd.members, members)
	nd.told, nd.view, nd.members, nd.held, nd.quorate = true, view, members, held, quorate
	switch d.model {
	case quorum.DeviceArbiter:
		if nd.sess.SetView(nd.view, nd.members, 0, held, d.w.now) {
			d.report(n)
		}
		d.push(n)
	case quorum.DeviceDisk:
		if newView {
			// The runner steps at once on a new view.
			n.later(0, func() { d.diskStep(n) })
		}
	}
}

// toEngine hands a verdict about the told view to the engine.
func (d *simDevice) toEngine(n *node, v quorum.DeviceVote, until time.Duration) {
	nd := n.dev
	if nd == nil || !nd.told || n.eng == nil {
		return
	}
	dv := quorum.ViewVote{View: nd.view, Members: nd.members, DeviceVote: v}
	if v.Voting {
		dv.Until = until
		nd.validUntil = until
	} else {
		nd.validUntil = 0
	}
	if dv.View == nd.lastVote.View && dv.DeviceVote == nd.lastVote.DeviceVote && dv.Until == nd.lastVote.Until {
		return
	}
	nd.lastVote = dv
	n.eng.SetDeviceVote(dv, d.w.now)
}

// votingFor reports whether the device votes for node n's view v now (or
// until grace ago), as the device's edge sees it.
func (d *simDevice) votingFor(n *node, view uint64, members []string, grace time.Duration) bool {
	nd := n.dev
	return nd != nil && nd.told && nd.view == view && slices.Equal(nd.members, members) && nd.validUntil > d.w.now-grace
}

// ---- arbiter ----

func (d *simDevice) startArbiter() {
	d.arbRuns++
	d.arb = arbiter.NewCore(arbiter.CoreConfig{Lease: arbLease, ServerID: fmt.Sprintf("arbiter-%d", d.arbRuns)})
	d.arbUp = true
	runs := d.arbRuns
	var tick func()
	tick = func() {
		if !d.arbUp || d.arbRuns != runs {
			return
		}
		d.route(d.arb.Tick(d.w.now))
		d.w.after(arbTick, tick)
	}
	d.w.after(arbTick, tick)
}

func (d *simDevice) crashArbiter() {
	d.w.trace("device: arbiter crashes")
	d.arbUp, d.arb = false, nil
	for id, c := range d.conns {
		c.reset = true
		delete(d.conns, id)
	}
}

func (d *simDevice) latency() time.Duration {
	l := arbLatency + time.Duration(d.rng.Int64N(int64(arbLatency)))
	if d.slow > 0 {
		l += time.Duration(d.rng.Int64N(int64(d.slow)))
	}
	return l
}

// toArbiter delivers a message from a node's connection to the arbiter
// (in order); f runs there and returns the arbiter's outputs.
func (d *simDevice) toArbiter(c *arbConn, f func() []arbiter.Output) {
	if c.lost || c.reset || d.arbCut[c.n.idx] {
		c.lost = c.lost || d.arbCut[c.n.idx]
		return
	}
	at := max(d.w.now+d.latency(), c.toArb)
	c.toArb = at
	runs := d.arbRuns
	d.w.At(at, func() {
		if c.lost || c.reset || !d.arbUp || d.arbRuns != runs {
			return
		}
		d.route(f())
	})
}

// route performs the arbiter's outputs.
func (d *simDevice) route(outs []arbiter.Output) {
	for _, o := range outs {
		if o.To == 0 {
			d.w.trace("arbiter: %s", o.Note)
			continue
		}
		c := d.conns[o.To]
		if c == nil {
			continue
		}
		msg, closing := o.Msg, o.Close
		if closing {
			delete(d.conns, o.To)
		}
		d.toNode(c, func() { d.onMessage(c, msg, closing) })
	}
}

// toNode delivers to the node's process (held while it is paused).
func (d *simDevice) toNode(c *arbConn, f func()) {
	if c.lost || d.arbCut[c.n.idx] {
		c.lost = true
		return
	}
	at := max(d.w.now+d.latency(), c.toNode)
	c.toNode = at
	n, epoch := c.n, c.epoch
	d.w.At(at, func() {
		if c.lost || n.epoch != epoch || !n.alive {
			return
		}
		if n.paused {
			n.deferred = append(n.deferred, f)
			return
		}
		f()
	})
}

func (d *simDevice) dial(n *node) {
	nd := n.dev
	if nd == nil || nd.conn != nil || nd.dialing || d.w.now < nd.retryAt {
		return
	}
	nd.dialing = true
	d.nextConn++
	c := &arbConn{id: d.nextConn, n: n, epoch: n.epoch}
	if !d.arbUp || d.arbCut[n.idx] {
		n.later(arbConnTimeout, func() { d.dialFailed(n, "connect timeout") })
		return
	}
	d.conns[c.id] = c
	h := &arbiter.Hello{Cluster: "sim", Node: n.name, Algorithm: string(d.alg)}
	for _, nv := range d.rules().Nodes {
		h.Nodes = append(h.Nodes, arbiter.NodeVotes{Name: nv.Name, Votes: nv.Votes})
	}
	d.toArbiter(c, func() []arbiter.Output { return d.arb.Hello(c.id, "sim", h, d.w.now) })
	nd.conn = c
	n.later(arbConnTimeout, func() {
		if n.dev == nd && nd.conn == c && !c.established {
			c.lost = true
			d.dialFailed(n, "no welcome")
		}
	})
}

func (d *simDevice) dialFailed(n *node, why string) {
	nd := n.dev
	if nd == nil {
		return
	}
	nd.dialing, nd.conn = false, nil
	nd.retryAt = d.w.now + arbInterval
	d.push(n)
}

// onMessage handles a message from the arbiter on node c.n.
func (d *simDevice) onMessage(c *arbConn, m arbiter.Message, closing bool) {
	n := c.n
	nd := n.dev
	if nd == nil || nd.conn != c {
		return
	}
	switch m := m.(type) {
	case *arbiter.Welcome:
		nd.dialing, c.established, c.lastVerdict = false, true, d.w.now
		nd.sess.Reconnected()
		nd.sess.SetLease(time.Duration(m.LeaseMS) * time.Millisecond)
		d.report(n)
	case *arbiter.Vote:
		c.lastVerdict = d.w.now
		rel := nd.sess.OnVote(m, d.w.now)
		d.push(n) // before any release: the engine stops counting first
		if rel != nil {
			d.toArbiter(c, func() []arbiter.Output { return d.arb.Release(c.id, rel, d.w.now) })
		}
	case *arbiter.Error:
		d.w.trace("%s: arbiter error: %s", n.name, m.Message)
		closing = true
	}
	if closing {
		c.lost = true
		nd.conn, nd.dialing = nil, false
		nd.retryAt = d.w.now + arbInterval
		d.push(n)
	}
	n.pump()
}

func (d *simDevice) report(n *node) {
	nd := n.dev
	c := nd.conn
	if c == nil || !c.established {
		return
	}
	r := nd.sess.NextReport(d.w.now)
	if r == nil {
		return
	}
	d.toArbiter(c, func() []arbiter.Output { return d.arb.Report(c.id, r, d.w.now) })
}

// arbTickNode is the client's interval: report, notice a dead
// connection, reconnect.
func (d *simDevice) arbTickNode(n *node) {
	nd := n.dev
	if nd == nil {
		return
	}
	if c := nd.conn; c != nil && c.established {
		switch {
		case c.reset:
			// The arbiter's end is gone: the next send fails at once.
			nd.conn = nil
		case d.w.now-c.lastVerdict > arbLease:
			c.lost = true
			nd.conn = nil
		default:
			d.report(n)
		}
		if nd.conn == nil {
			nd.retryAt = d.w.now
		}
	}
	if nd.conn == nil {
		d.dial(n)
	}
	d.push(n)
	n.pump()
}

// push hands the session's verdict to the engine.
func (d *simDevice) push(n *node) {
	nd := n.dev
	if nd == nil || nd.sess == nil {
		return
	}
	now := d.w.now
	v := quorum.DeviceVote{Voting: nd.sess.Voting(now), Pending: nd.sess.Pending(now)}
	if nd.conn == nil || !nd.conn.established {
		v.Problem = "arbiter unreachable"
	}
	d.toEngine(n, v, nd.sess.LeaseUntil())
}

// ---- disk ----

func (d *simDevice) diskStep(n *node) {
	nd := n.dev
	if nd == nil || nd.core == nil {
		return
	}
	in := disk.Input{}
	if nd.told {
		in = disk.Input{Quorate: nd.quorate, View: nd.view, Members: nd.members, Held: nd.held}
	}
	rd := nd.core.Step(d.w.now, in)
	nd.last = rd
	if rd.Err != nil {
		d.w.trace("%s: quorum disk refuses to run: %v", n.name, rd.Err)
	}
	for _, e := range rd.Events {
		d.w.trace("%s %s", n.name, e)
	}
	if rd.SelfFence != nil {
		// sysrq: the machine resets at once.
		d.w.trace("%s fences itself: %s", n.name, rd.SelfFence.Reason)
		d.reset(n, "poison pill")
		return
	}
	if rd.Feed {
		d.feed(n)
	}
	d.toEngine(n, rd.Vote, rd.VoteUntil)
	n.pump()
}

// feed pets the machine's watchdog; it fires diskTimeouts.Watchdog after
// the last feed.
func (d *simDevice) feed(n *node) {
	at := d.w.now
	d.wdArmed[n.idx], d.wdFed[n.idx] = true, at
	d.w.At(at+diskTimeouts.Watchdog, func() {
		if d.wdArmed[n.idx] && d.wdFed[n.idx] == at && n.powered {
			d.w.trace("%s: watchdog fires (last fed %v ago)", n.name, d.w.now-at)
			d.reset(n, "watchdog")
		}
	})
}

// reset is a machine reset: off, then booting again.
func (d *simDevice) reset(n *node, why string) {
	d.w.trace("%s resets (%s)", n.name, why)
	d.wdArmed[n.idx] = false
	n.powerOff()
	n.powerOn(d.w.opts.Boot)
}

// ---- faults ----

// scheduleFaults injects device faults until end.
func (d *simDevice) scheduleFaults(end time.Duration) {
	t := Initdead + time.Second
	for {
		t += time.Duration(200+d.rng.IntN(4000)) * time.Millisecond
		if t >= end {
			return
		}
		d.w.At(t, func() {
			if d.w.faultsOn && !d.busy {
				d.fault()
			}
		})
	}
}

func (d *simDevice) fault() {
	w := d.w
	dur := time.Duration(300+d.rng.IntN(6000)) * time.Millisecond
	i := d.rng.IntN(len(w.nodes))
	var undo func()
	switch d.model {
	case quorum.DeviceArbiter:
		switch d.rng.IntN(4) {
		case 0:
			d.crashArbiter()
			undo = func() { d.w.trace("device: arbiter starts"); d.startArbiter() }
		case 1:
			w.trace("fault: %s cannot reach the arbiter for %v", w.nodes[i].name, dur)
			d.arbCut[i] = true
			undo = func() { delete(d.arbCut, i) }
		case 2:
			w.trace("fault: every node cut from the arbiter for %v", dur)
			for j := range w.nodes {
				d.arbCut[j] = true
			}
			undo = func() { clear(d.arbCut) }
		default:
			d.slow = time.Duration(20+d.rng.IntN(500)) * time.Millisecond
			w.trace("fault: the arbiter's network is slow (%v) for %v", d.slow, dur)
			undo = func() { d.slow = 0 }
		}
	case quorum.DeviceDisk:
		k := d.rng.IntN(len(d.disks))
		p := d.paths[i][k]
		switch d.rng.IntN(3) {
		case 0, 1:
			w.trace("fault: %s loses its path to disk%d for %v", w.nodes[i].name, k, dur)
			p.SetDown(true)
			undo = func() { p.SetDown(false) }
		default:
			w.trace("fault: disk%d is read-only for %s for %v", k, w.nodes[i].name, dur)
			p.SetReadOnly(true)
			undo = func() { p.SetReadOnly(false) }
		}
	}
	d.busy = true
	w.res.Faults++
	w.after(dur, func() {
		if !w.faultsOn {
			return // heal did it
		}
		w.trace("device fault ends")
		undo()
		d.busy = false
	})
}

// heal ends every device fault.
func (d *simDevice) heal() {
	d.busy = false
	d.slow = 0
	clear(d.arbCut)
	if d.model == quorum.DeviceArbiter && !d.arbUp {
		d.startArbiter()
	}
	for _, ps := range d.paths {
		for _, p := range ps {
			p.SetDown(false)
			p.SetReadOnly(false)
		}
	}
}
