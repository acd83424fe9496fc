package reliable

import (
	"fmt"
	"slices"

	"palisade/cluster/wire"
)

// Endpoint is the pure reliable-delivery state machine for one node.
// Not safe for concurrent use (Conn serializes access).
type Endpoint struct {
	cfg   Config
	now   int // ticks
	peers map[uint32]*peer
	ready Ready
	stats Stats
}

// peer is both stream directions with one other node.
type peer struct {
	gen uint64 // its incarnation as far as we know; 0: not heard yet
	out outStream
	in  inStream
}

type outStream struct {
	epoch   uint32
	nextSeq uint64
	queue   []*outMsg // unacknowledged, by seq; the first Window are in flight
}

type outMsg struct {
	seq     uint64
	payload []byte
	sent    bool
	sacked  bool // held by the receiver: no retransmission needed
	rto     int
	due     int
}

type inStream struct {
	epoch     uint32 // 0: no frame yet from this sender incarnation
	delivered uint64
	held      map[uint64][]byte
	ackDue    bool
}

// New returns an Endpoint; it fails only on an invalid Config.
func New(cfg Config) (*Endpoint, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Endpoint{cfg: cfg, peers: map[uint32]*peer{}}, nil
}

func (e *Endpoint) peer(id uint32) *peer {
	p := e.peers[id]
	if p == nil {
		p = &peer{out: outStream{epoch: 1, nextSeq: 1}}
		e.peers[id] = p
	}
	return p
}

// Observe reports that node from is alive with incarnation gen (from
// heartbeats); a change resets the streams with that node.
func (e *Endpoint) Observe(from uint32, gen uint64) {
	if from == 0 || from == e.cfg.Self || gen == 0 {
		return
	}
	e.observe(from, gen)
}

// observe returns the peer, or nil if gen is older than what we know
// (a stale frame that transport should already have dropped).
func (e *Endpoint) observe(from uint32, gen uint64) *peer {
	p := e.peer(from)
	switch {
	case gen < p.gen:
		return nil
	case gen > p.gen && p.gen != 0:
		// A new incarnation knows nothing of either stream.
		e.resetOut(from, p, ErrPeerRestarted)
		p.in = inStream{}
	}
	p.gen = gen
	return p
}

// Forget drops the outgoing stream to node, failing its queued messages.
// The peer's generation is kept, and the new stream epoch tells the peer
// (if it is in fact alive) to expect sequence numbers from 1 again. The
// incoming stream is kept: the peer may not have declared us dead and
// goes on with its stream where it was (forgetting what we delivered of
// it would wait forever for numbers it will not send again); if it did,
// its own new epoch resets our side.
func (e *Endpoint) Forget(node uint32) {
	p := e.peers[node]
	if p == nil {
		return
	}
	e.resetOut(node, p, ErrPeerForgotten)
}

// Step processes one received reliable frame (typ TypeReliableData or
// TypeReliableAck; other types only report the generation) from node
// from, whose incarnation is gen. Payload bytes it keeps are copied.
func (e *Endpoint) Step(from uint32, gen uint64, typ wire.Type, payload []byte) error {
	if from == 0 || from == e.cfg.Self || gen == 0 {
		return fmt.Errorf("%w: from node %d generation %d", ErrBadFrame, from, gen)
	}
	switch typ {
	case wire.TypeReliableData:
		d, err := decodeData(payload)
		if err != nil {
			return fmt.Errorf("data from node %d: %w", from, err)
		}
		if p := e.observe(from, gen); p != nil {
			e.stepData(from, p, d)
		}
	case wire.TypeReliableAck:
		a, err := decodeAck(payload)
		if err != nil {
			return fmt.Errorf("ack from node %d: %w", from, err)
		}
		if p := e.observe(from, gen); p != nil {
			e.stepAck(from, p, a)
		}
	default:
		e.observe(from, gen)
	}
	return nil
}

// Tick advances logical time by one tick and retransmits what is due.
func (e *Endpoint) Tick() { e.Advance(1) }

// Advance moves logical time n ticks forward (n < 1 counts as 1) and
// retransmits what is due by then, each message at most once. It is n
// Ticks in one step for a driver that sleeps until NextDue: nothing falls
// due in between, so nothing is missed; a driver that wakes late sends
// each overdue message once, not once per tick it slept through.
func (e *Endpoint) Advance(n int) {
	e.now += max(n, 1)
	if due, ok := e.nextDue(); !ok || due > e.now {
		return // nothing due: no need to sort the peers
	}
	for _, id := range e.sortedPeers() {
		p := e.peers[id]
		for _, m := range p.out.queue[:min(len(p.out.queue), e.cfg.Window)] {
			if m.sent && !m.sacked && m.due <= e.now {
				m.rto = min(2*m.rto, e.cfg.MaxRetransmitTicks)
				m.due = e.now + m.rto
				e.stats.Retransmitted++
				e.emitData(id, p, m)
			}
		}
	}
}

// NextDue is how many ticks from now the next retransmission falls due
// (at least 1); ok is false when no message waits for an acknowledgement,
// so a driver needs no timer until the next Send.
func (e *Endpoint) NextDue() (ticks int, ok bool) {
	due, ok := e.nextDue()
	return max(due-e.now, 1), ok
}

// nextDue is the earliest due tick of a message in flight.
func (e *Endpoint) nextDue() (due int, ok bool) {
	for _, p := range e.peers {
		for _, m := range p.out.queue[:min(len(p.out.queue), e.cfg.Window)] {
			if m.sent && !m.sacked && (!ok || m.due < due) {
				due, ok = m.due, true
			}
		}
	}
	return due, ok
}

// Ready returns and clears the pending output. Acks owed are generated
// here, so several frames stepped between two Ready calls share one.
func (e *Endpoint) Ready() Ready {
	for _, p := range e.peers {
		if p.in.ackDue {
			e.sendAcks()
			break
		}
	}
	r := e.ready
	e.ready = Ready{}
	return r
}

// sendAcks emits the acks owed, in node order.
func (e *Endpoint) sendAcks() {
	for _, id := range e.sortedPeers() {
		p := e.peers[id]
		if !p.in.ackDue {
			continue
		}
		p.in.ackDue = false
		a := ackFrame{dstGen: p.gen, epoch: p.in.epoch, cum: p.in.delivered}
		for seq := range p.in.held {
			if off := seq - a.cum - 2; off < 64 {
				a.sack |= 1 << off
			}
		}
		e.ready.Frames = append(e.ready.Frames, Frame{To: id, Type: wire.TypeReliableAck, Payload: a.encode()})
		e.stats.AcksSent++
	}
}

// Pending is how many messages to node are queued or unacknowledged.
func (e *Endpoint) Pending(to uint32) int {
	if p := e.peers[to]; p != nil {
		return len(p.out.queue)
	}
	return 0
}

func (e *Endpoint) sortedPeers() []uint32 {
	ids := make([]uint32, 0, len(e.peers))
	for id := range e.peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
