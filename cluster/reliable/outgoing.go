package reliable

import (
	"fmt"
	"slices"

	"palisade/cluster/wire"
)

// The sending side of the streams: queueing, the window, acks.

// Send queues payload (copied) for node to.
func (e *Endpoint) Send(to uint32, payload []byte) error {
	switch {
	case to == 0 || to == e.cfg.Self:
		return fmt.Errorf("%w: node %d", ErrSelf, to)
	case len(payload) > MaxPayload:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), MaxPayload)
	}
	p := e.peer(to)
	if len(p.out.queue) >= e.cfg.SendBuffer {
		return fmt.Errorf("%w: %d messages to node %d not yet acknowledged", ErrSendBufferFull, len(p.out.queue), to)
	}
	p.out.queue = append(p.out.queue, &outMsg{seq: p.out.nextSeq, payload: slices.Clone(payload)})
	p.out.nextSeq++
	e.transmitWindow(to, p)
	return nil
}

// transmitWindow sends every message inside the window not yet sent.
func (e *Endpoint) transmitWindow(to uint32, p *peer) {
	for _, m := range p.out.queue[:min(len(p.out.queue), e.cfg.Window)] {
		if !m.sent {
			m.sent, m.rto = true, e.cfg.RetransmitTicks
			m.due = e.now + m.rto
			e.stats.Sent++
			e.emitData(to, p, m)
		}
	}
}

func (e *Endpoint) emitData(to uint32, p *peer, m *outMsg) {
	f := dataFrame{dstGen: p.gen, epoch: p.out.epoch, seq: m.seq, payload: m.payload}
	e.ready.Frames = append(e.ready.Frames, Frame{To: to, Type: wire.TypeReliableData, Payload: f.encode()})
}

func (e *Endpoint) stepAck(from uint32, p *peer, a ackFrame) {
	out := &p.out
	if a.dstGen != e.cfg.Generation || a.epoch != out.epoch || a.cum >= out.nextSeq {
		e.stats.Stale++
		return // for another incarnation or stream of ours, or nonsense
	}
	n := 0
	for n < len(out.queue) && out.queue[n].seq <= a.cum {
		n++
	}
	out.queue = out.queue[n:]
	for _, m := range out.queue {
		if off := m.seq - a.cum - 2; m.seq >= a.cum+2 && off < 64 && a.sack&(1<<off) != 0 {
			m.sacked = true
		}
	}
	e.transmitWindow(from, p)
}

// resetOut fails every queued message and starts a new stream epoch.
func (e *Endpoint) resetOut(to uint32, p *peer, why error) {
	for _, m := range p.out.queue {
		e.ready.Failed = append(e.ready.Failed, Failure{To: to, Payload: m.payload, Err: why})
		e.stats.Failed++
	}
	p.out = outStream{epoch: p.out.epoch + 1, nextSeq: 1}
}
