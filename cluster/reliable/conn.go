package reliable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"palisade/cluster/timerfd"
	"palisade/cluster/transport"
	"palisade/cluster/wire"
)

// ErrConnClosed is returned by Conn.Send after Run has returned.
var ErrConnClosed = errors.New("reliable: connection closed")

// Sender is the part of *transport.Transport that Conn uses.
type Sender interface {
	Send(typ wire.Type, to uint32, payload []byte) error
}

// Conn drives an Endpoint over a transport. Safe for concurrent use.
//
// Logical time follows the wall clock in ticks counted from Run's start,
// but Conn only wakes when a retransmission is due (Endpoint.NextDue):
// with nothing waiting for an acknowledgement it has no timer at all.
type Conn struct {
	tr   Sender
	tick time.Duration
	log  *slog.Logger

	mu         sync.Mutex // guards the fields below, and sends on deliveries
	ep         *Endpoint
	closed     bool
	deliveries chan Delivery
	start      time.Time // tick 0; zero until Run
	ticks      int       // logical time the Endpoint was moved to
	armed      int       // tick Run's timer is set for; 0: none
	rearm      chan struct{}

	// OnFailed, if set before Run, is called (without locks held) for each
	// message that can no longer be delivered.
	OnFailed func(Failure)
}

// DefaultTick is a good Conn tick: with the default RetransmitTicks the
// first retransmission comes after 40ms, backing off to 640ms.
const DefaultTick = 20 * time.Millisecond

// NewConn returns a driver whose logical tick is tick (see DefaultTick).
func NewConn(tr Sender, cfg Config, tick time.Duration, log *slog.Logger) (*Conn, error) {
	ep, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if tick <= 0 {
		return nil, fmt.Errorf("reliable: tick %v: must be positive", tick)
	}
	// Room for several full receive buffers, so a burst does not stall.
	ch := make(chan Delivery, 4*ep.cfg.RecvBuffer)
	return &Conn{tr: tr, tick: tick, log: log.With("component", "reliable"), ep: ep, deliveries: ch,
		rearm: make(chan struct{}, 1)}, nil
}

// Deliveries yields messages in order per sender. Closed when Run returns.
func (c *Conn) Deliveries() <-chan Delivery { return c.deliveries }

// Run retransmits when due until ctx is done, then closes Deliveries.
func (c *Conn) Run(ctx context.Context) {
	c.mu.Lock()
	c.start = time.Now()
	c.ticks = 0
	c.mu.Unlock()
	// A timerfd, like the node loop's (package timerfd: no Go timer due
	// keeps the runtime's monitor thread asleep).
	t := timerfd.New()
	defer t.Close()
	for {
		c.mu.Lock()
		wait, ok := c.arm()
		c.mu.Unlock()
		if ok {
			t.Reset(wait)
		}
		select {
		case <-ctx.Done():
			c.mu.Lock()
			c.closed = true
			close(c.deliveries)
			c.mu.Unlock()
			return
		case <-t.C:
			c.do(func(*Endpoint) {}) // do moves the Endpoint to now
		case <-c.rearm:
		}
		t.Stop()
	}
}

// arm records when the next retransmission is due and how long until
// then (ok false: nothing in flight). Called with mu held.
func (c *Conn) arm() (wait time.Duration, ok bool) {
	n, ok := c.ep.NextDue()
	if !ok {
		c.armed = 0
		return 0, false
	}
	c.armed = c.ticks + n
	return time.Until(c.start.Add(time.Duration(c.armed) * c.tick)), true
}

// sync moves the Endpoint's logical time to the wall clock's tick.
// Called with mu held.
func (c *Conn) sync() {
	if c.start.IsZero() {
		return // Run has not started: time stands still
	}
	if now := int(time.Since(c.start) / c.tick); now > c.ticks {
		c.ep.Advance(now - c.ticks)
		c.ticks = now
	}
}

// Handle feeds one transport message: reliable frames are stepped,
// anything else only reports the sender's generation.
func (c *Conn) Handle(m transport.Message) {
	c.do(func(ep *Endpoint) {
		if m.Type != wire.TypeReliableData && m.Type != wire.TypeReliableAck {
			ep.Observe(m.From, m.Generation)
			return
		}
		// Back-pressure towards the sender: if the consumer of
		// Deliveries is behind, leave the frame unacknowledged; it will
		// be retransmitted. This keeps delivery non-blocking under mu.
		if m.Type == wire.TypeReliableData && cap(c.deliveries)-len(c.deliveries) <= ep.cfg.RecvBuffer {
			return
		}
		if err := ep.Step(m.From, m.Generation, m.Type, m.Payload); err != nil {
			c.log.Warn("bad reliable frame", "node", m.From, "link", m.Link, "err", err)
		}
	})
}

// Send queues payload for node to; ErrSendBufferFull is back-pressure.
func (c *Conn) Send(to uint32, payload []byte) error {
	var err error
	c.do(func(ep *Endpoint) { err = ep.Send(to, payload) })
	if c.isClosed() {
		return ErrConnClosed
	}
	return err
}

// Forget drops a dead peer's streams, failing its queued messages.
func (c *Conn) Forget(node uint32) {
	c.do(func(ep *Endpoint) { ep.Forget(node) })
}

// Pending is how many messages to node are queued or unacknowledged.
func (c *Conn) Pending(node uint32) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ep.Pending(node)
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// do runs f on the Endpoint and performs the resulting Ready: deliveries
// under the lock (to keep their order), sends and failure callbacks after.
func (c *Conn) do(f func(*Endpoint)) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.sync()
	f(c.ep)
	rd := c.ep.Ready()
	for _, d := range rd.Delivered {
		c.deliveries <- d // never blocks: Handle checked the room
	}
	if n, ok := c.ep.NextDue(); ok && (c.armed == 0 || c.ticks+n < c.armed) {
		// Due before Run's timer (or Run has none): wake it to re-arm.
		select {
		case c.rearm <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	for _, fr := range rd.Frames {
		if err := c.tr.Send(fr.Type, fr.To, fr.Payload); err != nil {
			// Retransmission covers it; only worth a debug line.
			c.log.Debug("send frame", "to", fr.To, "type", fr.Type, "err", err)
		}
	}
	for _, fl := range rd.Failed {
		c.log.Info("message not delivered", "to", fl.To, "bytes", len(fl.Payload), "err", fl.Err)
		if c.OnFailed != nil {
			c.OnFailed(fl)
		}
	}
}
