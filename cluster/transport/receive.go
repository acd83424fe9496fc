package transport

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"palisade/cluster/auth"
	"palisade/cluster/wire"
)

// dropLogEvery spaces out log lines about dropped packets.
const dropLogEvery = 10 * time.Second

// receive is one link's loop. It owns its reader's buffers and Decoder, never
// blocks on anything but the socket, and exits when the socket closes.
func (t *Transport) receive(l *link) {
	defer t.wg.Done()
	var dec *wire.Decoder
	var decKeys *auth.Keyring
	var lastErrLog time.Time
	each := func(pkt []byte, from netip.AddrPort) {
		l.rx.Add(1)
		l.rxB.Add(uint64(len(pkt)))
		if kr := t.keys.Load(); kr != decKeys {
			dec, decKeys = wire.NewDecoder(t.cfg.Cluster, kr.Accepted()...), kr
		}
		m, err := dec.Decode(pkt)
		if err != nil {
			var r wire.Reason
			errors.As(err, &r)
			t.drop(l, dropFromWire(r), from, 0)
			return
		}
		t.handle(l, &m, from)
	}
	for {
		err := l.rd.Each(each)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		// Transient (ICMP errors and the like): log at most once a
		// second and keep reading.
		if time.Since(lastErrLog) > time.Second {
			t.log.Warn("receive error", "link", l.cfg.Name, "err", err)
			lastErrLog = time.Now()
		}
		time.Sleep(time.Millisecond)
	}
}

func (t *Transport) handle(l *link, m *wire.Message, from netip.AddrPort) {
	if m.From == t.cfg.Node {
		l.self.Add(1) // our own multicast/broadcast echo
		return
	}
	if int(m.Link) != l.index {
		// Authentic, but sent on another link: a capture replayed here,
		// perhaps to make a cut link look alive.
		t.drop(l, DropReplay, from, m.From)
		return
	}
	now := time.Now()
	forUs := m.To == 0 || m.To == t.cfg.Node
	var window time.Duration // coalesce within it; 0: never
	if forUs && m.Type == wire.TypeHeartbeat {
		window = t.cfg.CoalesceHeartbeats
	}
	var queue func() bool
	if forUs {
		queue = func() bool {
			msg := Message{
				From: m.From, Link: l.index, Generation: m.Generation, Seq: m.Seq,
				SentAt: time.Unix(0, m.SentAt), ReceivedAt: now, Type: m.Type, To: m.To,
				Payload: append([]byte(nil), m.Payload...),
			}
			select {
			case t.msgs <- msg:
				return true
			default:
				return false
			}
		}
	}
	v, reason := t.peers.admit(m.From, m.Generation, m.Seq, l.index, now, m.Payload, window, queue)
	switch v {
	case queued:
		t.delivered.Add(1)
	case dropped:
		t.drop(l, reason, from, m.From)
	case duplicate:
		l.dup.Add(1)
	case coalesced:
		l.coalesced.Add(1) // a sign of life in LastHeard, nothing new to queue
	case accept:
		// Authentic and a sign of life, but addressed to another node
		// (multicast, broadcast).
		t.drop(l, DropNotForUs, from, m.From)
	}
}

func (t *Transport) drop(l *link, r DropReason, from netip.AddrPort, node uint32) {
	n := l.drops[r].Add(1)
	// A flood must not become a log flood: one line per reason and link
	// every dropLogEvery, with the running count. Forgery-type drops are
	// warnings (someone sends what they should not); the rest debug.
	now := time.Now().UnixNano()
	last := l.dropLogged[r].Load()
	if now-last < int64(dropLogEvery) || !l.dropLogged[r].CompareAndSwap(last, now) {
		return
	}
	level := slog.LevelDebug
	switch r {
	case DropBadMAC, DropUnknownKey, DropReplay, DropUnknownNode, DropWrongCluster:
		level = slog.LevelWarn
	}
	t.log.Log(context.Background(), level, "packet dropped", "link", l.cfg.Name, "reason", r.String(),
		"src", from, "node", node, "total", n)
}
