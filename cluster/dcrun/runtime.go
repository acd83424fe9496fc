package dcrun

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/engine"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/cluster/timerfd"
	"palisade/fence/topology"
	"palisade/resources/executor"
)

// Fencer is what the runtime needs from fence/topology.
type Fencer interface {
	Fence(ctx context.Context, target string) topology.Outcome
}

// Executor is what the runtime needs from resources/executor.
type Executor interface {
	Exec(ctx context.Context, op executor.Op) executor.Event
	StartMonitor(op executor.Op) error
	CancelMonitor(rsc string, interval time.Duration) bool
	// ClearFailures resets a resource's fail count (failure-timeout
	// expired, or an operator's cleanup).
	ClearFailures(rsc string)
	SetStartFailureIsFatal(fatal bool)
}

// Config wires a Runtime.
type Config struct {
	Coordinator dc.Config
	// Fencer may be nil when this node has no fencing configured: fence
	// requests then fail (and are retried and alerted), never succeed.
	Fencer Fencer
	// Executor runs this node's resource actions. Its Config.Report must
	// call Runtime.ExecutorEvent. Nil: this node runs no resources.
	Executor Executor
	// Send delivers a payload to node to over reliable messaging. It must
	// not block for long; errors are logged and the DC re-plans on the
	// next change.
	Send   func(to string, payload []byte) error
	Events *eventlog.Log
	Logger *slog.Logger
	// AlertCommand runs (sh -c) for every alert, with the target and
	// message in PALISADE_ALERT_TARGET / PALISADE_ALERT_MESSAGE.
	AlertCommand string
	// Alert, if set, receives every alert instead of the log line and
	// AlertCommand (the daemon's cluster/alert runner: a clean
	// environment, a timeout, metrics). It must not block.
	Alert func(recovery.Alert)
	// TickEvery is how often the loop ticks the engine while something
	// is pending (default 50ms): fence delays and retries, status
	// re-requests, refusal holds, anything within BusyFor of an input or
	// an output.
	TickEvery time.Duration
	// IdleTickEvery is how often it ticks the engine when nothing is
	// pending (default 1s); MembershipTick also ticks it. Idle, the only
	// timed work left is coarse (failure-timeout, lost action results
	// after ActionLost, noticing that membership stopped ticking).
	IdleTickEvery time.Duration
	// Now is the monotonic clock (default eventlog.Mono).
	Now func() time.Duration
	// StateDir keeps the replicated configuration (cib.json) across
	// restarts; "" keeps nothing.
	StateDir string
	// FileDigest identifies the configuration file's resources section
	// this node last started from or had accepted (see Persisted).
	FileDigest string
	// Validate checks resource definitions on this node before a change
	// is proposed (see validateChange); nil: no agent checks.
	Validate Validator
}

// Runtime drives an Engine in one goroutine and performs its Ready:
// messages, executor operations, fencing, persistence and logging. All
// decisions are the Engine's; this is only I/O.
type Runtime struct {
	cfg Config
	eng *engine.Engine
	in  chan input
	log *slog.Logger
	// stopped is closed when Run returns, so late callbacks (a message
	// delivered during shutdown) are dropped instead of blocking forever.
	stopped chan struct{}
	ctx     context.Context

	mu   sync.Mutex
	snap engine.Snapshot

	// Loop goroutine only, for its timer: when the engine was last
	// ticked, until when it counts as busy, when snap was last taken,
	// and whether the input just run was a quiet one (see doQuiet).
	ticked    time.Duration
	busyUntil time.Duration
	snapAt    time.Duration
	quiet     bool

	// Loop goroutine only: when the node daemon last reported membership
	// (MembershipTick) and when, by that report, the least recently heard
	// member was heard; held are the inputs waiting for the report the
	// node owes (see owed).
	reportedAt, heardAt time.Duration
	held                []func()

	// Loop goroutine only: proposals and operator requests waiting for
	// the DC's answer, running fences, and the file digest that goes with
	// the persisted replica.
	waiting    map[string]chan dcmsg.ConfigResult
	answers    map[string]chan dcmsg.OpAnswer
	proposals  uint64
	fences     map[uint64]context.CancelFunc
	fileDigest string
	// validations are parameter checks sent to other nodes, by id.
	validations map[string]validation
	// onSnapshot is called on the loop after every step (OnSnapshot).
	onSnapshot func(engine.Snapshot)
}

// NewRuntime builds the runtime; call Run.
func New(cfg Config) *Runtime {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TickEvery <= 0 {
		cfg.TickEvery = 50 * time.Millisecond
	}
	if cfg.IdleTickEvery <= 0 {
		cfg.IdleTickEvery = time.Second
	}
	cfg.IdleTickEvery = max(cfg.IdleTickEvery, cfg.TickEvery)
	if cfg.Now == nil {
		cfg.Now = eventlog.Mono
	}
	if cfg.Coordinator.Wall == nil {
		cfg.Coordinator.Wall = time.Now
	}
	r := &Runtime{cfg: cfg, eng: engine.New(engine.Config{Coordinator: cfg.Coordinator, Executor: cfg.Executor != nil}),
		in: make(chan input, 1024), log: cfg.Logger, stopped: make(chan struct{}), ctx: context.Background(),
		waiting: map[string]chan dcmsg.ConfigResult{}, answers: map[string]chan dcmsg.OpAnswer{}, fences: map[uint64]context.CancelFunc{},
		validations: map[string]validation{},
		fileDigest:  cfg.FileDigest}
	now := cfg.Now()
	r.eng.MembershipTick(now, 0)
	r.reportedAt, r.heardAt = now, now
	return r
}

// input is one function for the loop; report marks a MembershipTick.
type input struct {
	f      func()
	report bool
}

func (r *Runtime) self() string { return r.cfg.Coordinator.Self }

// do queues f to run on the loop goroutine; after Run returned, f is
// dropped (callers waiting for an answer also watch their context).
func (r *Runtime) do(f func()) { r.send(input{f: f}) }

func (r *Runtime) send(in input) {
	select {
	case r.in <- in:
	case <-r.stopped:
	}
}

// BusyFor is how long after an input (other than membership ticks and
// status reads) or an output of the engine the loop keeps ticking it every
// TickEvery: the timed work an input or output starts (a refusal hold,
// status re-requests while a new DC rebuilds) is due within it, or
// renews it. Longer waits show in the fence states (delays, retries).
const BusyFor = 2 * time.Second

// snapEvery bounds the age of the snapshot kept for Snapshot's fallback
// (the loop busy for seconds) while nothing happens.
const snapEvery = time.Second

// doQuiet is do for inputs that start no timed work (membership ticks,
// status reads): they leave an idle loop on its slow tick.
func (r *Runtime) doQuiet(f func()) {
	r.do(func() {
		f()
		r.quiet = true
	})
}

// Run processes events until ctx ends. The engine is ticked every
// TickEvery while something is pending (see busy), every IdleTickEvery
// otherwise, and on every MembershipTick; the loop sleeps in between.
//
// While the node daemon owes a membership report (see owed), the loop
// runs no input and no tick of its own: they wait, in order, for that
// report, so the engine never judges its freshness on a report the node
// is about to renew.
func (r *Runtime) Run(ctx context.Context) {
	r.ctx = ctx
	r.ticked = r.cfg.Now()
	// A timerfd like the node loop's, for the same reason (package timerfd).
	t := timerfd.New()
	defer t.Close()
	t.Reset(r.cfg.TickEvery)
	defer close(r.stopped)
	armed := r.ticked + r.cfg.TickEvery
	for {
		select {
		case <-ctx.Done():
			return
		case in := <-r.in:
			switch {
			case in.report:
				r.run(in.f)
				r.runHeld()
			case r.owed(r.cfg.Now()):
				r.held = append(r.held, in.f)
			default:
				r.runHeld()
				r.run(in.f)
			}
		case <-t.C:
			armed = -1
			if now := r.cfg.Now(); !r.owed(now) {
				r.runHeld()
				r.tick(now)
			}
		}
		r.flush()
		period := r.cfg.IdleTickEvery
		if r.busy() {
			period = r.cfg.TickEvery
		}
		next := r.ticked + period
		if r.owed(r.cfg.Now()) {
			// Whatever happens, stop waiting once the report is overdue:
			// the engine then sees the node's loop as stalled.
			next = min(next, r.reportedAt+r.cfg.Coordinator.StaleAfter+1)
		}
		if next != armed {
			t.Reset(next - r.cfg.Now())
			armed = next
		}
	}
}

// run runs one input on the loop; an input other than a quiet one
// (doQuiet) keeps the loop ticking for BusyFor.
func (r *Runtime) run(f func()) {
	r.quiet = false
	f()
	if !r.quiet {
		r.busyUntil = r.cfg.Now() + BusyFor
	}
}

// runHeld runs the inputs that waited for a report, in arrival order.
func (r *Runtime) runHeld() {
	for len(r.held) > 0 {
		f := r.held[0]
		r.held = r.held[1:]
		r.run(f)
	}
	r.held = nil
}

// owed reports whether, at now, the node daemon owes a membership report
// the engine's freshness depends on: by the last report, the least
// recently heard member would make the engine stale (heard more than
// StaleAfter ago), but that report was taken before this instant and the
// member may have been heard since (the node evaluates membership just
// after it, see node.ReportDue). Waiting for the report is what keeps a
// healthy DC from looking stale between two reports; it never delays the
// verdict on a stalled node loop, since past StaleAfter after the last
// report nothing is owed any more and the engine sees the report as too
// old.
func (r *Runtime) owed(now time.Duration) bool {
	stale := r.cfg.Coordinator.StaleAfter
	if stale <= 0 {
		return false
	}
	deadline := r.heardAt + stale
	return r.reportedAt < deadline && deadline < now && now <= r.reportedAt+stale
}

func (r *Runtime) tick(now time.Duration) {
	r.eng.Tick(now)
	r.ticked = now
}

// busy reports whether timed work may be pending in the engine: a recent
// input or output, a fence or an answer outstanding, or a node whose
// fence is scheduled (a delay or a retry back-off) or running.
func (r *Runtime) busy() bool {
	if r.cfg.Now() < r.busyUntil || len(r.fences) > 0 || len(r.waiting) > 0 || len(r.answers) > 0 {
		return true
	}
	if g := r.cfg.Coordinator.Gate; g != nil {
		for _, st := range g.Status() {
			if st.State == recovery.StateUnclean || st.State == recovery.StateFencing {
				return true
			}
		}
	}
	return false
}

// hasWork reports whether a Ready asks for anything.
func hasWork(rd engine.Ready) bool {
	return len(rd.Send) > 0 || len(rd.Exec) > 0 || len(rd.Monitors) > 0 || len(rd.Fence) > 0 ||
		len(rd.CancelFence) > 0 || len(rd.ClearFailures) > 0 || len(rd.Alerts) > 0 || len(rd.Log) > 0 ||
		len(rd.Errors) > 0 || len(rd.ConfigResults) > 0 || len(rd.Answers) > 0 || rd.Persist != nil
}

// OnView is called by the node daemon on every membership change (members,
// id or agreement).
func (r *Runtime) OnView(v dcmsg.View) {
	r.do(func() { r.eng.SetView(v, r.cfg.Now()) })
}

// MembershipTick is called by the node daemon each time it evaluated
// membership (a node that was paused decides nothing until it has).
//
// It also ticks the engine: membership ticks come at least every
// keepalive, so an idle loop needs no timer of its own while they do.
func (r *Runtime) MembershipTick(quiet time.Duration) {
	r.send(input{report: true, f: func() {
		now := r.cfg.Now()
		r.reportedAt, r.heardAt = now, now-quiet
		r.eng.MembershipTick(now, quiet)
		r.tick(now)
		r.quiet = true
	}})
}

// Deliver is called by the node daemon for every reliable message of the
// DC protocol received from node from.
func (r *Runtime) Deliver(from string, payload []byte) {
	m, err := dcmsg.Decode(from, payload)
	if err != nil {
		r.log.Warn("dropping coordination message", "from", from, "err", err)
		return
	}
	if r.deliverValidation(m) {
		return
	}
	r.do(func() { r.eng.Deliver(m, r.cfg.Now()) })
}

// ExecutorEvent must be called from the executor's Report callback:
// recurring monitors' results go to the engine (one-shot operations are
// answered through their Exec call). It does not block.
func (r *Runtime) ExecutorEvent(ev executor.Event) {
	if ev.Interval == 0 {
		return
	}
	go r.do(func() { r.eng.MonitorEvent(ev, r.cfg.Now()) })
}

// request sends an operator command to the DC (through the engine) and
// waits for its decision.
func (r *Runtime) request(ctx context.Context, req dcmsg.OpRequest) (dcmsg.OpAnswer, error) {
	c := make(chan dcmsg.OpAnswer, 1)
	r.do(func() {
		r.proposals++
		req.ID = fmt.Sprintf("%s/op%d", r.self(), r.proposals)
		r.answers[req.ID] = c
		r.eng.Request(req, r.cfg.Now())
	})
	select {
	case a := <-c:
		return a, a.Err()
	case <-ctx.Done():
		r.do(func() {
			delete(r.answers, req.ID)
			r.eng.Forget(req.ID)
		})
		return dcmsg.OpAnswer{}, fmt.Errorf("%s: no answer from the DC: %w", req.Op, ctx.Err())
	}
}

// Confirm is the operator's `palisade fence confirm NODE`: the DC decides
// and its answer (or refusal) is returned, on whichever node it is typed.
func (r *Runtime) Confirm(ctx context.Context, node, by string) (dcmsg.OpAnswer, error) {
	return r.request(ctx, dcmsg.OpRequest{Op: dcmsg.OpConfirm, Node: node, By: by})
}

// Cleanup is the operator's `palisade resource cleanup RSC [--node N]`
// (Pacemaker's crm_resource --cleanup): the DC checks it and asks the
// nodes (node, or every member) to clear the fail counts of every
// primitive of rsc and to probe it again.
func (r *Runtime) Cleanup(ctx context.Context, rsc, node, by string) (dcmsg.OpAnswer, error) {
	return r.request(ctx, dcmsg.OpRequest{Op: dcmsg.OpCleanup, Resource: rsc, Node: node, By: by})
}

// Shutdown leaves the cluster cleanly: it asks the DC to move this node's
// resources away and waits until the DC lets it go (the replicated CIB
// lists it as left), so the other nodes will not fence it when it stops.
// Call it on SIGTERM before stopping the node (heartbeats must still run).
// If ctx ends first (no quorum, a stop that hangs...), it returns an error
// and the node will be fenced when it disappears, which is the safe end.
func (r *Runtime) Shutdown(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var lastAsk time.Duration
	asked := false
	for {
		c := make(chan bool, 1)
		r.do(func() {
			if r.eng.Left() {
				c <- true
				return
			}
			if now := r.cfg.Now(); !asked || now-lastAsk > time.Second {
				// Ask again now and then: a new DC does not know.
				asked, lastAsk = true, now
				r.eng.Leave(now)
			}
			c <- false
		})
		select {
		case left := <-c:
			if left {
				r.log.Info("left the cluster cleanly: resources moved away")
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("clean shutdown: %w (the other nodes will fence this node when it stops)", ctx.Err())
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("clean shutdown: %w (the other nodes will fence this node when it stops)", ctx.Err())
		}
	}
}

// Snapshot returns the last coordinator snapshot (for `palisade status`).
func (r *Runtime) Snapshot() engine.Snapshot {
	c := make(chan engine.Snapshot, 1)
	r.doQuiet(func() { c <- r.eng.Snapshot() })
	select {
	case s := <-c:
		return s
	case <-time.After(2 * time.Second):
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.snap
	}
}

// flush performs the engine's Ready (loop goroutine).
func (r *Runtime) flush() {
	rd := r.eng.Ready()
	for _, e := range rd.Log {
		r.appendLog(e)
	}
	for _, err := range rd.Errors {
		r.log.Error("coordinator", "err", err)
	}
	for _, a := range rd.Alerts {
		if r.cfg.Alert != nil {
			r.cfg.Alert(a)
			continue
		}
		r.log.Error("ALERT", "target", a.Target, "detail", a.Message)
		if r.cfg.AlertCommand != "" {
			go r.runAlert(r.ctx, a)
		}
	}
	if rd.Persist != nil {
		// Before any message goes out: an acknowledgement promises the
		// version is on disk.
		r.persist(rd.Persist)
	}
	for _, o := range rd.Send {
		r.sendMsg(o.To, o.Msg)
	}
	for _, rsc := range rd.ClearFailures {
		if r.cfg.Executor != nil {
			r.cfg.Executor.ClearFailures(rsc)
		}
	}
	for _, mr := range rd.Monitors {
		r.monitor(mr)
	}
	for _, x := range rd.Exec {
		go r.exec(x)
	}
	for _, f := range rd.Fence {
		ctx, cancel := context.WithCancel(r.ctx)
		r.fences[f.Ref] = cancel
		go r.fence(ctx, f)
	}
	for _, ref := range rd.CancelFence {
		if cancel, ok := r.fences[ref]; ok {
			r.log.Warn("aborting a fence request: this partition lost quorum, agreement or the DC role", "ref", ref)
			cancel()
		}
	}
	for _, res := range rd.ConfigResults {
		if c, ok := r.waiting[res.ID]; ok {
			delete(r.waiting, res.ID)
			c <- res
		}
	}
	for _, a := range rd.Answers {
		if c, ok := r.answers[a.ID]; ok {
			delete(r.answers, a.ID)
			c <- a
		}
	}
	// The snapshot kept for Snapshot's fallback costs more than an idle
	// loop iteration: take it when something happened, or now and then.
	// A registered OnSnapshot (quorum device, watchdog) gets every step:
	// a view or quorum change may produce no work here yet must reach the
	// device at once, and the watchdog counts steps, not work.
	if now := r.cfg.Now(); r.onSnapshot != nil || hasWork(rd) || now-r.snapAt >= snapEvery {
		if hasWork(rd) {
			r.busyUntil = now + BusyFor
		}
		r.snapAt = now
		r.mu.Lock()
		r.snap = r.eng.Snapshot()
		snap := r.snap
		r.mu.Unlock()
		if r.onSnapshot != nil {
			r.onSnapshot(snap)
		}
	}
}

func (r *Runtime) monitor(mr dc.MonitorRequest) {
	if r.cfg.Executor == nil {
		return
	}
	if !mr.Start {
		go r.cfg.Executor.CancelMonitor(mr.Op.Instance.ID, mr.Op.Interval)
		return
	}
	if err := r.cfg.Executor.StartMonitor(mr.Op); err != nil {
		r.log.Warn("start monitor", "resource", mr.Op.Instance.ID, "err", err)
	}
}

func (r *Runtime) exec(x dc.ExecRequest) {
	if r.cfg.Executor == nil {
		return
	}
	r.cfg.Executor.SetStartFailureIsFatal(x.StartFailureIsFatal)
	ev := r.cfg.Executor.Exec(context.Background(), x.Op)
	r.do(func() { r.eng.ExecDone(x.Ref, ev, r.cfg.Now()) })
}

// runAlert runs the configured alert command; its failure is only logged.
func (r *Runtime) runAlert(ctx context.Context, a recovery.Alert) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", r.cfg.AlertCommand)
	cmd.Env = append(os.Environ(), "PALISADE_ALERT_TARGET="+a.Target, "PALISADE_ALERT_MESSAGE="+a.Message)
	if out, err := cmd.CombinedOutput(); err != nil {
		r.log.Warn("alert command failed", "err", err, "output", string(out))
	}
}

func (r *Runtime) appendLog(e eventlog.Entry) {
	if err := r.cfg.Events.Append(e); err != nil {
		r.log.Warn("event log", "err", err)
	}
}

func (r *Runtime) sendMsg(to string, m dcmsg.Message) {
	if m.From == "" {
		m.From = r.self()
	}
	b, err := dcmsg.Encode(m)
	if err == nil {
		err = r.cfg.Send(to, b)
	}
	if err != nil {
		r.log.Warn("send coordination message", "to", to, "kind", m.Kind, "err", err)
	}
}

func (r *Runtime) fence(ctx context.Context, f engine.FenceExec) {
	var out engine.FenceOutcome
	if r.cfg.Fencer == nil {
		out.Err = "no fencer configured on this node"
	} else {
		o := r.cfg.Fencer.Fence(ctx, f.Target)
		out = engine.FenceOutcomeOf(o)
	}
	r.do(func() {
		delete(r.fences, f.Ref)
		r.eng.FenceDone(f.Ref, out, r.cfg.Now())
	})
}
