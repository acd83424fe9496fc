package transport

import (
	"errors"
	"fmt"
	"time"

	"palisade/cluster/wire"
)

// SendHeartbeat sends an empty heartbeat to every node on every link.
func (t *Transport) SendHeartbeat() error { return t.Send(wire.TypeHeartbeat, 0, nil) }

// Send signs payload as a packet of type typ and sends it on every link,
// to node `to` only (unicast links address just that node's peers;
// multicast and broadcast links carry it to all, and others drop it as
// not_for_us) or to every node when to is 0. Every link carries the same
// sequence number, which is how receivers spot duplicates; each copy is
// signed with its link index, so it can not be replayed on another link. It returns an
// error only if no link could send.
func (t *Transport) Send(typ wire.Type, to uint32, payload []byte) error {
	t.sendMu.Lock()
	defer t.sendMu.Unlock()
	if t.closed.Load() || !t.started.Load() {
		return ErrClosed
	}
	if kr := t.keys.Load(); kr != t.encKeys {
		t.enc, t.encKeys = wire.NewEncoder(kr.Active()), kr
	}
	t.seq++
	h := wire.Header{
		Type: typ, From: t.cfg.Node, To: to, Generation: t.cfg.Generation,
		Seq: t.seq, SentAt: time.Now().UnixNano(), Cluster: t.cfg.Cluster,
	}
	var errs []error
	sent := 0
	for _, l := range t.links {
		// Signed per link: the link index is under the MAC.
		h.Link = uint8(l.index)
		pkt, err := t.enc.Append(t.buf[:0], &h, payload)
		if err != nil {
			return fmt.Errorf("transport: send %s to %d: %w", typ, to, err)
		}
		if to == 0 && l.batch != nil {
			n, lerrs := l.sendBatch(pkt)
			sent += n
			errs = append(errs, lerrs...)
			continue
		}
		dests := l.all
		if to != 0 && l.cfg.Kind == Unicast {
			dests = l.byNode[to]
		}
		for _, d := range dests {
			if _, err := l.conn.WriteToUDPAddrPort(pkt, d); err != nil {
				l.txErr.Add(1)
				errs = append(errs, fmt.Errorf("link %s to %s: %w", l.cfg.Name, d, err))
				continue
			}
			l.tx.Add(1)
			l.txB.Add(uint64(len(pkt)))
			sent++
		}
	}
	if sent == 0 && len(errs) > 0 {
		return fmt.Errorf("transport: send %s to %d: %w", typ, to, errors.Join(errs...))
	}
	if sent == 0 && to != 0 {
		return fmt.Errorf("transport: send %s: no link has an address for node %d", typ, to)
	}
	// Sent to nobody "to all" is fine: a node alone in its cluster.
	return nil
}

// sendBatch sends pkt to every destination of l in one sendmmsg call
// (more if some fail), instead of one sendto per peer: a heartbeat to 15
// peers is one system call per link.
func (l *link) sendBatch(pkt []byte) (sent int, errs []error) {
	for off := 0; off < len(l.all); {
		n, err := l.batch.writeBatch(pkt, off)
		if n > 0 {
			l.tx.Add(uint64(n))
			l.txB.Add(uint64(n * len(pkt)))
			sent += n
			off += n
		}
		if err != nil || n <= 0 {
			// sendmmsg reports the error of the first message it
			// could not send: count it and go on with the others.
			if err == nil {
				err = errors.New("sendmmsg sent nothing")
			}
			l.txErr.Add(1)
			errs = append(errs, fmt.Errorf("link %s to %s: %w", l.cfg.Name, l.all[off], err))
			off++
		}
	}
	return sent, errs
}
