package dc

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/fence/topology"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// Fencer is what the runtime needs from fence/topology.
type Fencer interface {
	Fence(ctx context.Context, target string) topology.Outcome
}

// Executor is what the runtime needs from resources/executor.
type Executor interface {
	Exec(ctx context.Context, op executor.Op) executor.Event
	StartMonitor(op executor.Op) error
	Probe(ctx context.Context, insts []agent.Instance) []executor.Event
	// ClearFailures resets a resource's fail count (failure-timeout
	// expired, or an operator's cleanup).
	ClearFailures(rsc string)
}

// RuntimeConfig wires a Runtime.
type RuntimeConfig struct {
	Coordinator Config
	// Fencer may be nil when this node has no fencing configured: fence
	// requests then fail (and are retried and alerted), never succeed.
	Fencer Fencer
	// Executor runs this node's resource actions. Its Config.Report must
	// call Runtime.ExecutorEvent.
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
	// TickEvery is how often the loop ticks the gate (default 50ms).
	TickEvery time.Duration
	// Now is the monotonic clock (default eventlog.Mono).
	Now func() time.Duration
	// StateDir keeps the replicated configuration (cib.json) across
	// restarts; "" keeps nothing.
	StateDir string
	// FileDigest identifies the configuration file's resources section
	// this node last started from or had accepted (see Persisted).
	FileDigest string
}

// Runtime runs a Coordinator in one goroutine and performs its Ready:
// messages, fencing, logging; and it is the member side executing actions.
type Runtime struct {
	cfg   RuntimeConfig
	coord *Coordinator
	in    chan func()
	log   *slog.Logger
	// stopped is closed when Run returns, so late callbacks (a message
	// delivered during shutdown) are dropped instead of blocking forever.
	stopped chan struct{}

	mu     sync.Mutex
	active map[string]bool // member side: resources running here
	fails  map[string]failRecord
	// known keeps the definition of every primitive this node ran or
	// probed, so it can still stop one that a configuration change removed
	// (the DC stops orphans after replicating the configuration).
	known  map[string]*model.Resource
	probed bool
	snap   Snapshot

	// Loop goroutine only: proposals waiting for the DC's answer, and the
	// file digest that goes with the persisted replica.
	waiting    map[string]chan ConfigResult
	proposals  uint64
	fileDigest string
}

// NewRuntime builds the runtime; call Run.
func NewRuntime(cfg RuntimeConfig) *Runtime {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TickEvery <= 0 {
		cfg.TickEvery = 50 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = eventlog.Mono
	}
	r := &Runtime{cfg: cfg, coord: New(cfg.Coordinator), in: make(chan func(), 1024), log: cfg.Logger, stopped: make(chan struct{}),
		active: map[string]bool{}, fails: map[string]failRecord{}, known: map[string]*model.Resource{}, waiting: map[string]chan ConfigResult{}, fileDigest: cfg.FileDigest}
	return r
}

func (r *Runtime) self() string { return r.cfg.Coordinator.Self }

// do queues f to run on the loop goroutine; after Run returned, f is
// dropped (callers waiting for an answer also watch their context).
func (r *Runtime) do(f func()) {
	select {
	case r.in <- f:
	case <-r.stopped:
	}
}

// Run processes events until ctx ends.
func (r *Runtime) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.TickEvery)
	defer t.Stop()
	defer close(r.stopped)
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-r.in:
			f()
		case <-t.C:
			r.coord.Tick(r.cfg.Now())
			r.expireFailures()
		}
		r.flush(ctx)
	}
}

// OnView is called by the node daemon on every membership view change.
func (r *Runtime) OnView(id uint64, members []string, dc string) {
	r.do(func() {
		r.coord.SetView(id, members, dc, r.cfg.Now())
		if dc != r.self() {
			// Report at once: the DC may have asked while our view id was
			// still converging, and it only accepts reports of its view.
			go r.reportStatus(id, dc)
		}
	})
}

// Deliver is called by the node daemon for every reliable message of the
// DC protocol received from node from.
func (r *Runtime) Deliver(from string, payload []byte) {
	m, err := Decode(from, payload)
	if err != nil {
		r.log.Warn("dropping coordination message", "from", from, "err", err)
		return
	}
	r.do(func() { r.handle(m) })
}

// Confirm is the operator's `palisade fence confirm NODE`. On the DC it
// is applied at once; on another member it is forwarded to the DC (the
// returned string says so) and its outcome shows in the DC's log and
// `palisade fence history`.
func (r *Runtime) Confirm(node, by string) (string, error) {
	type answer struct {
		msg string
		err error
	}
	c := make(chan answer, 1)
	r.do(func() {
		if r.coord.IsDC() {
			c <- answer{"confirmed by the DC", r.coord.Confirm(node, by, r.cfg.Now())}
			return
		}
		dc := r.coord.DC()
		if dc == "" || dc == r.self() {
			c <- answer{err: fmt.Errorf("confirm %s: no DC in this partition", node)}
			return
		}
		r.sendMsg(dc, Message{Kind: KindConfirm, View: r.coord.View(), From: r.self(), Target: node, Reason: by})
		c <- answer{msg: "forwarded to the DC " + dc}
	})
	a := <-c
	return a.msg, a.err
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
	lastAsk := time.Time{}
	for {
		c := make(chan bool, 1)
		r.do(func() {
			if r.coord.Left(r.self()) {
				c <- true
				return
			}
			if dc := r.coord.DC(); dc != "" && time.Since(lastAsk) > time.Second {
				// Ask again now and then: a new DC does not know.
				lastAsk = time.Now()
				r.sendMsg(dc, Message{Kind: KindLeave, View: r.coord.View(), From: r.self()})
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
func (r *Runtime) Snapshot() Snapshot {
	c := make(chan Snapshot, 1)
	r.do(func() { c <- r.coord.Snapshot() })
	select {
	case s := <-c:
		return s
	case <-time.After(2 * time.Second):
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.snap
	}
}

func (r *Runtime) handle(m Message) {
	now := r.cfg.Now()
	switch m.Kind {
	case KindStatusRequest:
		if m.View == r.coord.View() {
			go r.reportStatus(m.View, m.From)
		}
		return
	case KindAction:
		if err := CheckView(m.View, r.coord.View()); err != nil {
			r.appendLog(eventlog.Entry{Event: eventlog.ActionRefused, Resource: m.Action.Resource, Node: r.self(), Action: m.Action.Op, View: m.View, Detail: err.Error()})
			r.reply(m.From, m.View, ActionResult{ID: m.Action.ID, Op: m.Action.Op, Resource: m.Action.Resource, Node: r.self(), Refused: true, Reason: err.Error()})
			return
		}
		cib := r.coord.CIB()
		go r.runAction(m.View, m.From, *m.Action, cib.Config)
		return
	case KindCleanup:
		if m.Target == r.self() {
			r.onCleanup(m)
		}
		return
	}
	r.coord.Step(m, now)
}

func (r *Runtime) flush(ctx context.Context) {
	rd := r.coord.Ready()
	for _, e := range rd.Log {
		r.appendLog(e)
	}
	for _, err := range rd.Errors {
		r.log.Error("coordinator", "err", err)
	}
	for _, a := range rd.Alerts {
		r.log.Error("ALERT", "target", a.Target, "msg", a.Message)
		if r.cfg.AlertCommand != "" {
			go r.runAlert(ctx, a)
		}
	}
	for _, o := range rd.Send {
		r.sendMsg(o.To, o.Msg)
	}
	for _, fr := range rd.Fence {
		go r.fence(ctx, fr)
	}
	for _, res := range rd.ConfigResults {
		if c, ok := r.waiting[res.ID]; ok {
			delete(r.waiting, res.ID)
			c <- res
		}
	}
	if rd.Persist != nil {
		r.persist(rd.Persist)
	}
	r.mu.Lock()
	r.snap = r.coord.Snapshot()
	r.mu.Unlock()
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

func (r *Runtime) sendMsg(to string, m Message) {
	if m.From == "" {
		m.From = r.self()
	}
	if to == r.self() {
		// Loop back through the queue so handling order matches remote delivery.
		go r.do(func() { r.handle(m) })
		return
	}
	b, err := Encode(m)
	if err == nil {
		err = r.cfg.Send(to, b)
	}
	if err != nil {
		r.log.Warn("send coordination message", "to", to, "kind", m.Kind, "err", err)
	}
}

func (r *Runtime) fence(ctx context.Context, fr recovery.FenceRequest) {
	res := recovery.FenceResult{Target: fr.Target, Attempt: fr.Attempt}
	if r.cfg.Fencer == nil {
		res.Err = "no fencer configured on this node"
	} else {
		out := r.cfg.Fencer.Fence(ctx, fr.Target)
		for _, s := range out.Steps {
			r.appendLog(eventlog.Entry{Event: eventlog.FenceDevice, Target: fr.Target, Attempt: fr.Attempt, Device: s.Device,
				OK: eventlog.Bool(s.OK && s.VerifiedOff), Detail: fmt.Sprintf("level %d verified_off=%v %s", s.Level, s.VerifiedOff, s.Err)})
		}
		res.OK, res.VerifiedOff, res.Device = out.Confirmed(), out.Confirmed(), out.Devices
		if out.Err != nil {
			res.Err = out.Err.Error()
		}
	}
	r.do(func() { r.coord.FenceResult(res, r.cfg.Now()) })
}

func (r *Runtime) reply(to string, view uint64, res ActionResult) {
	r.do(func() {
		r.sendMsg(to, Message{Kind: KindActionResult, View: view, From: r.self(), Result: &res})
	})
}

// reportStatus answers a DC's status request; the first one after start-up
// probes every configured resource so a new DC learns what really runs here.
func (r *Runtime) reportStatus(view uint64, to string) {
	cfgp := make(chan *CIB, 1)
	r.do(func() { cfgp <- r.coord.CIB() })
	cib := <-cfgp
	r.mu.Lock()
	needProbe := !r.probed && cib.Config != nil && r.cfg.Executor != nil
	r.mu.Unlock()
	if needProbe {
		r.probe(primitives(cib.Config))
		r.mu.Lock()
		r.probed = true
		r.mu.Unlock()
	}
	r.mu.Lock()
	st := r.statusLocked("")
	r.mu.Unlock()
	st.CIB, st.SafetyDigest = cib, r.cfg.Coordinator.SafetyDigest
	r.do(func() { r.sendMsg(to, Message{Kind: KindStatus, View: view, From: r.self(), Status: &st}) })
}

// probedActive reads a probe: running (also promoted, or failed but
// present) counts as active, so the scheduler stops what it must.
func probedActive(ev executor.Event) bool {
	return ev.Result.RC == agent.OK || ev.Result.RC == agent.RunningPromoted || (ev.Result.RC != agent.NotRunning && ev.Result.Status == agent.StatusDone && ev.Failed())
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (r *Runtime) runAction(view uint64, dc string, a Action, cfg *model.Config) {
	res := ActionResult{ID: a.ID, Op: a.Op, Resource: a.Resource, Node: r.self()}
	p := findPrimitive(cfg, a.Resource)
	r.mu.Lock()
	if p != nil {
		r.known[a.Resource] = p
	} else if a.Op == "stop" || a.Op == "demote" || a.Op == "monitor" {
		// Removed from the configuration: still stoppable here.
		p = r.known[a.Resource]
	}
	r.mu.Unlock()
	if p == nil || r.cfg.Executor == nil {
		res.Refused, res.Reason = true, fmt.Sprintf("resource %s is not in this node's configuration", a.Resource)
		r.reply(dc, view, res)
		return
	}
	op := executor.Op{Instance: instance(p, a.Op, a.Interval), Action: agent.Action(a.Op), Interval: a.Interval,
		OnFail: executor.OnFail(onFailOf(p, a.Op, a.Interval)), Ref: fmt.Sprintf("view%d:%d", view, a.ID)}
	if a.Op == "monitor" {
		op.Probe = true
	}
	if s, ok := r.cfg.Executor.(startFatalSetter); ok {
		// The action's configuration is the cluster's at the DC's
		// decision: its options say how a failed start counts.
		s.SetStartFailureIsFatal(startFailureIsFatal(cfg))
	}
	ev := r.cfg.Executor.Exec(context.Background(), op)
	res.RC, res.OK, res.Failed, res.OnFail, res.FailCount = int(ev.Result.RC), !ev.Failed(), ev.Failed(), string(ev.OnFail), ev.FailCount
	switch {
	case a.Op == "start" || a.Op == "promote":
		res.Active = true // a failed start may have left it half running: the scheduler stops it
	case a.Op == "stop":
		res.Active = ev.Failed()
	case a.Op == "monitor":
		res.Active = ev.Result.RC != agent.NotRunning
	}
	r.mu.Lock()
	r.active[a.Resource] = res.Active
	r.setFailLocked(a.Resource, a.Op, ev.FailCount, ev.Failed())
	r.mu.Unlock()
	if a.Op == "start" && res.OK {
		r.appendLog(eventlog.Entry{Event: eventlog.ActionResult, Resource: a.Resource, Node: r.self(), Action: "start", View: view, OK: eventlog.Bool(true)})
		for _, o := range p.Ops {
			if o.Name == "monitor" && o.Interval > 0 {
				iv := time.Duration(o.Interval)
				mop := executor.Op{Instance: instance(p, "monitor", iv), Action: agent.Monitor, Interval: iv, OnFail: executor.OnFail(o.OnFail)}
				if err := r.cfg.Executor.StartMonitor(mop); err != nil {
					r.log.Warn("start monitor", "resource", a.Resource, "err", err)
				}
			}
		}
	}
	r.reply(dc, view, res)
}

// ExecutorEvent must be called from the executor's Report callback: a
// recurring monitor's failure (or recovery) is reported to the DC as a
// status update. It does not block.
func (r *Runtime) ExecutorEvent(ev executor.Event) {
	if ev.Interval == 0 {
		return // one-shot actions are answered by runAction
	}
	go r.do(func() {
		failed := ""
		r.mu.Lock()
		if ev.Failed() {
			r.setFailLocked(ev.Resource, "monitor", ev.FailCount, true)
			failed = ev.Resource
		}
		st := r.statusLocked(failed)
		r.mu.Unlock()
		view := r.coord.View()
		dc := r.coord.DC()
		if ev.Failed() && ev.OnFail == executor.OnFailFence {
			r.sendMsg(dc, Message{Kind: KindFenceRequest, View: view, From: r.self(), Target: r.self(), Reason: fmt.Sprintf("monitor of %s failed (on-fail=fence)", ev.Resource)})
		}
		r.sendMsg(dc, Message{Kind: KindStatus, View: view, From: r.self(), Status: &st})
	})
}
