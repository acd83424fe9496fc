// Package reliable gives control messages (actions, results,
// configuration, fencing requests) reliable, in-order, exactly-once
// delivery per sender over package transport's unreliable datagrams.
//
// Endpoint is the pure core, shaped like go.etcd.io/raft: the caller
// feeds it received frames (Step), peer generations (Observe), time
// (Tick, or Advance by several ticks at once) and messages to send
// (Send), then takes Ready(): the frames to
// transmit, the messages delivered in order, and the messages that can
// no longer be delivered. It does no I/O and reads no clock, so tests
// run it through loss, reordering and duplication in logical time.
//
// Protocol. Each (sender incarnation → receiver incarnation) pair is a
// stream with sequence numbers from 1, numbered by a stream epoch that
// grows whenever the sender resets the stream. A DATA frame carries the
// receiver's generation as the sender knows it (0 before it has heard
// the receiver), the epoch, the sequence number and the payload. The
// receiver acks cumulatively (highest in-order seq delivered) plus a
// 64-bit selective bitmap of frames held beyond it; the ack names the
// data sender's generation and the epoch. The generations of both ends
// come from the transport header, which is authenticated. Unacked frames are retransmitted after RetransmitTicks,
// doubling per attempt up to MaxRetransmitTicks. Because transport sends
// every frame on every link, one surviving link is enough.
//
// Restarts. When a peer's generation changes (seen in any of its frames
// or reported through Observe from its heartbeats), both directions of
// the stream reset: frames we had queued for the old incarnation come
// back in Ready().Failed with ErrPeerRestarted, since the new process
// knows nothing of them and the layer above must decide again (a new
// incarnation means a new membership view anyway). A DATA frame aimed at
// a previous incarnation of us is answered with an ack carrying our
// generation, so the sender learns of the restart even without
// heartbeats. Forget(node) (membership declared it dead) fails its
// queue with ErrPeerForgotten and starts a new epoch, so a peer that was
// alive after all resynchronises instead of waiting for lost numbers.
// Failed means "maybe delivered": the layer above must make actions
// idempotent or re-check (a new view after a death re-plans anyway).
//
// Bounds. Per peer at most SendBuffer messages are queued or in flight
// (Send returns ErrSendBufferFull: back-pressure, the caller retries or
// fails the action), at most Window of them in flight, and at most
// RecvBuffer out-of-order frames are held by the receiver (frames beyond
// are dropped unacked and retransmitted later).
//
// NextDue says how many ticks until the next retransmission, or that
// nothing waits for an acknowledgement: a driver sleeps until then instead
// of ticking, so an idle node has no timer running at all.
//
// Conn is the thin driver: it keeps the Endpoint's ticks in step with the
// wall clock, wakes only when a retransmission is due, sends its frames
// through a transport, and hands deliveries to a channel. Feed it every
// transport.Message whose generation is new (heartbeats too: they carry
// generations):
//
//	c, err := reliable.NewConn(tr, reliable.Config{Self: 1, Generation: gen}, reliable.DefaultTick, log)
//	go c.Run(ctx)
//	for m := range tr.Messages() { c.Handle(m); ... }
//	err := c.Send(2, payload)          // ErrSendBufferFull when full
//	for d := range c.Deliveries() { ... } // in order per sender
//	c.Forget(3)                        // membership declared node 3 dead
//
// Deliveries must be drained: while its buffer is nearly full, Conn
// leaves incoming data unacknowledged (the senders retransmit) rather
// than block. See Example for two nodes over loopback.
package reliable
