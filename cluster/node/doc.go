// Package node is palisaded's control loop: it bumps the on-disk
// generation, runs the transport on every configured link, sends a
// heartbeat every keepalive, feeds received heartbeats and the clock to the
// membership state machine, logs every transition with slog, drives
// reliable delivery, and serves the local control socket (`palisade
// status`).
//
//	n, err := node.New(node.Options{Config: cfg, Self: self, Logger: log})
//	n.OnEvent(func(ev membership.Event, v membership.View) { ... })   // hooks: register before Run
//	n.OnDelivery(func(d reliable.Delivery) { ... })
//	n.HandleControl("fence-confirm", handler)
//	n.AddStatus("quorum", func() any { return q.Status() })
//	n.OnReload(func(c *config.Cluster) { ... c.Quorum, c.Fencing ... })
//	err = n.Run(ctx)                 // until ctx is done
//	n.Send(2, payload)               // reliable, in order per sender (package reliable)
//	v := n.View()                    // current view: ID, Members, DC, Agreed
//	n.Reload(ctx, newCfg)            // SIGHUP: key file and decoded sections; other changes need a restart
//
// Threading: one goroutine (Run's) owns the membership machine. OnEvent
// callbacks run on it, in order, and must not block; OnDelivery callbacks
// run on a separate goroutine. View, Status, Send and Reload are safe from
// any goroutine.
//
// Liveness input: the transport de-duplicates packets that arrive on
// several links and keeps heartbeats that repeat the last one out of the
// loop's way (transport.Config.CoalesceHeartbeats: only a changed advert,
// a new generation, or a peer back after warntime of silence is queued).
// The loop polls Transport.LastHeard before it applies the clock (every
// tick, every membership deadline, before stepping a queued heartbeat)
// and steps membership for each link heard since, in receive order, so
// per-link states and receive times stay exact while the loop wakes only
// for what changed.
//
// Timers: the loop has no fixed short tick. It sleeps until the next
// heartbeat to send (every keepalive), the next report the DC layer is
// owed (ReportDue, for the OnTick callbacks) or the next membership deadline
// (membership.NextDeadline: a peer or link turning warn or dead, initdead),
// whichever comes first; detection is therefore not rounded up to a tick.
// The timer is a timerfd (package timerfd), not a time.Timer, so that
// between heartbeats the Go runtime has no timer due and its monitor
// thread stays asleep.
package node
