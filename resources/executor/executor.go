package executor

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"palisade/resources/agent"
	"palisade/resources/model"
)

// Config sets up an Executor.
type Config struct {
	Node                string      // this node's name, copied into every Event
	Agent               agent.Agent // usually *agent.Registry
	Report              func(Event) // every recorded result, in order; must not block or call Exec
	Fencing             bool        // stonith enabled (failed stop → fence)
	StartFailureIsFatal bool        // Pacemaker's default is true
	// Metadata tells which parameters a reload applies and which are
	// secrets, for the parameter digests of Event.Ran. Default: Agent, if
	// it is an agent.MetadataSource (the Registry is); without one a
	// changed parameter restarts and the usual secret names are left out.
	Metadata agent.MetadataSource
	Logger   *slog.Logger
	Now      func() time.Time // default time.Now
}

// Executor is the local resource manager of one node.
type Executor struct {
	cfg   Config
	locks fifoLocks

	reportMu sync.Mutex // serializes Record+Report
	mu       sync.Mutex // guards hist, monitors, closed
	hist     History
	monitors map[monitorKey]*monitor
	closed   bool
	wg       sync.WaitGroup
	baseCtx  context.Context
	stopAll  context.CancelFunc
}

// New returns an Executor; call Close to stop its recurring monitors.
func New(cfg Config) *Executor {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Report == nil {
		cfg.Report = func(Event) {}
	}
	if cfg.Metadata == nil {
		if ms, ok := cfg.Agent.(agent.MetadataSource); ok {
			cfg.Metadata = ms
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Executor{
		cfg:      cfg,
		hist:     History{Node: cfg.Node, Fencing: cfg.Fencing, StartFailureIsFatal: cfg.StartFailureIsFatal},
		monitors: map[monitorKey]*monitor{},
		baseCtx:  ctx,
		stopAll:  cancel,
	}
}

// Exec runs one action synchronously, after the actions already queued
// for the same resource, records and reports its result and returns it.
// A stop first cancels the resource's recurring monitors. If ctx is
// cancelled while the action waits or runs, the returned event has Status
// cancelled and is neither recorded nor reported.
func (e *Executor) Exec(ctx context.Context, op Op) Event {
	rsc := op.Instance.ID
	if op.Action == agent.Stop {
		e.cancelMonitors(rsc)
	}
	if err := e.locks.lock(ctx, rsc); err != nil {
		return e.cancelledEvent(op)
	}
	defer e.locks.unlock(rsc)
	ev, _ := e.runLocked(ctx, op, nil)
	return ev
}

// Submit runs op in the background, like Exec; the result arrives through
// Config.Report only. Actions for one resource run in Submit order. After
// Close, Submit does nothing.
func (e *Executor) Submit(op Op) {
	rsc := op.Instance.ID
	if op.Action == agent.Stop {
		e.cancelMonitors(rsc)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.wg.Add(1)
	e.mu.Unlock()
	turn := e.locks.enqueue(rsc) // in the caller's goroutine: keeps order
	go func() {
		defer e.wg.Done()
		select {
		case <-turn:
		case <-e.baseCtx.Done():
			e.locks.abandon(rsc, turn)
			return
		}
		defer e.locks.unlock(rsc)
		e.runLocked(e.baseCtx, op, nil)
	}()
}

// runLocked runs op while holding rsc's lock. filter, if set, decides
// whether a result is recorded and reported at all (recurring monitors
// report changes only, so a steady failure counts once).
func (e *Executor) runLocked(ctx context.Context, op Op, filter func(agent.Result) bool) (Event, bool) {
	inst := op.Instance
	if runsWithStartedParams(op.Action) {
		e.mu.Lock()
		if p, ok := e.hist.StartedParams(inst.ID); ok {
			inst.Params = p
		}
		e.mu.Unlock()
	}
	op.Instance.Params = inst.Params
	inst.Interval = op.Interval
	if op.Timeout > 0 {
		inst.Timeout = op.Timeout
	}
	if _, ok := inst.Meta["on_node"]; !ok && e.cfg.Node != "" {
		// Pacemaker passes the executing node as CRM_meta_on_node; some
		// agents use it to name per-node state.
		inst.Meta = maps.Clone(inst.Meta)
		if inst.Meta == nil {
			inst.Meta = map[string]string{}
		}
		inst.Meta["on_node"] = e.cfg.Node
	}
	started := e.cfg.Now()
	res := e.cfg.Agent.Run(ctx, e.agentAction(ctx, op.Action, inst), inst)
	finished := e.cfg.Now()
	if res.Status == agent.StatusCancelled {
		return e.cancelledEvent(op), false
	}
	if filter != nil && !filter(res) {
		return Event{}, false
	}
	// reportMu keeps reports in record order while letting Report call
	// read-only methods such as Status.
	e.reportMu.Lock()
	defer e.reportMu.Unlock()
	var ran model.ParamRecord
	if recordsParams(op, res) {
		ran = e.paramRecord(ctx, op.Instance)
	}
	e.mu.Lock()
	ev := e.hist.Record(op, res, started, finished)
	e.mu.Unlock()
	ev.Ran = ran
	e.log(ev)
	e.cfg.Report(ev)
	return ev, true
}

// agentAction maps the cluster's reload-agent to what the agent
// advertises: an OCF 1.0 agent reloads with its reload action.
func (e *Executor) agentAction(ctx context.Context, a agent.Action, inst agent.Instance) agent.Action {
	if a != agent.ReloadAgent || e.cfg.Metadata == nil {
		return a
	}
	if md, err := e.cfg.Metadata.Metadata(ctx, inst); err == nil && md.ReloadAction() == agent.Reload {
		return agent.Reload
	}
	return a
}

// runsWithStartedParams: every action on a running resource uses the
// parameters it was started with; only start and reload take new ones.
func runsWithStartedParams(a agent.Action) bool {
	switch a {
	case agent.Start, agent.Reload, agent.ReloadAgent, agent.MetaData, agent.ValidateAll:
		return false
	}
	return true
}

// recordsParams: the operation leaves the resource running with its
// parameters (a start, a reload, a probe that found it running).
func recordsParams(op Op, res agent.Result) bool {
	switch op.Action {
	case agent.Start, agent.Reload, agent.ReloadAgent:
		return true
	case agent.Monitor:
		return op.Interval == 0 && res.Status == agent.StatusDone && (res.RC == agent.OK || res.RC == agent.RunningPromoted)
	}
	return false
}

// paramRecord digests the parameters inst runs with, as Pacemaker's
// controller records them: with the agent's reload support and secrets
// from its meta-data.
func (e *Executor) paramRecord(ctx context.Context, inst agent.Instance) model.ParamRecord {
	var md *agent.Metadata
	if e.cfg.Metadata != nil {
		m, err := e.cfg.Metadata.Metadata(ctx, inst)
		if err != nil {
			e.cfg.Logger.Warn("agent meta-data unavailable: a parameter change will restart the resource", "resource", inst.ID, "err", err)
		}
		md = m
	}
	restart := md.RestartOnly()
	return model.NewParamRecord(inst.Params, restart != nil, restart, md.PrivateParams())
}

func (e *Executor) cancelledEvent(op Op) Event {
	return Event{Node: e.cfg.Node, Resource: op.Instance.ID, Action: op.Action, Interval: op.Interval,
		Probe: op.Probe, Ref: op.Ref, Expected: op.expected(),
		Result: agent.Result{RC: agent.ErrGeneric, Status: agent.StatusCancelled, ExitReason: "cancelled"}}
}

func (e *Executor) log(ev Event) {
	attrs := []any{"node", ev.Node, "resource", ev.Resource, "action", string(ev.Action),
		"rc", int(ev.Result.RC), "status", ev.Result.Status.String(), "duration", ev.Result.Duration}
	if ev.Interval > 0 {
		attrs = append(attrs, "interval", ev.Interval)
	}
	if !ev.Failed() {
		e.cfg.Logger.Info("resource action done", attrs...)
		return
	}
	attrs = append(attrs, "class", ev.Class.String(), "on_fail", string(ev.OnFail),
		"fail_count", ev.FailCount, "reason", ev.Result.ExitReason)
	e.cfg.Logger.Warn("resource action failed", attrs...)
}

// Probe runs a one-shot monitor for each instance to learn what is
// running here (at start-up, or when a new DC rebuilds status). Results
// are recorded and reported like any other action.
func (e *Executor) Probe(ctx context.Context, insts []agent.Instance) []Event {
	out := make([]Event, len(insts))
	var wg sync.WaitGroup
	for i, in := range insts {
		wg.Go(func() {
			out[i] = e.Exec(ctx, Op{Instance: in, Action: agent.Monitor, Probe: true})
		})
	}
	wg.Wait()
	return out
}

// Status returns the recorded state of every resource (last op results,
// fail counts), sorted by resource id.
func (e *Executor) Status() []ResourceStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hist.Status()
}

// StartedParams returns the parameters rsc runs with here: those it was
// started, reloaded or found running with (stop and monitor use them).
func (e *Executor) StartedParams(rsc string) (map[string]string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.hist.StartedParams(rsc)
	return maps.Clone(p), ok
}

// FailCount returns rsc's fail count and last failure time.
func (e *Executor) FailCount(rsc string) (int, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hist.FailCount(rsc)
}

// ClearFailures resets rsc's fail count (operator cleanup or
// failure-timeout expiry).
func (e *Executor) ClearFailures(rsc string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hist.ClearFailures(rsc)
}

// SetStartFailureIsFatal changes how later failed starts count (the
// cluster option start-failure-is-fatal), for when the replicated
// configuration changes it while the node runs.
func (e *Executor) SetStartFailureIsFatal(fatal bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hist.StartFailureIsFatal = fatal
}

// Close cancels all recurring monitors and queued actions and waits for
// running ones to end.
func (e *Executor) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stopAll()
	e.wg.Wait()
}
