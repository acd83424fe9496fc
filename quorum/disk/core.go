package disk

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
	"unsafe"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// BlockIO is one shared disk as a node sees it: positioned reads and
// writes of whole, aligned sectors. File is the real one (O_DIRECT);
// tests use MemDisk.
type BlockIO interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
}

// Config configures a node's disk core.
type Config struct {
	// Self is this node's name.
	Self string
	// Nodes are the cluster's nodes in id order with their votes; every
	// one gets a slot.
	Nodes []arbitration.Node
	// Algorithm, TieBreaker: how the master picks the partition that gets
	// the disk's votes (quorum/arbitration).
	Algorithm  quorum.Algorithm
	TieBreaker string
	// DeviceVotes are the disk's votes (quorum.Calculator.DeviceVotes);
	// the master evicts losers only when the winner is quorate with them.
	DeviceVotes int
	// Evict lets the master reset live nodes of a losing partition.
	Evict bool
	// MinScore: a node whose heuristics score is lower does not become
	// master.
	MinScore int
	// StartMode "clean" refuses to start while a pill our previous run
	// already obeyed is still in our mailbox; "always" (default) clears it.
	StartMode string
	// Incarnation identifies this run (random, from the edge).
	Incarnation uint64
	// BeforeRelease, if set, is called during Step, before this node's
	// slot is written, when the node stops counting the disk's votes
	// (the master revoked its grant, or the disks failed): the slot
	// about to be written tells the master the grant is released, and
	// the master may then give the votes to another partition. The
	// caller must make sure nothing counts the vote any more before it
	// returns (the daemon hands the verdict to its quorum engine and
	// waits until it is applied).
	BeforeRelease func(quorum.DeviceVote)
}

// Input is what the daemon tells the disk core at every step.
type Input struct {
	// Quorate: this node's partition has quorum now.
	Quorate bool
	// View and Members are the node's agreed view.
	View    uint64
	Members []string
	// Score is the node's heuristics score (ping groups).
	Score int
	// Held: the partition ran the resources before this view.
	Held bool
}

// SelfFence tells the edge to fence this node now: reset (or power off)
// at once, and never feed the watchdog again.
type SelfFence struct {
	Action MessageType // MsgReset or MsgOff
	From   string
	Reason string
}

// NodeStatus is one slot as this node sees it.
type NodeStatus struct {
	Name    string
	Slot    int
	Alive   bool
	State   SlotState
	Role    Role
	Counter uint64
	Score   int
	View    uint64
	Members []string
}

// Ready is the outcome of one step.
type Ready struct {
	// Feed: feed the watchdog now. False when this node reaches fewer
	// than a majority of its disks and is not quorate, or fences itself.
	Feed bool
	// SelfFence is set once, when the node must fence itself.
	SelfFence *SelfFence
	// Vote is the disk's verdict for the node's current view.
	Vote quorum.DeviceVote
	// VoteUntil: when Vote.Voting, the votes stop counting at this time
	// unless a later step renews them (the lease on the master's grant).
	VoteUntil time.Duration
	// Reached is the number of disks read and written this step.
	Reached, Disks int
	// Master is the master as this node sees it ("" if none).
	Master string
	// Err is fatal: the node must not run (incompatible disks, no slot,
	// start_mode clean with a pill in the mailbox).
	Err error
	// Events are things worth a log line.
	Events []string
	Nodes  []NodeStatus
}

// Device is one disk slot of the core: its I/O, its name for messages,
// and its header once read.
type Device struct {
	IO   BlockIO
	Name string
	hdr  *Header
	err  error
	ok   bool // read and written this step
	buf  []byte
}

type peer struct {
	slot        Slot
	counter     uint64
	incarnation uint64
	changed     bool          // its counter was seen to advance at least once
	changedAt   time.Duration // step time of the last advance
	observed    bool
	lastObsAt   time.Duration
	// leaseBase is the step time of the observation before the latest
	// advance: the write that advanced happened after it.
	leaseBase  time.Duration
	hasBase    bool
	advanced   bool // advanced this step
	lastCopies int  // disks that returned a valid copy this step
}

// Core is a node's quorum-disk logic: a pure state machine stepped with a
// logical clock over BlockIO devices (no goroutines, no real clock). Each
// Step reads every slot and the node's mailbox, decides (pills, master
// election, the master's grant, eviction, whether the disk's votes count
// for this node's view, whether to feed the watchdog) and writes the
// node's slot.
type Core struct {
	cfg   Config
	disks []*Device
	hdr   *Header

	started   bool
	startedAt time.Duration
	resolved  bool
	slotOf    map[string]int
	names     []string
	self      int
	maxIdx    int

	counter    uint64
	role       Role
	bidSince   time.Duration
	decision   Decision
	prevGrant  Decision
	revokedAt  time.Duration
	maxSeq     uint64
	handled    uint64
	fenced     *SelfFence
	wasQuorate bool
	peers      map[int]*peer
	leaseUntil time.Duration
	leaseDec   Decision
	evicted    map[int]uint64
	claimView  uint64
	claimBits  Bitmap
	claimSince time.Duration
	lapseSince time.Duration
	wasVoting  bool
	successor  int      // slot+1 we hand the master role to (0: none)
	lastGrant  Decision // the last grant we wrote as master
	takingOver int      // slot of the master we take over from (-1: none)
	lastMaster string
	lastReach  int
	startDone  bool
	scratch    []byte
	fatal      error
}

// NewCore builds a core over the devices. Headers are read in Step.
func NewCore(cfg Config, devs []*Device) (*Core, error) {
	if len(devs) != 1 && len(devs) != 3 {
		return nil, fmt.Errorf("quorum disk: %d disks: want 1 or 3", len(devs))
	}
	r := arbitration.Rules{Algorithm: cfg.Algorithm, Nodes: cfg.Nodes, TieBreaker: cfg.TieBreaker}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("quorum disk: %w", err)
	}
	if !slices.ContainsFunc(cfg.Nodes, func(n arbitration.Node) bool { return n.Name == cfg.Self }) {
		return nil, fmt.Errorf("quorum disk: node %q is not a configured node", cfg.Self)
	}
	for _, n := range cfg.Nodes {
		if err := checkName("node name", n.Name, false); err != nil {
			return nil, fmt.Errorf("quorum disk: %w", err)
		}
	}
	if cfg.StartMode == "" {
		cfg.StartMode = "always"
	}
	return &Core{cfg: cfg, disks: devs, self: -1, peers: map[int]*peer{}, evicted: map[int]uint64{}, lastReach: -1, takingOver: -1}, nil
}

// Header is the disks' header once one was read (nil before).
func (c *Core) Header() *Header { return c.hdr }

// AlignedBuffer returns n bytes aligned for O_DIRECT (4096).
func AlignedBuffer(n int) []byte {
	b := make([]byte, n+4096)
	off := int(uintptr(unsafe.Pointer(&b[0])) & 4095)
	if off != 0 {
		off = 4096 - off
	}
	return b[off : off+n : off+n]
}

func (c *Core) lease() time.Duration { return c.hdr.Timeouts.DeadAfter }

func (c *Core) majority(n int) bool { return 2*n > len(c.disks) }

// Step runs one disk loop at time now.
func (c *Core) Step(now time.Duration, in Input) Ready {
	r := Ready{Disks: len(c.disks)}
	if c.fatal != nil {
		r.Err = c.fatal
		return r
	}
	if !c.started {
		c.started, c.startedAt, c.claimSince = true, now, now
	}
	c.wasQuorate = c.wasQuorate || in.Quorate
	c.readHeaders(&r)
	if c.hdr == nil || !c.majority(c.countHeaders()) {
		r.Vote.Problem = c.problem("quorum disk: headers readable on %d of %d disks", c.countHeaders(), len(c.disks))
		r.Feed = c.fenced == nil && in.Quorate
		return r
	}
	if !c.resolved {
		if err := c.resolve(&r); err != nil {
			c.fatal = err
			r.Err = err
			return r
		}
		if !c.resolved {
			r.Vote.Problem = c.problem("quorum disk: cannot read the slots")
			r.Feed = c.fenced == nil && in.Quorate
			return r
		}
	}

	// Read every slot in use and our mailbox.
	reads := c.read(now)
	c.observe(now, reads)
	if !c.startDone && c.majority(c.count()) {
		c.startDone = true
		var prev *Slot
		if p := c.peers[c.self]; p != nil && p.observed {
			prev = &p.slot
			c.counter = p.counter // counters never go back
		}
		if err := c.startMailbox(&r, prev, reads); err != nil {
			c.fatal = err
			r.Err = err
			return r
		}
	}
	if !c.startDone {
		// Until we have read our previous slot, we do not know what our
		// mailbox's pills mean: neither run nor write.
		r.Vote.Problem = c.problem("quorum disk: %d of %d disks readable (need %d)", c.count(), len(c.disks), len(c.disks)/2+1)
		r.Feed = c.fenced == nil && in.Quorate
		return r
	}
	c.mailbox(&r, reads)
	readMajority := c.majority(c.count())

	// The claim: our view as a set of slots.
	var bits Bitmap
	for _, m := range in.Members {
		if i, ok := c.slotOf[m]; ok {
			bits.Set(i)
		}
	}
	if in.View != c.claimView || bits != c.claimBits {
		c.claimView, c.claimBits, c.claimSince = in.View, bits, now
	}

	c.elect(&r, now, readMajority, in)
	if c.role == RoleMaster && readMajority {
		c.decide(&r, now, in)
	}
	c.count_(now)

	// Write our slot.
	c.counter++
	state := StateRunning
	if c.fenced != nil {
		state = StateFenced
	}
	own := Slot{State: state, Role: c.role, Name: c.cfg.Self, Incarnation: c.cfg.Incarnation, Counter: c.counter,
		View: in.View, Members: bits, Score: in.Score, Held: in.Held, Quorate: in.Quorate, WasQuorate: c.wasQuorate,
		SeenDecision: c.maxSeq, Handled: c.handled}
	if c.role == RoleMaster {
		own.Decision, own.Successor = c.decision, c.successor
		if !c.decision.Members.Empty() {
			c.lastGrant = c.decision
		}
	} else {
		// A former master keeps showing its last grant, so that whoever
		// is elected next knows what may still be counted.
		own.Decision = c.lastGrant
	}
	if c.wasVoting && c.cfg.BeforeRelease != nil {
		// Would we still count the grant if this write succeeded? If not,
		// whoever uses our vote must stop counting before the master can
		// read the release in our slot.
		if !c.majority(c.count()) || !c.counting(now, in.View, bits) {
			c.cfg.BeforeRelease(quorum.DeviceVote{Problem: r.Vote.Problem})
		}
	}
	written := c.writeSlot(own)
	reached := 0
	for i, d := range c.disks {
		d.ok = d.ok && written[i]
		if d.ok {
			reached++
		}
	}
	r.Reached = reached
	if reached != c.lastReach {
		if c.majority(reached) {
			r.Events = append(r.Events, fmt.Sprintf("quorum disk: %d of %d disks reachable", reached, len(c.disks)))
		} else {
			r.Events = append(r.Events, c.problem("quorum disk: %d of %d disks reachable: no majority", reached, len(c.disks)))
		}
		c.lastReach = reached
	}

	// The vote for our current view.
	voting := c.majority(reached) && c.counting(now, in.View, bits)
	r.Vote.Voting = voting
	if voting {
		r.VoteUntil = c.leaseUntil
	}
	// A grant that lapsed without a decision against us (the master died
	// or is being replaced) leaves the view undecided, as a new view is,
	// until a master answers or the sync timeout passes.
	if c.wasVoting && !voting && in.View == c.claimView && bits == c.claimBits && !c.excluded(now, in.View, bits) {
		c.lapseSince = now
	}
	c.wasVoting = voting
	if !voting && c.majority(reached) && now-max(c.claimSince, c.lapseSince) < c.syncTimeout() {
		r.Vote.Pending = true
	}
	switch {
	case !c.majority(reached):
		r.Vote.Problem = c.problem("quorum disk: %d of %d disks reachable (need %d)", reached, len(c.disks), len(c.disks)/2+1)
	case r.Master == "" && now-c.startedAt > 2*c.lease()+c.hdr.Timeouts.Loop:
		r.Vote.Problem = "quorum disk: no master (no eligible node: heuristics score below min_score?)"
	}
	r.Feed = c.fenced == nil && (c.majority(reached) || in.Quorate)
	r.Nodes = c.status(now)
	return r
}

// counting reports whether the grant we hold (our lease on the master's
// decision) is for our current view and still runs at now.
func (c *Core) counting(now time.Duration, view uint64, bits Bitmap) bool {
	return !c.leaseDec.Members.Empty() && c.leaseDec.Seq == c.maxSeq &&
		c.leaseDec.View == view && c.leaseDec.Members == bits && bits.Has(c.self) && now < c.leaseUntil
}

// syncTimeout bounds how long a view stays undecided waiting for a
// master's verdict: enough to see a dead master dead, elect another and
// read its grant.
func (c *Core) syncTimeout() time.Duration { return c.lease() + c.bidWait() + 3*c.hdr.Timeouts.Loop }

// excluded reports whether the live master's current decision gives the
// votes to a view other than ours.
func (c *Core) excluded(now time.Duration, view uint64, bits Bitmap) bool {
	for i := 0; i <= c.maxIdx; i++ {
		p := c.peers[i]
		if !c.alive(i, now) || p.slot.Role != RoleMaster {
			continue
		}
		d := p.slot.Decision
		return d.Seq >= c.maxSeq && !d.Members.Empty() && (d.View != view || d.Members != bits)
	}
	return false
}

func (c *Core) problem(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	var errs []string
	for _, d := range c.disks {
		if d.err != nil {
			errs = append(errs, d.Name+": "+d.err.Error())
		}
	}
	if len(errs) > 0 {
		s += ": " + strings.Join(errs, "; ")
	}
	return s
}

func (c *Core) countHeaders() int {
	n := 0
	for _, d := range c.disks {
		if d.hdr != nil {
			n++
		}
	}
	return n
}

func (c *Core) count() int {
	n := 0
	for _, d := range c.disks {
		if d.ok {
			n++
		}
	}
	return n
}

func (c *Core) readHeaders(r *Ready) {
	for _, d := range c.disks {
		if d.hdr != nil {
			continue
		}
		b := AlignedBuffer(4096)
		if _, err := d.IO.ReadAt(b, 0); err != nil {
			d.err = fmt.Errorf("reading header: %w", err)
			continue
		}
		h, err := DecodeHeader(b)
		if err != nil {
			d.err = err
			continue
		}
		if c.hdr != nil {
			if why := c.hdr.Compatible(h); why != "" {
				d.err = fmt.Errorf("not the same quorum disk set as %s: %s", c.disks[0].Name, why)
				continue
			}
		} else {
			c.hdr = &h
		}
		d.hdr, d.err = &h, nil
		r.Events = append(r.Events, fmt.Sprintf("quorum disk %s: cluster %s, %d slots, timeouts %s", d.Name, h.Cluster, h.Slots, formatTimeouts(h.Timeouts)))
	}
}

func formatTimeouts(t Timeouts) string {
	return fmt.Sprintf("watchdog=%s msgwait=%s loop=%s io=%s dead-after=%s", t.Watchdog, t.MsgWait, t.Loop, t.IO, t.DeadAfter)
}

// readAllSlots reads slots 0..n-1 of a disk; nil entries are empty or
// unreadable slots.
func (c *Core) readAllSlots(d *Device, n int) ([]*Slot, error) {
	ss := c.hdr.SectorSize
	b := AlignedBuffer(2 * n * ss)
	if _, err := d.IO.ReadAt(b, c.hdr.SlotOffset(0)); err != nil {
		return nil, err
	}
	out := make([]*Slot, n)
	for i := 0; i < n; i++ {
		if s, err := DecodeSlot(b[2*i*ss : (2*i+1)*ss]); err == nil {
			out[i] = &s
		}
	}
	return out, nil
}

// resolve finds (or allocates) a slot for every configured node, the same
// index on every disk.
func (c *Core) resolve(r *Ready) error {
	n := c.hdr.Slots
	names := make([]string, n)
	seen := 0
	for _, d := range c.disks {
		if d.hdr == nil {
			continue
		}
		slots, err := c.readAllSlots(d, n)
		if err != nil {
			d.err = fmt.Errorf("reading slots: %w", err)
			continue
		}
		seen++
		for i, s := range slots {
			if s == nil {
				continue
			}
			if names[i] != "" && names[i] != s.Name {
				return fmt.Errorf("quorum disk: slot %d holds %s on one disk and %s on %s: the disks were not created together; recreate them with one palisade disk create", i, names[i], s.Name, d.Name)
			}
			names[i] = s.Name
		}
	}
	if !c.majority(seen) {
		return nil
	}
	c.slotOf = map[string]int{}
	for i, nm := range names {
		if nm == "" {
			continue
		}
		if _, dup := c.slotOf[nm]; !dup { // the lowest index wins a duplicate
			c.slotOf[nm] = i
		}
	}
	var alloc []int
	for _, nd := range c.cfg.Nodes {
		if _, ok := c.slotOf[nd.Name]; ok {
			continue
		}
		i := slices.Index(names, "")
		if i < 0 {
			return fmt.Errorf("quorum disk: no free slot for node %s (the disk has %d slots): recreate it with more (palisade disk create --slots)", nd.Name, n)
		}
		names[i] = nd.Name
		c.slotOf[nd.Name] = i
		alloc = append(alloc, i)
	}
	b := AlignedBuffer(c.hdr.SectorSize)
	for _, i := range alloc {
		Slot{State: StateAllocated, Name: names[i]}.Encode(b)
		for _, d := range c.disks {
			if d.hdr != nil {
				if _, err := d.IO.WriteAt(b, c.hdr.SlotOffset(i)); err != nil {
					d.err = fmt.Errorf("allocating slot %d for %s: %w", i, names[i], err)
				}
			}
		}
		r.Events = append(r.Events, fmt.Sprintf("quorum disk: slot %d allocated to %s", i, names[i]))
	}
	c.names = names
	c.self = c.slotOf[c.cfg.Self]
	c.maxIdx = 0
	for _, i := range c.slotOf {
		c.maxIdx = max(c.maxIdx, i)
	}
	c.resolved = true
	return nil
}

type diskRead struct {
	slots   []*Slot // by index, nil = unreadable/empty
	mailbox *Mailbox
}

// read reads slots 0..maxIdx and their mailboxes from every disk.
func (c *Core) read(now time.Duration) []*diskRead {
	ss := c.hdr.SectorSize
	n := c.maxIdx + 1
	out := make([]*diskRead, len(c.disks))
	for k, d := range c.disks {
		d.ok = false
		if d.hdr == nil {
			continue
		}
		if len(d.buf) != 2*n*ss {
			d.buf = AlignedBuffer(2 * n * ss)
		}
		if _, err := d.IO.ReadAt(d.buf, c.hdr.SlotOffset(0)); err != nil {
			d.err = fmt.Errorf("reading slots: %w", err)
			continue
		}
		dr := &diskRead{slots: make([]*Slot, n)}
		for i := 0; i < n; i++ {
			if s, err := DecodeSlot(d.buf[2*i*ss : (2*i+1)*ss]); err == nil {
				dr.slots[i] = &s
			}
		}
		if m, err := DecodeMailbox(d.buf[(2*c.self+1)*ss : (2*c.self+2)*ss]); err == nil {
			dr.mailbox = &m
		}
		d.ok, d.err = true, nil
		out[k] = dr
	}
	return out
}

// observe updates what we know of every slot: the copy with the highest
// counter across the disks read, and when its counter last advanced.
func (c *Core) observe(now time.Duration, reads []*diskRead) {
	for i := 0; i <= c.maxIdx; i++ {
		var best *Slot
		copies := 0
		for _, dr := range reads {
			if dr == nil || dr.slots[i] == nil {
				continue
			}
			copies++
			// Counters never go back, not even across restarts (a node
			// starts from the highest counter its slot shows), so the
			// highest counter is the newest copy.
			if s := dr.slots[i]; best == nil || s.Counter > best.Counter {
				best = s
			}
		}
		p := c.peers[i]
		if p == nil {
			p = &peer{}
			c.peers[i] = p
		}
		p.advanced = false
		p.lastCopies = copies
		if best == nil {
			continue
		}
		if c.names != nil && best.Name != c.names[i] {
			c.names[i] = best.Name
		}
		if p.observed && best.Counter > p.counter {
			// The write that advanced the counter came after our previous
			// observation: the node was alive after lastObsAt.
			p.leaseBase, p.hasBase = p.lastObsAt, true
			p.changed, p.changedAt, p.advanced = true, now, true
		}
		p.counter = max(p.counter, best.Counter)
		p.incarnation = best.Incarnation
		// Decision numbers only grow, across masters and restarts: what
		// any slot has seen (or granted) bounds the next grant from below,
		// and a node never counts a grant older than one seen anywhere.
		c.maxSeq = max(c.maxSeq, best.SeenDecision, best.Decision.Seq)
		p.slot = *best
		p.observed, p.lastObsAt = true, now
	}
}

func (c *Core) alive(i int, now time.Duration) bool {
	p := c.peers[i]
	return p != nil && p.changed && now-p.changedAt < c.lease() && (p.slot.State == StateRunning || p.slot.State == StateFenced)
}

// mailbox acts on a message in our mailbox.
func (c *Core) mailbox(r *Ready, reads []*diskRead) {
	var msg *Mailbox
	for _, dr := range reads {
		if dr == nil || dr.mailbox == nil {
			continue
		}
		m := dr.mailbox
		if m.Type == MsgNone || m.Nonce == c.handled {
			continue
		}
		if m.Target != c.cfg.Self {
			r.Events = append(r.Events, fmt.Sprintf("quorum disk: ignoring a %s message for %s in our mailbox (from %s)", m.Type, m.Target, m.Sender))
			continue
		}
		if msg == nil || m.Type.IsPill() && !msg.Type.IsPill() {
			msg = m
		}
	}
	if msg == nil || c.fenced != nil {
		return
	}
	c.handled = msg.Nonce
	switch msg.Type {
	case MsgTest:
		r.Events = append(r.Events, fmt.Sprintf("quorum disk: test message from %s (acknowledged)", msg.Sender))
	case MsgReset, MsgOff:
		c.fenced = &SelfFence{Action: msg.Type, From: msg.Sender, Reason: fmt.Sprintf("poison pill %s from %s in the quorum disk mailbox", msg.Type, msg.Sender)}
		r.SelfFence = c.fenced
		r.Events = append(r.Events, "quorum disk: "+c.fenced.Reason+": fencing this node")
	}
}

// startMailbox handles what the previous run left in our mailbox: a pill
// it already obeyed is cleared ("always") or refused ("clean"); a pill it
// never saw is obeyed now.
func (c *Core) startMailbox(r *Ready, prev *Slot, reads []*diskRead) error {
	if prev == nil {
		return nil
	}
	c.handled = prev.Handled
	for _, dr := range reads {
		if dr == nil || dr.mailbox == nil || !dr.mailbox.Type.IsPill() || dr.mailbox.Nonce != prev.Handled {
			continue
		}
		m := dr.mailbox
		if c.cfg.StartMode == "clean" {
			return fmt.Errorf("quorum disk: start_mode clean: our mailbox still holds the %s pill from %s that fenced this node; once the node is known clean, clear it with: palisade disk message %s clear", m.Type, m.Sender, c.cfg.Self)
		}
		r.Events = append(r.Events, fmt.Sprintf("quorum disk: clearing the %s pill from %s that fenced our previous run", m.Type, m.Sender))
		c.writeMailbox(c.self, Mailbox{Type: MsgClear, Target: c.cfg.Self, Sender: c.cfg.Self})
		return nil
	}
	return nil
}

// sector returns the core's scratch sector buffer, zeroed.
func (c *Core) sector() []byte {
	if len(c.scratch) != c.hdr.SectorSize {
		c.scratch = AlignedBuffer(c.hdr.SectorSize)
	}
	clear(c.scratch)
	return c.scratch
}

func (c *Core) writeMailbox(i int, m Mailbox) int {
	b := c.sector()
	m.Encode(b)
	n := 0
	for _, d := range c.disks {
		if d.hdr == nil {
			continue
		}
		if _, err := d.IO.WriteAt(b, c.hdr.MailboxOffset(i)); err != nil {
			d.err = fmt.Errorf("writing mailbox %d: %w", i, err)
			continue
		}
		n++
	}
	return n
}

func (c *Core) writeSlot(s Slot) []bool {
	b := c.sector()
	s.Encode(b)
	ok := make([]bool, len(c.disks))
	for k, d := range c.disks {
		if d.hdr == nil {
			continue
		}
		if _, err := d.IO.WriteAt(b, c.hdr.SlotOffset(c.self)); err != nil {
			d.err = fmt.Errorf("writing our slot: %w", err)
			continue
		}
		ok[k] = true
	}
	return ok
}

// bidWait is how long a bidder waits, seeing no live master and no lower
// bidder, before it becomes master: long enough for every other node
// (reading every loop, each read taking up to io) to have seen its bid.
func (c *Core) bidWait() time.Duration { return 2 * (c.hdr.Timeouts.Loop + c.hdr.Timeouts.IO) }

// elect runs the master election. A node with no live master in sight
// (silent for a lease: whatever it granted has expired) bids, and becomes
// master after bidWait with no live master or lower bidder appearing. A
// master that must leave (its partition lost, its score fell) names a
// successor, which takes over at once with the same decision.
func (c *Core) elect(r *Ready, now time.Duration, majority bool, in Input) {
	otherMaster, handingToMe, lowerBidder := -1, -1, false
	for i := 0; i <= c.maxIdx; i++ {
		if i == c.self || !c.alive(i, now) {
			continue
		}
		p := c.peers[i]
		switch p.slot.Role {
		case RoleMaster:
			if otherMaster < 0 {
				otherMaster = i
			}
			if p.slot.Successor == c.self+1 {
				handingToMe = i
			}
		case RoleBidding:
			lowerBidder = lowerBidder || i < c.self
		}
	}
	eligible := in.Score >= c.cfg.MinScore && c.fenced == nil
	was := c.role
	why := ""
	switch {
	case !majority || c.fenced != nil:
		c.role, why = RoleNone, " (lost the majority of disks)"
		if c.fenced != nil {
			why = " (fencing this node)"
		}
	case c.role == RoleMaster:
		if j := otherMaster; j >= 0 {
			p := c.peers[j]
			switch {
			case c.successor == j+1 && p.slot.Decision.Seq >= c.decision.Seq:
				c.role, why = RoleNone, " (handed over to "+c.names[j]+")"
			case j < c.self && p.slot.Successor != c.self+1 && c.takingOver != j:
				c.role, why = RoleNone, " (a master with a lower slot: "+c.names[j]+")"
			}
		}
	case handingToMe >= 0 && eligible:
		c.role, c.takingOver = RoleMaster, handingToMe
		c.decision, c.prevGrant, c.successor = c.peers[handingToMe].slot.Decision, Decision{}, 0
		c.maxSeq = max(c.maxSeq, c.decision.Seq)
		why = " (taking over from " + c.names[handingToMe] + ")"
	case c.role == RoleBidding:
		if otherMaster >= 0 || lowerBidder || !eligible {
			c.role = RoleNone
		} else if now-c.bidSince >= c.bidWait() {
			c.role, c.takingOver, c.successor = RoleMaster, -1, 0
			c.inherit(now)
		}
	default:
		if eligible && otherMaster < 0 && !lowerBidder && now-c.startedAt >= c.lease() {
			c.role, c.bidSince = RoleBidding, now
		}
	}
	if c.role != was {
		r.Events = append(r.Events, fmt.Sprintf("quorum disk: %s -> %s%s", was, c.role, why))
	}
	master := ""
	for i := 0; i <= c.maxIdx; i++ {
		if i != c.self && c.alive(i, now) && c.peers[i].slot.Role == RoleMaster {
			master = c.names[i]
			break
		}
	}
	if c.role == RoleMaster && (master == "" || c.takingOver < 0) {
		master = c.cfg.Self
	}
	r.Master = master
	if master != c.lastMaster {
		if master != "" {
			r.Events = append(r.Events, "quorum disk: master is "+master)
		}
		c.lastMaster = master
	}
}

// inherit takes over, as a newly elected master, the newest grant any
// node shows (a master's, a former master's, ours): a different partition
// gets the votes only once everyone who may count that grant has released
// it, or a whole lease (plus an I/O) has passed since now.
func (c *Core) inherit(now time.Duration) {
	c.decision, c.prevGrant = Decision{Seq: c.maxSeq}, Decision{}
	clear(c.evicted)
	if !c.lastGrant.Members.Empty() {
		c.prevGrant = c.lastGrant
	}
	for i := 0; i <= c.maxIdx; i++ {
		p := c.peers[i]
		if p == nil || !p.observed || p.slot.Decision.Members.Empty() || p.slot.Decision.Seq < c.prevGrant.Seq {
			continue
		}
		c.prevGrant = p.slot.Decision
	}
	c.revokedAt = now
}

func (c *Core) key(d Decision) arbitration.Key {
	if d.Members.Empty() {
		return arbitration.Key{}
	}
	var ms []string
	for _, i := range d.Members.Indices() {
		if i < len(c.names) && c.names[i] != "" {
			ms = append(ms, c.names[i])
		}
	}
	return arbitration.KeyOf(d.View, ms)
}

// decide is the master's grant: the rule book picks the partition; a
// grant moves to another partition only after everyone who may count the
// old one released it. A master outside the granted partition (or below
// min_score) names a successor inside it.
func (c *Core) decide(r *Ready, now time.Duration, in Input) {
	if j := c.takingOver; j >= 0 {
		if p := c.peers[j]; c.alive(j, now) && p.slot.Role == RoleMaster {
			// Until our predecessor steps down, we repeat its decision.
			c.decision = p.slot.Decision
			c.maxSeq = max(c.maxSeq, c.decision.Seq)
			return
		}
		c.takingOver = -1
	}
	var reports []arbitration.Report
	for i := 0; i <= c.maxIdx; i++ {
		var s Slot
		if i == c.self {
			// Our own report is our current input, the claim we write now.
			s = Slot{Name: c.cfg.Self, View: in.View, Members: c.claimBits, Score: in.Score, Held: in.Held}
		} else if c.alive(i, now) && c.peers[i].slot.State == StateRunning {
			s = c.peers[i].slot
		} else {
			continue
		}
		var ms []string
		for _, j := range s.Members.Indices() {
			if j < len(c.names) {
				ms = append(ms, c.names[j])
			}
		}
		reports = append(reports, arbitration.Report{Node: s.Name, View: s.View, Members: ms, Score: s.Score, Held: s.Held})
	}
	rules := arbitration.Rules{Algorithm: c.cfg.Algorithm, Nodes: c.cfg.Nodes, TieBreaker: c.cfg.TieBreaker}
	v := arbitration.Decide(rules, reports, c.key(c.decision))
	if v.Winner != c.key(c.decision) {
		if !c.decision.Members.Empty() {
			c.maxSeq++
			c.prevGrant = c.decision
			c.decision, c.revokedAt = Decision{Seq: c.maxSeq}, now
			r.Events = append(r.Events, fmt.Sprintf("quorum disk master: votes withdrawn from %s (%s)", c.key(c.prevGrant), v.Why))
		}
		// The same partition may get the votes back at once; another one
		// only when nobody may still count the previous grant.
		if !v.Winner.IsZero() && (v.Winner == c.key(c.prevGrant) || len(c.unreleased(now)) == 0) {
			c.maxSeq++
			c.decision = Decision{Seq: c.maxSeq, View: v.Winner.View}
			for _, m := range strings.Split(v.Winner.Members, ",") {
				c.decision.Members.Set(c.slotOf[m])
			}
			c.prevGrant = Decision{}
			r.Events = append(r.Events, fmt.Sprintf("quorum disk master: votes to %s, decision %d (%s)", v.Winner, c.maxSeq, v.Why))
		}
	}
	was := c.successor
	c.successor = 0
	if !c.decision.Members.Empty() && (!c.decision.Members.Has(c.self) || in.Score < c.cfg.MinScore) {
		for _, i := range c.decision.Members.Indices() {
			if p := c.peers[i]; i != c.self && c.alive(i, now) && p.slot.State == StateRunning && p.slot.Score >= c.cfg.MinScore {
				c.successor = i + 1
				break
			}
		}
	}
	if c.successor != was && c.successor > 0 {
		r.Events = append(r.Events, fmt.Sprintf("quorum disk master: handing the master role to %s (in %s)", c.names[c.successor-1], c.key(c.decision)))
	}
	if in.Score < c.cfg.MinScore && c.successor == 0 {
		c.role = RoleNone
		r.Events = append(r.Events, fmt.Sprintf("quorum disk: master -> - (score %d below min_score %d, no successor)", in.Score, c.cfg.MinScore))
		return
	}
	if c.cfg.Evict && !c.decision.Members.Empty() {
		c.evict(r, now, v)
	}
}

// unreleased lists the nodes that may still count the previous grant.
func (c *Core) unreleased(now time.Duration) []string {
	g := c.prevGrant
	if g.Members.Empty() || now-c.revokedAt >= c.lease()+c.hdr.Timeouts.IO {
		return nil
	}
	var out []string
	for _, i := range g.Members.Indices() {
		p := c.peers[i]
		switch {
		case i == c.self:
			// We stopped counting it when we revoked it.
		case p == nil || !p.observed:
			// Never seen writing: it cannot have counted anything we granted.
		case p.slot.SeenDecision > g.Seq:
			// It saw the revocation (or later): it never counts g again.
		case p.slot.View != g.View || p.slot.Members != g.Members:
			// It moved to another view: a grant only counts for its view,
			// and views never come back.
		case !c.alive(i, now) && now-p.changedAt >= c.lease():
			// Silent for a lease: whatever it counted has expired.
		default:
			out = append(out, c.names[i])
		}
	}
	return out
}

// evict resets live nodes of a consistent losing partition once the
// winner is quorate with the disk's votes (qdiskd-style), so the losers
// do not wait for a fence request to learn they lost. Nodes that were
// never quorate since they started (booting, joining) are left alone.
func (c *Core) evict(r *Ready, now time.Duration, v arbitration.Verdict) {
	total := 0
	votes := map[string]int{}
	for _, n := range c.cfg.Nodes {
		total += n.Votes
		votes[n.Name] = n.Votes
	}
	win := 0
	for _, i := range c.decision.Members.Indices() {
		win += votes[c.names[i]]
	}
	if 2*(win+c.cfg.DeviceVotes) <= total+c.cfg.DeviceVotes {
		return // the winner is not quorate: nobody is, nobody needs to go
	}
	consistent := map[string]bool{}
	for _, p := range v.Partitions {
		if p.Consistent {
			for _, m := range p.Reporters {
				consistent[m] = true
			}
		}
	}
	for i := 0; i <= c.maxIdx; i++ {
		p := c.peers[i]
		if i == c.self || c.decision.Members.Has(i) || !c.alive(i, now) || p.slot.State != StateRunning || !p.slot.WasQuorate || !consistent[c.names[i]] {
			continue
		}
		if c.evicted[i] == p.incarnation {
			continue
		}
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%d/%d", c.cfg.Incarnation, c.counter, i)
		nonce := h.Sum64() | 1
		n := c.writeMailbox(i, Mailbox{Type: MsgReset, Nonce: nonce, Sender: c.cfg.Self, Target: c.names[i]})
		c.evicted[i] = p.incarnation
		r.Events = append(r.Events, fmt.Sprintf("quorum disk master: evicting %s (its partition v%d lost to %s): reset pill written to %d disks", c.names[i], p.slot.View, c.key(c.decision), n))
	}
}

// count_ updates our lease on the master's grant from what we read.
func (c *Core) count_(now time.Duration) {
	m := -1
	for i := 0; i <= c.maxIdx; i++ {
		p := c.peers[i]
		if !c.alive(i, now) || p.slot.Role != RoleMaster {
			continue
		}
		c.maxSeq = max(c.maxSeq, p.slot.Decision.Seq)
		if m < 0 {
			m = i
		}
	}
	if c.role == RoleMaster {
		c.maxSeq = max(c.maxSeq, c.decision.Seq)
	}
	if m < 0 {
		return
	}
	p := c.peers[m]
	if p.advanced && p.hasBase {
		c.leaseUntil, c.leaseDec = p.leaseBase+c.lease(), p.slot.Decision
	}
}

func (c *Core) status(now time.Duration) []NodeStatus {
	var out []NodeStatus
	for i := 0; i <= c.maxIdx; i++ {
		p := c.peers[i]
		if p == nil || !p.observed {
			if i < len(c.names) && c.names[i] != "" {
				out = append(out, NodeStatus{Name: c.names[i], Slot: i})
			}
			continue
		}
		st := NodeStatus{Name: p.slot.Name, Slot: i, Alive: c.alive(i, now), State: p.slot.State, Role: p.slot.Role,
			Counter: p.slot.Counter, Score: p.slot.Score, View: p.slot.View}
		for _, j := range p.slot.Members.Indices() {
			if j < len(c.names) {
				st.Members = append(st.Members, c.names[j])
			}
		}
		out = append(out, st)
	}
	return out
}

// ErrNotRunning is returned by operations that need a started core.
var ErrNotRunning = errors.New("quorum disk core not started")

// Stop writes our slot one last time as stopped (a clean shutdown): the
// others see us gone at once instead of after dead_after, and a master
// role is given up (the others elect another).
func (c *Core) Stop(now time.Duration, in Input) {
	if c.hdr == nil || !c.resolved || c.fenced != nil {
		return
	}
	c.counter++
	c.role = RoleNone
	c.writeSlot(Slot{State: StateStopped, Name: c.cfg.Self, Incarnation: c.cfg.Incarnation, Counter: c.counter,
		View: in.View, SeenDecision: c.maxSeq, Handled: c.handled, WasQuorate: c.wasQuorate})
}
