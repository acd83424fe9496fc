package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/auth"
	"palisade/cluster/config"
	"palisade/cluster/eventlog"
	"palisade/cluster/membership"
	"palisade/cluster/node/control"
	"palisade/cluster/reliable"
	"palisade/cluster/timerfd"
	"palisade/cluster/transport"
	"palisade/cluster/wire"
)

// Options configure a Node.
type Options struct {
	Config *config.Cluster
	Self   config.Node
	Logger *slog.Logger // nil: slog.Default()
	// EventLog, if set, receives heartbeat_lost, node_lost and
	// node_returned entries for the fault tests' timeline.
	EventLog *eventlog.Log
	// WallClock, if set, puts this node's heartbeats on the wall clock's
	// keepalive phase (see beatDelay): nodes whose clocks agree then send
	// in the same instant, and each receiver drains the burst in one
	// wake-up instead of one per peer. nil sends every keepalive from
	// start-up, unaligned.
	WallClock func() time.Time
}

// Node is one running palisaded.
type Node struct {
	cfg   *config.Cluster // owned by the loop goroutine after Run starts
	cur   atomic.Pointer[config.Cluster]
	self  config.Node
	gen   uint64
	log   *slog.Logger
	elog  *eventlog.Log
	start time.Time
	wall  func() time.Time // Options.WallClock

	tr  *transport.Transport
	rel *reliable.Conn
	mem *membership.Membership

	ops      chan func()
	stepped  map[uint32][]time.Time // per peer, per link: newest receive time stepped
	polled   []transport.Heard      // poll's buffer
	memDrops map[string]uint64
	// reportDue is when the loop must evaluate and call OnTick again at
	// the latest (ReportDue).
	reportDue time.Duration

	mu         sync.Mutex // guards the fields below
	view       membership.View
	onEvent    []func(membership.Event, membership.View)
	onTick     []func(quiet time.Duration)
	onDelivery []func(reliable.Delivery)
	onReload   []func(*config.Cluster)
	handlers   map[string]control.Handler
	dcStatus   func() *api.DCStatus
	running    bool
	// Operator hooks (see operator.go).
	access   control.Policy
	onStatus []func(*api.Status)
	onHeard  []func(Heard)
}

// New loads the key file, prepares the transport and membership and, last,
// bumps the generation on disk (creating state_dir): a configuration that
// fails any of it leaves nothing behind. It opens no sockets: Run does.
func New(opts Options) (*Node, error) {
	c, self := opts.Config, opts.Self
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	keys, err := auth.Load(c.KeyFile)
	if err != nil {
		return nil, err
	}
	links, err := transportLinks(c, self)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", c.File, err)
	}
	// The generation is written last, once everything else is built: a
	// node that cannot start leaves no trace on disk.
	gen, err := NextGeneration(c.StateDir, uint64(time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	log = log.With("self", self.Name)
	tr, err := transport.New(transport.Config{
		Cluster: c.Name, Node: self.ID, Generation: gen, Nodes: c.NodeIDs(),
		Keys: keys, Links: links, Logger: log,
		// A peer silent for warntime may have turned warn or dead: its
		// next heartbeat wakes the loop at once. Shorter silences change
		// nothing membership would act on before the next tick polls.
		CoalesceHeartbeats: c.Timing.Warntime,
	})
	if err != nil {
		return nil, err
	}
	rel, err := reliable.NewConn(tr, reliable.Config{Self: self.ID, Generation: gen}, reliable.DefaultTick, log)
	if err != nil {
		return nil, err
	}
	var ids []membership.NodeID
	for _, id := range c.NodeIDs() {
		ids = append(ids, membership.NodeID(id))
	}
	mem, err := membership.New(membership.Config{
		Self: membership.NodeID(self.ID), Generation: gen, Nodes: ids, Links: len(c.Links), Timing: c.Timing,
	})
	if err != nil {
		return nil, err
	}
	if err := WriteGeneration(c.StateDir, gen); err != nil {
		return nil, err
	}
	n := &Node{
		cfg: c, self: self, gen: gen, log: log, elog: opts.EventLog, wall: opts.WallClock,
		tr: tr, rel: rel, mem: mem,
		ops: make(chan func()), stepped: map[uint32][]time.Time{}, memDrops: map[string]uint64{},
		view:     mem.View(),
		handlers: map[string]control.Handler{},
	}
	n.cur.Store(c)
	return n, nil
}

// Config is the configuration in force (the latest accepted reload).
// Treat it as read-only.
func (n *Node) Config() *config.Cluster { return n.cur.Load() }

// OnReload registers a callback run after a reload was applied, with the
// new configuration (its sections already decoded and validated).
func (n *Node) OnReload(fn func(*config.Cluster)) {
	n.mu.Lock()
	n.onReload = append(n.onReload, fn)
	n.mu.Unlock()
}

// RaiseViewFloor makes this node's later view ids higher than floor (the
// highest view id it persisted). Call it before Run.
func (n *Node) RaiseViewFloor(floor uint64) { n.mem.RaiseViewFloor(floor) }

// Generation is this run's incarnation number.
func (n *Node) Generation() uint64 { return n.gen }

// Self is this node's configuration entry.
func (n *Node) Self() config.Node { return n.self }

// Transport gives later stages direct access (e.g. counters).
func (n *Node) Transport() *transport.Transport { return n.tr }

// OnEvent registers a callback for every membership event, with the view
// after it. Called on the loop goroutine, in order: do not block.
func (n *Node) OnEvent(fn func(membership.Event, membership.View)) {
	n.mu.Lock()
	n.onEvent = append(n.onEvent, fn)
	n.mu.Unlock()
}

// OnTick registers a callback run (on the loop goroutine, after events)
// every time membership has been evaluated against the clock: the DC layer
// uses it to know its view is current (a paused process must not act on
// the view it had before the pause), and quiet, how long ago the member of
// the view heard least recently was heard (an isolated node must stop
// acting before its peers declare it dead). Do not block.
//
// The contract with the DC layer (dc.Coordinator.MembershipTick), which
// acts only while its last tick is younger than StaleAfter (deadtime/2)
// and every member of its view was heard within StaleAfter: the loop
// calls OnTick whenever it wakes for a heartbeat (every keepalive) or a
// membership deadline, and at the latest by ReportDue: just after the
// instant the least recently heard member would make the DC stale, and
// three quarters of StaleAfter after the previous call. The loop sleeps
// in between: there is no fixed tick to rely on.
func (n *Node) OnTick(fn func(quiet time.Duration)) {
	n.mu.Lock()
	n.onTick = append(n.onTick, fn)
	n.mu.Unlock()
}

// OnDelivery registers a callback for reliable messages (in order per
// sender). Deliveries with no callback registered are discarded.
func (n *Node) OnDelivery(fn func(reliable.Delivery)) {
	n.mu.Lock()
	n.onDelivery = append(n.onDelivery, fn)
	n.mu.Unlock()
}

// HandleControl adds a command to the control socket. Register before Run.
func (n *Node) HandleControl(cmd string, h control.Handler) {
	n.mu.Lock()
	n.handlers[cmd] = h
	n.mu.Unlock()
}

// SetDCStatus sets the function that fills Status.DC (the DC layer's
// part), called on each status request on the control goroutine.
func (n *Node) SetDCStatus(fn func() *api.DCStatus) {
	n.mu.Lock()
	n.dcStatus = fn
	n.mu.Unlock()
}

// Send queues a reliable message to node to (see package reliable).
func (n *Node) Send(to uint32, payload []byte) error { return n.rel.Send(to, payload) }

// View returns the current membership view.
func (n *Node) View() membership.View {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.view
	v.Members = append([]membership.Member(nil), v.Members...)
	return v
}

// do runs fn on the loop goroutine and waits for it.
func (n *Node) do(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	select {
	case n.ops <- func() { fn(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-done
	return nil
}

// Status returns a snapshot for `palisade status`.
func (n *Node) Status(ctx context.Context) (api.Status, error) {
	var st api.Status
	if err := n.do(ctx, func() { st = n.buildStatus() }); err != nil {
		return st, err
	}
	n.mu.Lock()
	dc := n.dcStatus
	n.mu.Unlock()
	if dc != nil {
		st.DC = dc()
	}
	n.mu.Lock()
	hooks := n.onStatus
	n.mu.Unlock()
	for _, fn := range hooks {
		fn(&st)
	}
	return st, nil
}

func (n *Node) now() time.Duration { return time.Since(n.start) }

// Run starts the transport and the control socket and runs the loop until
// ctx is done.
func (n *Node) Run(ctx context.Context) error {
	n.mu.Lock()
	if n.running {
		n.mu.Unlock()
		return errors.New("node: Run called twice")
	}
	n.running = true
	handlers := n.handlers
	n.mu.Unlock()

	n.start = time.Now()
	ctl, err := control.ListenWith(n.cfg.Socket, n.log, control.Options{Policy: n.controlPolicy()})
	if err != nil {
		return err
	}
	ctl.Handle(api.CmdStatus, func(ctx context.Context, _ json.RawMessage) (any, error) { return n.Status(ctx) })
	for cmd, h := range handlers {
		ctl.Handle(cmd, h)
	}
	if err := n.tr.Start(); err != nil {
		ctl.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); ctl.Serve(ctx) }()
	go func() { defer wg.Done(); n.rel.Run(ctx) }()
	go func() { defer wg.Done(); n.deliver(ctx) }()
	defer func() {
		n.tr.Close()
		cancel()
		wg.Wait()
	}()

	if n.elog != nil {
		if err := n.elog.Append(eventlog.Entry{Event: eventlog.DaemonStarted, Detail: fmt.Sprintf("generation %d", n.gen)}); err != nil {
			n.log.Warn("event log", "err", err)
		}
	}
	t := n.cfg.Timing
	n.log.Info("palisaded started", "cluster", n.cfg.Name, "node_id", n.self.ID, "generation", n.gen,
		"links", len(n.cfg.Links), "keepalive", t.Keepalive, "warntime", t.Warntime, "deadtime", t.Deadtime,
		"initdead", t.Initdead, "socket", n.cfg.Socket)
	return n.loop(ctx)
}

// loop is the node's goroutine. It sleeps until the next of: a heartbeat
// due (every keepalive), a report due to the DC layer (ReportDue), a
// membership deadline (a peer or link turning warn or dead), a message
// that says something new, or a request. Repeated heartbeats do not wake
// it (the transport coalesces them into LastHeard, polled before the
// clock is applied).
func (n *Node) loop(ctx context.Context) error {
	// A timerfd, not a time.Timer: between heartbeats the runtime then has
	// no Go timer due, so its monitor thread stays asleep (package timerfd).
	timer := timerfd.New()
	defer timer.Close()
	n.sendHeartbeat()
	n.evaluate(n.now())
	nextBeat := n.nextBeat(0, n.now())
	armed := time.Duration(-1)
	msgs := n.tr.Messages()
	for {
		wake := min(nextBeat, n.reportDue)
		if d, ok := n.mem.NextDeadline(); ok && d < wake {
			wake = d
		}
		if wake != armed {
			timer.Reset(wake - n.now())
			armed = wake
		}
		select {
		case <-ctx.Done():
			n.log.Info("palisaded stopping", "generation", n.gen)
			return nil
		case m, ok := <-msgs:
			if !ok {
				return errors.New("node: transport closed")
			}
			n.handle(m)
		case op := <-n.ops:
			op()
		case <-timer.C:
			armed = -1
			now := n.now()
			if now >= nextBeat {
				n.sendHeartbeat()
				nextBeat = n.nextBeat(nextBeat, now)
			}
			n.evaluate(now)
		}
	}
}

// nextBeat is when the heartbeat after the one due at prev (sent at now)
// is due: on the wall clock's keepalive phase when the node has a wall
// clock, else on the grid of keepalives from start-up.
//
// The phase is recomputed at every beat from the wall clock while the
// timer runs on the monotonic clock: a stepped or slewed wall clock moves
// the next beat by at most an eighth of a keepalive, never bunches beats
// and never stretches the gap past keepalive + keepalive/8 (deadtime is
// over two keepalives, membership.Timing.Validate).
func (n *Node) nextBeat(prev, now time.Duration) time.Duration {
	k := n.cfg.Timing.Keepalive
	if n.wall == nil {
		return next(prev, k, now)
	}
	return now + beatDelay(n.wall(), k)
}

// beatDelay is how long after wall the next heartbeat is due: at the
// first multiple of keepalive since the Unix epoch that is at least
// keepalive/8 away, so the delay lies in [keepalive/8, keepalive +
// keepalive/8). A beat sent on the phase (wall a little past a multiple)
// waits about one keepalive; a beat a little early (a wall clock slewed
// back) skips the phase point just ahead instead of sending twice.
func beatDelay(wall time.Time, keepalive time.Duration) time.Duration {
	k := int64(keepalive)
	if k <= 0 {
		return keepalive
	}
	early := int64(keepalive / 8)
	t := wall.UnixNano() + early
	// Time since the last phase point, also for clocks before 1970.
	since := ((t % k) + k) % k
	d := early + k - since
	if since == 0 {
		d = early
	}
	return time.Duration(d)
}

// next is the first point of the grid (prev + k×every) after now; a loop
// that overslept skips the points it missed instead of bunching them.
func next(prev, every, now time.Duration) time.Duration {
	if prev += every; prev <= now {
		prev += (now - prev + every) / every * every
	}
	return prev
}

// ReportDue is when the loop must evaluate membership and call the OnTick
// callbacks again at the latest, after doing so at now with the least
// recently heard member of the view heard quiet ago. It is a deadline, not
// a period: the loop also reports whenever it wakes for a heartbeat (every
// keepalive) or a membership deadline, so with the usual timings it adds
// no wake-up of its own.
//
// Two deadlines of the DC layer's freshness (dc.Coordinator.MembershipTick,
// which acts only while its last tick and the least recently heard member
// are both within StaleAfter):
//   - the instant just after now-quiet+StaleAfter, when that member, if it
//     stayed silent, makes the DC stale: the loop polls then, so a member
//     heard meanwhile (a coalesced heartbeat) keeps the DC fresh and a
//     silent one turns it stale on time, not at some later tick. The DC
//     runtime holds its own steps past that instant until this report
//     arrives (dcrun.Runtime), so a healthy DC never looks stale because
//     the report is a little late;
//   - three quarters of StaleAfter after now, so that the last tick itself
//     never gets older than StaleAfter on a healthy node (a quarter to
//     spare for scheduling delays), however long the keepalive.
func ReportDue(now, quiet time.Duration, t membership.Timing) time.Duration {
	stale := StaleAfter(t)
	due := now + stale*3/4
	if d := now - quiet + stale + 1; d > now && d < due {
		due = d
	}
	return due
}

// StaleAfter is the freshness bound the daemon gives the DC layer
// (dc.Config.StaleAfter): half the deadtime, so an isolated node stops
// deciding well before its peers, at a whole deadtime, declare it dead.
func StaleAfter(t membership.Timing) time.Duration { return t.Deadtime / 2 }

// evaluate brings membership up to now: it steps what the transport
// heard since the last poll (coalesced heartbeats included), applies the
// clock, dispatches the events and calls the OnTick callbacks.
func (n *Node) evaluate(now time.Duration) {
	n.poll()
	n.mem.Tick(now)
	n.flush()
	n.mu.Lock()
	ticks := n.onTick
	n.mu.Unlock()
	quiet := n.mem.Quiet(now)
	n.reportDue = ReportDue(now, quiet, n.cfg.Timing)
	for _, fn := range ticks {
		fn(quiet)
	}
}

func (n *Node) sendHeartbeat() {
	payload, _ := n.mem.Advert().MarshalBinary()
	if err := n.tr.Send(wire.TypeHeartbeat, 0, payload); err != nil {
		n.log.Warn("sending heartbeat", "err", err)
	}
}

func (n *Node) handle(m transport.Message) {
	n.rel.Handle(m)
	if m.Type != wire.TypeHeartbeat {
		// Any authentic packet proves liveness; poll() steps it from
		// LastHeard with the peer's last advert.
		return
	}
	adv, err := membership.ParseAdvert(m.Payload)
	if err != nil {
		n.memDrops["bad_heartbeat_payload"]++
		n.log.Debug("heartbeat payload", "from", m.From, "err", err)
	}
	// Stepping moves membership's clock: first bring every peer's
	// last-heard time up to date (their repeated heartbeats were only
	// recorded in the transport), or a peer heard all along could look
	// silent.
	n.poll()
	n.step(m.From, m.Link, m.Generation, m.ReceivedAt, &adv)
	n.flush()
}

// step feeds one (peer, link) observation to membership. adv nil keeps the
// peer's last advert.
func (n *Node) step(from uint32, link int, gen uint64, at time.Time, adv *membership.Advert) {
	st := n.stepped[from]
	if st == nil {
		st = make([]time.Time, len(n.cfg.Links))
		n.stepped[from] = st
	}
	if link >= 0 && link < len(st) && at.After(st[link]) {
		st[link] = at
	}
	hb := membership.Heartbeat{From: membership.NodeID(from), Link: link, Generation: gen, At: at.Sub(n.start)}
	if adv != nil {
		hb.Advert = *adv
	} else if a, ok := n.mem.PeerAdvert(membership.NodeID(from)); ok {
		hb.Advert = a
	}
	n.heard(from, link, gen, at)
	if err := n.mem.Step(hb); err != nil {
		reason := "membership_refused"
		if errors.Is(err, membership.ErrStaleGeneration) {
			reason = "old_generation"
		}
		n.memDrops[reason]++
		n.log.Debug("heartbeat refused", "from", from, "link", link, "err", err)
	}
}

// poll steps membership for links heard (by any authentic packet,
// including duplicates and coalesced heartbeats the transport did not
// deliver) since last time, oldest first: membership's clock never goes
// back, so stepping in receive order credits each peer with its own
// receive time.
func (n *Node) poll() {
	all := n.tr.AppendHeard(n.polled[:0])
	obs := all[:0] // filtered in place
	for _, h := range all {
		if st := n.stepped[h.Node]; st != nil && h.Link < len(st) && !h.At.After(st[h.Link]) {
			continue
		}
		obs = append(obs, h)
	}
	slices.SortFunc(obs, func(a, b transport.Heard) int { return a.At.Compare(b.At) })
	for _, o := range obs {
		n.step(o.Node, o.Link, o.Generation, o.At, nil)
	}
	n.polled = all
}

// flush logs and dispatches membership events.
func (n *Node) flush() {
	evs := n.mem.Ready()
	if len(evs) == 0 {
		return
	}
	v := n.mem.View()
	n.mu.Lock()
	n.view = v
	listeners := n.onEvent
	n.mu.Unlock()
	viewChanged := false
	for _, ev := range evs {
		n.logEvent(ev)
		if ev.Kind == membership.EventView {
			viewChanged = true
		}
		if ev.Kind == membership.EventNode && ev.To == membership.StateDead {
			n.rel.Forget(uint32(ev.Node))
		}
		for _, fn := range listeners {
			fn(ev, v)
		}
	}
	if viewChanged {
		// Tell peers at once so the view id converges within one round
		// trip instead of one keepalive.
		n.sendHeartbeat()
	}
}

func (n *Node) logEvent(ev membership.Event) {
	name := n.ref(uint32(ev.Node)).Name
	switch ev.Kind {
	case membership.EventNode:
		lvl := slog.LevelInfo
		if ev.To == membership.StateWarn || ev.To == membership.StateDead {
			lvl = slog.LevelWarn
		}
		n.log.Log(context.Background(), lvl, "peer state", "peer", name, "peer_id", ev.Node,
			"from", ev.From.String(), "to", ev.To.String(), "peer_generation", ev.Generation)
		n.eventLog(ev, name)
	case membership.EventLink:
		lvl := slog.LevelInfo
		if ev.To == membership.StateDead {
			lvl = slog.LevelWarn
		}
		n.log.Log(context.Background(), lvl, "link state", "peer", name, "peer_id", ev.Node,
			"link", n.cfg.Links[ev.Link].Name, "from", ev.From.String(), "to", ev.To.String())
	case membership.EventRestart:
		n.log.Warn("peer restarted", "peer", name, "peer_id", ev.Node,
			"old_generation", ev.OldGeneration, "new_generation", ev.Generation)
	case membership.EventView:
		var members []string
		for _, m := range ev.View.Members {
			members = append(members, fmt.Sprintf("%s:%d", n.ref(uint32(m.ID)).Name, m.Generation))
		}
		n.log.Info("view changed", "view", ev.View.ID, "members", members, "dc", n.ref(uint32(ev.View.DC)).Name)
	case membership.EventViewAgreed:
		n.log.Info("view agreed", "view", ev.View.ID, "dc", n.ref(uint32(ev.View.DC)).Name)
	case membership.EventViewDisagreed:
		n.log.Warn("view no longer agreed: a member advertises another view", "view", ev.View.ID)
	}
}

func (n *Node) eventLog(ev membership.Event, name string) {
	if n.elog == nil {
		return
	}
	var e string
	switch {
	case ev.To == membership.StateWarn && ev.From == membership.StateUp:
		e = eventlog.HeartbeatLost
	case ev.To == membership.StateDead && ev.From != membership.StateDead:
		e = eventlog.NodeLost
	case ev.To == membership.StateUp && ev.From == membership.StateDead:
		e = eventlog.NodeReturned
	default:
		return
	}
	if err := n.elog.Append(eventlog.Entry{Event: e, Target: name, View: n.mem.View().ID}); err != nil {
		n.log.Warn("event log", "err", err)
	}
}

// deliver hands reliable deliveries to the registered callbacks, so the
// reliable layer never blocks on a missing consumer.
func (n *Node) deliver(ctx context.Context) {
	ch := n.rel.Deliveries()
	for {
		select {
		case <-ctx.Done():
			return
		case d, ok := <-ch:
			if !ok {
				return
			}
			n.mu.Lock()
			fns := n.onDelivery
			n.mu.Unlock()
			if len(fns) == 0 {
				n.log.Debug("reliable message without consumer", "from", d.From, "bytes", len(d.Payload))
			}
			for _, fn := range fns {
				fn(d)
			}
		}
	}
}
