package main

// The operator's side of the daemon (issue 14): the event log on by
// default and mirrored into the log, the control socket's access groups,
// the Prometheus endpoint, the alert command, and systemd's readiness and
// watchdog. main and attach call into it at a few points; everything
// else lives here.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"palisade/cluster/alert"
	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/dc"
	"palisade/cluster/dcrun"
	"palisade/cluster/engine"
	"palisade/cluster/eventlog"
	"palisade/cluster/membership"
	"palisade/cluster/metrics"
	"palisade/cluster/node"
	"palisade/cluster/recovery"
	"palisade/cluster/sdnotify"
	"palisade/fence/topology"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// Defaults of the operator settings.
const (
	// DefaultReadGroup is Heartbeat's group for status readers; it is
	// used only where it exists.
	DefaultReadGroup = "haclient"
	// eventLogName is the event log's file in state_dir by default.
	eventLogName = "events.jsonl"
	// eventLogOff disables the event log file (the log lines stay).
	eventLogOff = "none"
)

// operatorSettings are the daemon's run-time settings for operators.
type operatorSettings struct {
	MetricsListen string
	ReadGroup     string
	AdminGroup    string
}

// openEventLog opens the event log: --event-log PATH, by default
// state_dir/events.jsonl, "none" for no file. Whatever the file, every
// entry is also a line of the daemon's log (eventlog.Describe), so the
// default log states every fence request, result, confirmation and
// recovery decision. The file is rotated at 64 MiB, three old files kept.
func openEventLog(path string, c *config.Cluster, self string, log *slog.Logger) (*eventlog.Log, error) {
	o := eventlog.Options{Logger: log}
	if path == eventLogOff {
		return eventlog.NewWith(io.Discard, self, o), nil
	}
	if path == "" {
		if err := os.MkdirAll(c.StateDir, 0o750); err != nil {
			return nil, fmt.Errorf("event log: state_dir: %w", err)
		}
		path = filepath.Join(c.StateDir, eventLogName)
	}
	el, err := eventlog.OpenWith(path, self, o)
	if err != nil {
		return nil, err
	}
	log.Info("event log", "file", path, "rotate_at_bytes", eventlog.DefaultMaxBytes, "keep", eventlog.DefaultKeep)
	return el, nil
}

// lookupGroup resolves a group name or number.
func lookupGroup(s string) (*uint32, error) {
	if s == "" {
		return nil, nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		g := uint32(n)
		return &g, nil
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("group %s: gid %q: %w", s, g.Gid, err)
	}
	gid := uint32(n)
	return &gid, nil
}

// observe is the running operator (nil in tests that build the DC layer
// alone: every hook is then a no-op).
var observe *operator

// operator holds the daemon's operator-facing parts.
type operator struct {
	log     *slog.Logger
	cluster *config.Cluster
	self    config.Node
	events  *eventlog.Log
	metrics *metrics.Metrics // nil: no endpoint
	server  *metrics.Server
	alerts  *alert.Runner
	notify  *sdnotify.Notifier
	quorum  quorumInfo
	fencing *topology.Config // nil without a fencing section
	nodeIDs map[string]uint32

	rt   *dcrun.Runtime
	isDC atomic.Bool
	// quorumDetail adds the quorum device's part to the status's quorum
	// (quorumdev.go); nil without a device, heuristics or watchdog.
	quorumDetail atomic.Pointer[func(engine.Snapshot, *api.QuorumStatus)]
	ready        sync.Once
	// running is the replicated configuration last seen (its
	// stonith-action decides the fence action when fencing.action is not
	// set).
	running atomic.Pointer[model.Config]

	mu sync.Mutex
	// lastOn is where each resource last started (or ran when its node
	// was lost), for "resource moved" alerts.
	lastOn map[string]string
	// quorate / wasQuorate: the quorum calculator's last verdict, for
	// quorum lost / regained alerts.
	quorateKnown, quorate, lostAlerted bool
	status                             string
}

// setupOperator builds the operator parts for node n before it runs: the
// access groups, the metrics endpoint (bound now, so a bad address stops
// the start), the alert runner, systemd notification, and the hooks on
// the node and the event log. It sets observe for attach.
func setupOperator(s *operatorSettings, c *config.Cluster, n *node.Node, el *eventlog.Log, log *slog.Logger) (*operator, error) {
	self := n.Self()
	op := &operator{log: log, cluster: c, self: self, events: el, notify: sdnotify.New(log), lastOn: map[string]string{},
		nodeIDs: map[string]uint32{}}
	var names []string
	for _, nd := range c.Nodes {
		names = append(names, nd.Name)
		op.nodeIDs[nd.Name] = nd.ID
	}
	var err error
	if op.quorum, err = newQuorumInfo(c, names); err != nil {
		return nil, err
	}
	op.fencing = c.Fencing

	read, err := lookupGroup(s.ReadGroup)
	if err != nil {
		// Heartbeat's haclient is optional: a machine without it has no
		// readers besides root.
		if s.ReadGroup != DefaultReadGroup {
			return nil, fmt.Errorf("--read-group %s: %w", s.ReadGroup, err)
		}
		read = nil
	}
	admin, err := lookupGroup(s.AdminGroup)
	if err != nil {
		return nil, fmt.Errorf("--admin-group %s: %w", s.AdminGroup, err)
	}
	n.SetAccess(read, admin)
	if read != nil || admin != nil {
		log.Info("control socket access", "socket", c.Socket, "read_group", s.ReadGroup, "read_gid", gidString(read),
			"admin_group", s.AdminGroup, "admin_gid", gidString(admin))
	}

	if s.MetricsListen != "" {
		op.metrics = metrics.New(metrics.Options{Cluster: c.Name, Node: self.Name, Keepalive: c.Timing.Keepalive})
		op.metrics.SetTransport(n.Transport().Counters)
		if op.server, err = metrics.Listen(s.MetricsListen, op.metrics, log); err != nil {
			return nil, err
		}
	}

	acfg := c.Alerts
	if acfg.Command == "" && op.fencing != nil && op.fencing.AlertCommand != "" {
		// fencing.alert_command from before the alerts section: the same
		// runner (clean environment, timeout), PALISADE_ALERT_TARGET kept.
		acfg.Command = op.fencing.AlertCommand
	}
	acfg.Cluster, acfg.LocalNode = c.Name, self.Name
	if op.metrics != nil {
		acfg.Done = op.metrics.AlertDone
	}
	op.alerts = alert.NewRunner(acfg, log.With("part", "alert"))

	el.Observe(op.onEntry)
	n.OnHeard(op.onHeard)
	n.OnEvent(op.onMembership)
	n.OnTick(func(time.Duration) { op.ready.Do(func() { go op.sendReady() }) })
	observe = op
	return op, nil
}

func gidString(g *uint32) string {
	if g == nil {
		return "none"
	}
	return strconv.FormatUint(uint64(*g), 10)
}

// start runs the parts that need the DC runtime: the status view, the
// control commands of simulate --live and the Heartbeat verbs, the alert
// runner, the metrics endpoint, the quorum watcher and the systemd
// watchdog. Call it before n.Run.
func (op *operator) start(ctx context.Context, n *node.Node, rt *dcrun.Runtime) {
	if op == nil {
		return
	}
	op.rt = rt
	// The status answer joins membership with the DC layer in one
	// snapshot (statusView), replacing the plain DC part.
	n.SetDCStatus(nil)
	n.OnStatus(func(st *api.Status) { op.statusView(st, rt.Snapshot()) })
	handleLive(n, rt, op)
	go op.alerts.Run(ctx)
	if op.server != nil {
		go func() {
			if err := op.server.Serve(ctx); err != nil {
				op.log.Error("metrics endpoint stopped", "err", err)
			}
		}()
	}
	go op.watchQuorum(ctx)
	go op.notify.Watchdog(ctx, func() error { return op.healthy(ctx, n) })
}

// healthy is the systemd watchdog's check: the node's loop and the DC
// runtime's loop each answer within a quarter of WatchdogSec. A keep-alive
// from a goroutine that merely runs would hide the hang the watchdog is
// there to catch.
func (op *operator) healthy(ctx context.Context, n *node.Node) error {
	d := max(op.notify.WatchdogInterval()/4, 100*time.Millisecond)
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := n.Ping(pctx); err != nil {
		return fmt.Errorf("node loop does not answer within %v: %w", d, err)
	}
	if _, err := op.rt.ConfigInfo(pctx); err != nil {
		return fmt.Errorf("DC runtime loop does not answer within %v: %w", d, err)
	}
	return nil
}

func (op *operator) sendReady() {
	if err := op.notify.Ready(fmt.Sprintf("node %s of cluster %s running, joining the cluster", op.self.Name, op.cluster.Name)); err != nil {
		op.log.Warn("systemd readiness", "err", err)
	}
}

// reloading and reloaded bracket a SIGHUP reload for systemd.
func (op *operator) reloading() {
	if op == nil {
		return
	}
	if err := op.notify.Reloading(); err != nil {
		op.log.Warn("systemd notification", "err", err)
	}
}

func (op *operator) reloaded() {
	if op == nil {
		return
	}
	op.mu.Lock()
	st := op.status
	op.mu.Unlock()
	if err := op.notify.Ready(st); err != nil {
		op.log.Warn("systemd notification", "err", err)
	}
}

// stopping tells systemd the daemon is leaving (which may take a while).
func (op *operator) stopping() {
	if op == nil {
		return
	}
	if err := op.notify.Stopping("leaving the cluster: handing resources over"); err != nil {
		op.log.Warn("systemd notification", "err", err)
	}
}

// watchQuorum follows the DC layer once a second: quorum metrics and
// alerts (on the calculator's verdict, not on the short transitions while
// a view is agreed), whether this node is DC, and the systemd status line.
func (op *operator) watchQuorum(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := op.rt.Snapshot()
		op.isDC.Store(s.DC == op.self.Name && s.Agreed)
		if s.Config != nil {
			op.running.Store(s.Config)
		}
		q := s.Quorum.State()
		if op.metrics != nil && s.View != 0 {
			op.metrics.Quorum(q.Quorate, q.Votes, q.Expected)
		}
		line := fmt.Sprintf("view %d, DC %s, %s, %d of %d votes", s.View, orNone(s.DC), map[bool]string{true: "quorate", false: "NO QUORUM"}[s.Quorate], q.Votes, q.Expected)
		op.mu.Lock()
		changed := line != op.status
		op.status = line
		var ev *alert.Event
		switch {
		case s.View == 0:
		case !op.quorateKnown:
			op.quorateKnown, op.quorate = true, q.Quorate
		case op.quorate && !q.Quorate:
			op.quorate, op.lostAlerted = false, true
			ev = &alert.Event{Kind: alert.QuorumLost, Node: op.self.Name, Message: "quorum lost: " + q.String()}
		case !op.quorate && q.Quorate:
			op.quorate = true
			if op.lostAlerted {
				op.lostAlerted = false
				ev = &alert.Event{Kind: alert.QuorumRegained, Node: op.self.Name, Message: "quorum regained: " + q.String()}
			}
		}
		op.mu.Unlock()
		if ev != nil {
			op.alerts.Notify(*ev)
		}
		if changed {
			op.notify.Status(line)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// onHeard feeds heartbeat age and loss per peer and link.
func (op *operator) onHeard(h node.Heard) {
	if op.metrics == nil || h.Link < 0 || h.Link >= len(op.cluster.Links) {
		return
	}
	peer := fmt.Sprint(h.From)
	if nd, ok := op.cluster.Node(h.From); ok {
		peer = nd.Name
	}
	op.metrics.Heartbeat(peer, op.cluster.Links[h.Link].Name, h.Generation, h.At)
}

// onMembership counts membership changes.
func (op *operator) onMembership(ev membership.Event, v membership.View) {
	if op.metrics == nil {
		return
	}
	switch ev.Kind {
	case membership.EventNode:
		switch {
		case ev.To == membership.StateDead && ev.From != membership.StateDead:
			op.metrics.MembershipChange(metrics.EventNodeLost)
		case ev.To == membership.StateUp && (ev.From == membership.StateDead || ev.From == membership.StatePending):
			op.metrics.MembershipChange(metrics.EventNodeJoined)
		}
	case membership.EventViewAgreed:
		op.metrics.View(v.ID, len(v.Members))
	}
}

// onEntry turns the DC layer's decisions into alerts and metrics. It runs
// under the event log's lock on the DC runtime's goroutine: it only
// queues (alert.Runner.Notify never blocks) and counts.
func (op *operator) onEntry(source string, e eventlog.Entry) {
	if source != eventlog.SourceDC {
		return
	}
	var ev *alert.Event
	switch e.Event {
	case eventlog.NodeLost:
		op.remember(e.Resources, e.Target)
	case eventlog.FenceNeeded:
		// The DC's record that a node was lost (whether it was DC when
		// membership lost it, or became DC afterwards): one alert per
		// loss. Other reasons (a failed stop) are not a lost node.
		op.remember(e.Resources, e.Target)
		if !strings.HasPrefix(e.Detail, "node lost") && !strings.HasPrefix(e.Detail, "not seen at start-up") {
			return
		}
		msg := e.Detail
		if len(e.Resources) > 0 {
			msg += "; it ran " + strings.Join(e.Resources, ", ") + ", which wait for its fence"
		}
		ev = &alert.Event{Kind: alert.NodeLost, Node: e.Target, NodeID: op.nodeIDs[e.Target], Message: msg}
	case eventlog.DCElected:
		// At once: the moves this DC orders follow right away (the quorum
		// watcher also clears it when the role is lost).
		op.isDC.Store(true)
	case eventlog.NodeLeft:
		if op.metrics != nil {
			op.metrics.MembershipChange(metrics.EventNodeLeft)
		}
	case eventlog.FenceRequested:
		ev = &alert.Event{Kind: alert.FenceRequested, Node: e.Target, NodeID: op.nodeIDs[e.Target], Action: op.fenceAction(nil),
			Message: fmt.Sprintf("fence of %s requested (attempt %d)", e.Target, e.Attempt)}
	case eventlog.FenceConfirmed:
		dev := strings.TrimPrefix(e.By, "device:")
		ev = &alert.Event{Kind: alert.FenceSucceeded, Node: e.Target, NodeID: op.nodeIDs[e.Target], Device: dev, Action: op.fenceAction(nil),
			Message: fmt.Sprintf("%s confirmed fenced by %s", e.Target, e.By)}
	case eventlog.FenceFailed:
		ev = &alert.Event{Kind: alert.FenceFailed, Node: e.Target, NodeID: op.nodeIDs[e.Target], RC: 1, Action: op.fenceAction(nil),
			Message: fmt.Sprintf("fence of %s failed (attempt %d): %s", e.Target, e.Attempt, e.Detail)}
	case eventlog.ActionResult:
		if e.Action != "start" || e.OK == nil || !*e.OK {
			return
		}
		op.mu.Lock()
		from := op.lastOn[e.Resource]
		op.lastOn[e.Resource] = e.Node
		op.mu.Unlock()
		if from != "" && from != e.Node && op.isDC.Load() {
			ev = &alert.Event{Kind: alert.ResourceMoved, Node: e.Node, NodeID: op.nodeIDs[e.Node], Resource: e.Resource, From: from,
				Operation: "start", Message: fmt.Sprintf("%s moved from %s to %s", e.Resource, from, e.Node)}
		}
	}
	if ev != nil {
		op.alerts.Notify(*ev)
	}
}

// remember records where resources ran when their node was lost.
func (op *operator) remember(rscs []string, node string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	for _, r := range rscs {
		op.lastOn[r] = node
	}
}

// dcAlert receives the DC layer's own alerts (a fence that keeps failing,
// a node with other quorum/fencing settings).
func (op *operator) dcAlert(a recovery.Alert) {
	kind := alert.GenericAlert
	if strings.Contains(a.Message, "settings that differ") {
		kind = alert.SafetyMismatch
	}
	op.alerts.Notify(alert.Event{Kind: kind, Node: a.Target, NodeID: op.nodeIDs[a.Target], Message: a.Message})
}

// setQuorumDetail registers the quorum device's part of the status.
func (op *operator) setQuorumDetail(fill func(engine.Snapshot, *api.QuorumStatus)) {
	if op != nil {
		op.quorumDetail.Store(&fill)
	}
}

// alertHook is dcrun.Config.Alert (nil without an operator: the runtime
// then logs and runs fencing.alert_command itself).
func (op *operator) alertHook() func(recovery.Alert) {
	if op == nil {
		return nil
	}
	return op.dcAlert
}

// resourceEvent sees every recorded resource operation of this node's
// executor: metrics by result and duration, and an alert for a failure.
func (op *operator) resourceEvent(ev executor.Event) {
	if op == nil {
		return
	}
	if ev.Result.Status == agent.StatusCancelled {
		return
	}
	opName := string(ev.Action)
	if ev.Probe {
		opName = "probe"
	}
	result := metrics.ResultSuccess
	switch {
	case ev.Result.Status == agent.StatusTimeout:
		result = metrics.ResultTimeout
	case ev.Failed():
		result = metrics.ResultFailure
	}
	if op.metrics != nil {
		op.metrics.ResourceOpDone(ev.Resource, opName, result, ev.Result.Duration)
	}
	if ev.Failed() {
		msg := fmt.Sprintf("%s %s failed on %s: rc %d (%s)", ev.Resource, opName, ev.Node, int(ev.Result.RC), ev.Result.Status)
		if ev.Result.ExitReason != "" {
			msg += ": " + ev.Result.ExitReason
		}
		op.alerts.Notify(alert.Event{Kind: alert.ResourceFailed, Node: ev.Node, NodeID: op.nodeIDs[ev.Node], Resource: ev.Resource,
			Operation: string(ev.Action), Interval: ev.Interval, RC: int(ev.Result.RC), Message: msg})
	}
}

// fencer wraps the fencer for metrics: one request per call, and each
// device step by result and duration.
func (op *operator) fencer(f dcrun.Fencer) dcrun.Fencer {
	if op == nil || op.metrics == nil {
		return f
	}
	return fencerMetrics{f, op.metrics}
}

type fencerMetrics struct {
	dcrun.Fencer
	m *metrics.Metrics
}

func (f fencerMetrics) Fence(ctx context.Context, target string) topology.Outcome {
	f.m.FenceRequested(target)
	o := f.Fencer.Fence(ctx, target)
	for _, s := range o.Steps {
		result := metrics.ResultFailure
		switch {
		case s.OK:
			result = metrics.ResultSuccess
		case strings.Contains(s.Err, "deadline exceeded") || strings.Contains(s.Err, "timed out") || strings.Contains(s.Err, "timeout"):
			result = metrics.ResultTimeout
		}
		f.m.FenceDone(s.Device, result, s.Elapsed)
	}
	if len(o.Steps) == 0 && o.Err != nil {
		// Refused before any device ran (no topology, cancelled).
		result := metrics.ResultFailure
		if errors.Is(o.Err, context.DeadlineExceeded) {
			result = metrics.ResultTimeout
		}
		f.m.FenceDone("none", result, o.Elapsed)
	}
	return o
}

// scheduler wraps the DC's scheduler to time each run.
func (op *operator) scheduler(s dc.Scheduler) dc.Scheduler {
	if op == nil || op.metrics == nil {
		return s
	}
	m := op.metrics
	return func(cfg *model.Config, st model.Status, now time.Time) ([]dc.PlannedAction, error) {
		start := time.Now()
		plan, err := s(cfg, st, now)
		m.SchedulerRun(time.Since(start), len(plan))
		return plan, err
	}
}

// fenceAction is what a fence does: the fencing section's action, else
// the running configuration's stonith-action (cfg, or the last one seen),
// else off.
func (op *operator) fenceAction(cfg *model.Config) string {
	if cfg == nil {
		cfg = op.running.Load()
	}
	return string(config.FenceAction(op.fencing, cfg))
}
