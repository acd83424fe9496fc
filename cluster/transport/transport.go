package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"palisade/cluster/auth"
	"palisade/cluster/wire"
)

// ErrClosed is returned by Send after Close, and by Start when called twice.
var ErrClosed = errors.New("transport: closed")

// Transport is one node's set of links. Methods are safe for concurrent use.
type Transport struct {
	cfg   Config
	log   *slog.Logger
	keys  atomic.Pointer[auth.Keyring]
	links []*link
	peers *peerTable
	msgs  chan Message

	sendMu  sync.Mutex
	enc     *wire.Encoder
	encKeys *auth.Keyring
	seq     uint64
	buf     []byte

	delivered atomic.Uint64
	started   atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// link is one open link and its counters.
type link struct {
	index int
	cfg   Link
	conn  *net.UDPConn
	rd    *reader // conn's receive side (see reader)
	// batch sends to every destination in all with one sendmmsg, for
	// sendBatch (nil for fewer than two).
	batch   *batchWriter
	all     []netip.AddrPort            // destinations of "send to all"
	byNode  map[uint32][]netip.AddrPort // unicast destinations per node
	rx, rxB atomic.Uint64
	tx, txB atomic.Uint64
	txErr   atomic.Uint64
	dup     atomic.Uint64
	self    atomic.Uint64
	// coalesced counts heartbeats kept out of Messages
	// (Config.CoalesceHeartbeats).
	coalesced atomic.Uint64
	drops     [numDropReasons]atomic.Uint64
	// dropLogged is when each reason was last logged (unix nanos).
	dropLogged [numDropReasons]atomic.Int64
}

// New validates cfg; it opens no sockets until Start.
func New(cfg Config) (*Transport, error) {
	cfg.Links = append([]Link(nil), cfg.Links...)
	cfg.Nodes = append([]uint32(nil), cfg.Nodes...)
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	t := &Transport{
		cfg:  cfg,
		log:  log.With("component", "transport"),
		msgs: make(chan Message, cfg.QueueLen),
		buf:  make([]byte, 0, wire.MaxPacket),
	}
	t.keys.Store(cfg.Keys)
	t.peers = newPeerTable(cfg.Nodes, cfg.Node, len(cfg.Links), cfg.ReplayWindow)
	for i, lc := range cfg.Links {
		t.links = append(t.links, newLink(i, lc, cfg.Node))
	}
	return t, nil
}

func newLink(i int, lc Link, self uint32) *link {
	l := &link{index: i, cfg: lc, byNode: map[uint32][]netip.AddrPort{}}
	switch lc.Kind {
	case Unicast:
		for _, p := range lc.Peers {
			if p.Node == self {
				continue
			}
			// Unmapped: a udp4 socket can not send to ::ffff:a.b.c.d.
			ap := netip.AddrPortFrom(p.Addr.Addr().Unmap(), p.Addr.Port())
			if ap.Port() == 0 {
				ap = netip.AddrPortFrom(ap.Addr(), lc.port())
			}
			l.all = append(l.all, ap)
			l.byNode[p.Node] = append(l.byNode[p.Node], ap)
		}
	case Multicast:
		l.all = []netip.AddrPort{netip.AddrPortFrom(lc.Group.WithZone(zoneFor(lc)), lc.port())}
	}
	// Broadcast destinations need the interface: filled in by Start.
	return l
}

func zoneFor(lc Link) string {
	if lc.Group.Is6() && lc.Group.IsLinkLocalMulticast() {
		return lc.Interface
	}
	return ""
}

// Start opens and binds every link's socket and starts the receive
// loops. Any link failing to open is an error naming the link; the links
// opened before it are closed again.
func (t *Transport) Start() error {
	if t.closed.Load() || !t.started.CompareAndSwap(false, true) {
		return ErrClosed
	}
	for _, l := range t.links {
		conn, err := openLink(&l.cfg)
		if err != nil {
			t.closeLinks()
			t.started.Store(false) // nothing runs: Start may be tried again
			return fmt.Errorf("transport: link %s (%s): %w", l.cfg.Name, l.cfg.Kind, err)
		}
		l.conn = conn
		if l.rd, err = newReader(conn, wire.MaxPacket+1); err != nil { // +1: oversize shows as malformed
			t.closeLinks()
			t.started.Store(false)
			return fmt.Errorf("transport: link %s: %w", l.cfg.Name, err)
		}
		if l.cfg.Kind == Broadcast {
			ifi, _ := net.InterfaceByName(l.cfg.Interface)
			b, err := l.cfg.broadcastAddr(ifi)
			if err != nil {
				t.closeLinks()
				t.started.Store(false)
				return fmt.Errorf("transport: link %s: %w", l.cfg.Name, err)
			}
			l.all = []netip.AddrPort{netip.AddrPortFrom(b, l.cfg.port())}
		}
		if len(l.all) > 1 {
			if l.batch, err = newBatchWriter(l.conn, l.all); err != nil {
				t.closeLinks()
				t.started.Store(false)
				return fmt.Errorf("transport: link %s: %w", l.cfg.Name, err)
			}
		}
	}
	for _, l := range t.links {
		t.wg.Add(1)
		go t.receive(l)
	}
	t.log.Info("transport started", "node", t.cfg.Node, "generation", t.cfg.Generation, "links", len(t.links))
	return nil
}

// Close stops the receive loops, closes the sockets and then closes the
// Messages channel. Safe to call more than once.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		t.sendMu.Lock() // no Send is mid-write once we hold it
		t.closeLinks()
		t.sendMu.Unlock()
		t.wg.Wait()
		close(t.msgs)
	})
	return nil
}

func (t *Transport) closeLinks() {
	for _, l := range t.links {
		if l.conn != nil {
			l.conn.Close()
		}
	}
}

// Messages delivers accepted, de-duplicated packets. Closed by Close.
func (t *Transport) Messages() <-chan Message { return t.msgs }

// SetKeys switches to a reloaded key file: new packets are signed with
// its active key and verified against its accepted keys.
func (t *Transport) SetKeys(kr *auth.Keyring) {
	if kr != nil {
		t.keys.Store(kr)
	}
}

// LastHeard reports, for every configured peer (not ourselves), when it
// was last heard on each link.
func (t *Transport) LastHeard() []PeerHeard {
	names := make([]string, len(t.links))
	for i, l := range t.links {
		names[i] = l.cfg.Name
	}
	return t.peers.snapshot(t.cfg.Nodes, t.cfg.Node, names)
}

// AppendHeard appends to dst, for every configured peer (not ourselves)
// and every link it was heard on, when it was last heard there. It is
// LastHeard for a caller that polls often (the node loop, before every
// action on the clock): with a reused dst it allocates nothing.
func (t *Transport) AppendHeard(dst []Heard) []Heard {
	return t.peers.appendHeard(dst, t.cfg.Nodes, t.cfg.Node)
}

// Generation is our own incarnation number, as sent.
func (t *Transport) Generation() uint64 { return t.cfg.Generation }

// LinkNames lists the links in index order (Message.Link indexes it).
func (t *Transport) LinkNames() []string {
	names := make([]string, len(t.links))
	for i, l := range t.links {
		names[i] = l.cfg.Name
	}
	return names
}

// Counters returns a snapshot of the traffic and drop counters.
func (t *Transport) Counters() Counters {
	c := Counters{Delivered: t.delivered.Load(), Dropped: map[string]uint64{}}
	for _, r := range DropReasons() {
		c.Dropped[r.String()] = 0
	}
	for _, l := range t.links {
		lc := LinkCounters{
			Name: l.cfg.Name, RxPackets: l.rx.Load(), RxBytes: l.rxB.Load(),
			TxPackets: l.tx.Load(), TxBytes: l.txB.Load(), TxErrors: l.txErr.Load(),
			Duplicates: l.dup.Load(), Self: l.self.Load(), Coalesced: l.coalesced.Load(), Dropped: map[string]uint64{},
		}
		for r := range l.drops {
			if n := l.drops[r].Load(); n > 0 {
				lc.Dropped[DropReason(r).String()] = n
				c.Dropped[DropReason(r).String()] += n
			}
		}
		c.Links = append(c.Links, lc)
	}
	return c
}
