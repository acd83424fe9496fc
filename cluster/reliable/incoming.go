package reliable

import "slices"

// The receiving side of the streams: ordering and the receive buffer.

func (e *Endpoint) stepData(from uint32, p *peer, d dataFrame) {
	in := &p.in
	// Any data frame earns an ack: it is how a sender aiming at our
	// previous incarnation learns our generation, and how lost acks heal.
	in.ackDue = true
	switch {
	case d.dstGen != 0 && d.dstGen != e.cfg.Generation:
		e.stats.Stale++
		return // meant for an earlier incarnation of us
	case d.epoch < in.epoch:
		e.stats.Stale++
		return // an older stream, since reset
	case d.epoch > in.epoch:
		*in = inStream{epoch: d.epoch, ackDue: true}
	}
	switch {
	case d.seq <= in.delivered:
		e.stats.Duplicates++
		return // duplicate; the ack repeats
	case d.seq-in.delivered > uint64(e.cfg.RecvBuffer):
		e.stats.OutOfWindow++
		return // beyond the receive buffer: dropped, retransmitted later
	case d.seq > in.delivered+1:
		if in.held == nil {
			in.held = map[uint64][]byte{}
		}
		if _, ok := in.held[d.seq]; ok {
			e.stats.Duplicates++
		} else {
			in.held[d.seq] = slices.Clone(d.payload)
		}
		return
	}
	e.deliver(from, p, slices.Clone(d.payload))
	for {
		next, ok := in.held[in.delivered+1]
		if !ok {
			return
		}
		delete(in.held, in.delivered+1)
		e.deliver(from, p, next)
	}
}

func (e *Endpoint) deliver(from uint32, p *peer, payload []byte) {
	p.in.delivered++
	e.stats.Delivered++
	e.ready.Delivered = append(e.ready.Delivered, Delivery{From: from, Generation: p.gen, Payload: payload})
}
