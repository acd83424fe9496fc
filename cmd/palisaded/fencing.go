package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"palisade/cluster/alert"
	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/dcrun"
	"palisade/cluster/eventlog"
	"palisade/cluster/membership"
	"palisade/cluster/node"
	"palisade/cluster/recovery"
	"palisade/cluster/timerfd"
	"palisade/fence"
	"palisade/fence/topology"
	"palisade/resources/model"

	// Fence plugins register themselves with the fence core, so
	// fencing.devices can name fence_ipmilan (and its aliases),
	// fence_redfish, fence_apc_snmp, fence_manual, fence_watchdog, and any
	// installed ClusterLabs agent (plugins/external resolves the rest).
	_ "palisade/plugins/apcsnmp"
	_ "palisade/plugins/external"
	_ "palisade/plugins/ipmi"
	"palisade/plugins/meatware"
	_ "palisade/plugins/redfish"
	"palisade/plugins/watchdog"
)

// fencing is the daemon's fencing stage: the fencer over the configured
// devices (with the priority fencing delay), the device monitor, manual
// fencing (meatware) and watchdog self-fencing, and the operator commands
// about them (fence confirm, history, devices).
//
// Manual fencing and `palisade fence confirm NODE`: a fence_manual level
// waits on this node's meatware_dir (run_dir/meatware unless the device
// names another). When a manual fence of NODE waits on the node where the
// command is typed, the command releases it (meatware.Confirm): the
// attempt succeeds through that device, the fence history records the
// device and who confirmed, and the DC records NODE fenced from the
// attempt's result, as for any device. Otherwise the command goes to the
// DC, which records NODE fenced by the operator and withdraws any fence
// attempt still running for it (the waiting manual level on the DC is
// cancelled with it).
type fencing struct {
	cfg    *topology.Config
	self   string
	nodes  []string
	log    *slog.Logger
	events *eventlog.Log
	fencer *topology.Fencer
	mon    *topology.Monitor
	// meatDirs are the confirmation directories of the manual devices.
	meatDirs []string
	losses   *lossClock
	rt       *dcrun.Runtime
}

// newFencing builds the fencer (nil when fencing.enabled is false) and
// checks what depends on the rest of the configuration: the watchdog
// fence timeouts against the watchdog timeout and the cluster's timing.
func newFencing(self string, c *config.Cluster, fc *topology.Config, events *eventlog.Log, log *slog.Logger) (*fencing, error) {
	f := &fencing{cfg: fc, self: self, log: log.With("part", "fencing"), events: events, losses: newLossClock(time.Now)}
	for _, nd := range c.Nodes {
		f.nodes = append(f.nodes, nd.Name)
	}
	if !fc.Enabled {
		return f, nil
	}
	defaultMeat := filepath.Join(c.RunDir, "meatware")
	var errs []error
	for _, name := range slices.Sorted(mapKeys(fc.Devices)) {
		d := fc.Devices[name]
		p, err := fence.Lookup(d.Plugin)
		if err != nil {
			continue // NewFencer reports it with the device's line
		}
		switch {
		case p.Manual:
			if d.Params[meatware.OptDir] == "" {
				// A copy: the decoded configuration is shared.
				params := map[string]string{meatware.OptDir: defaultMeat}
				for k, v := range d.Params {
					params[k] = v
				}
				d.Params = params
				fc.Devices[name] = d
			}
			if !slices.Contains(f.meatDirs, d.Params[meatware.OptDir]) {
				f.meatDirs = append(f.meatDirs, d.Params[meatware.OptDir])
			}
		case p.Name == watchdog.Plugin.Name:
			if err := f.checkWatchdogFence(c, d, p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// fence_watchdog devices ask when each node was lost; they refuse to
	// open without it.
	watchdog.SetLossClock(f.losses.lostAt)
	meatware.SetAlerter(f.alert)
	fencer, err := topology.NewFencer(fc, quorumDiskAgents(f.self, topology.FenceAgents), topology.WithLogger(f.log))
	if err != nil {
		return nil, err
	}
	f.fencer = fencer
	return f, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(y func(string) bool) {
		for k := range m {
			if !y(k) {
				return
			}
		}
	}
}

func nameOf(c *config.Cluster) func(membership.NodeID) string {
	byID := map[membership.NodeID]string{}
	for _, nd := range c.Nodes {
		byID[membership.NodeID(nd.ID)] = nd.Name
	}
	return func(id membership.NodeID) string { return byID[id] }
}

// watchdogGrace is how long this node may be out of a quorate partition
// (or its DC loop unresponsive) before it stops feeding its watchdog:
// views are transitional for a moment at every membership change.
func watchdogGrace(c *config.Cluster) time.Duration { return c.Timing.Deadtime }

// watchdogLag bounds how much later than its peers a lost node stops
// feeding: it notices the loss up to a keepalive later, waits the grace,
// the health poller and the feeder each add up to an interval.
func watchdogLag(c *config.Cluster, timeout time.Duration) time.Duration {
	return c.Timing.Keepalive + watchdogGrace(c) + healthEvery(c) + timeout/3
}

func healthEvery(c *config.Cluster) time.Duration {
	return max(c.Timing.Keepalive, 100*time.Millisecond)
}

// checkWatchdogFence refuses a fence_watchdog device whose
// watchdog_fence_timeout is not safely above the nodes' watchdog timeout
// (watchdog.CheckFenceTimeout), naming the device and its line.
func (f *fencing) checkWatchdogFence(c *config.Cluster, d topology.Device, p *fence.Plugin) error {
	where := fmt.Sprintf("%s:%d: fencing.devices %s", c.File, d.Line, d.Name)
	if f.cfg.WatchdogTimeout <= 0 {
		return fmt.Errorf("%s: fence_watchdog counts a node fenced by its watchdog: set fencing.watchdog (device, timeout) so the nodes arm one and its watchdog_fence_timeout can be checked against the timeout", where)
	}
	opts, err := fence.Normalize(p, d.Plugin, d.Params)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	ft := opts.Seconds(watchdog.OptFenceTimeout)
	if err := watchdog.CheckFenceTimeout(ft, f.cfg.WatchdogTimeout, watchdogLag(c, f.cfg.WatchdogTimeout)); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// Fence is the DC runtime's fencer: one attempt through the target's
// topology, with Pacemaker's priority fencing delay before its first
// device.
func (f *fencing) Fence(ctx context.Context, target string) topology.Outcome {
	return f.fencer.Do(ctx, topology.Request{Target: target, Delay: f.priorityDelay(ctx, target)})
}

// priorityDelay works out fencing.priority_delay for target from the
// running configuration (resource priorities) and status (what runs
// where) and this partition's members.
func (f *fencing) priorityDelay(ctx context.Context, target string) time.Duration {
	if f.cfg.PriorityDelay <= 0 || f.rt == nil {
		return 0
	}
	snap := f.rt.Snapshot()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ci, err := f.rt.ConfigInfo(cctx)
	if err != nil {
		f.log.Warn("priority fencing delay: no configuration; fencing without it", "target", target, "err", err)
		return 0
	}
	prio := nodePriorities(ci.Config, snap.Status.Resources)
	nodes := make([]topology.NodePriority, 0, len(f.nodes))
	for _, n := range f.nodes {
		nodes = append(nodes, topology.NodePriority{Name: n, Priority: prio[n], Online: slices.Contains(snap.Members, n)})
	}
	d := topology.PriorityDelay(f.cfg.PriorityDelay, target, nodes)
	if d > 0 {
		f.log.Info("priority fencing delay: the target runs the most important resources", "target", target, "delay", d, "priorities", prio)
	}
	return d
}

// nodePriorities adds up, per node, the priority (meta priority, from the
// resource, its group or clone, or rsc_defaults) of the resources active
// there, a promoted instance counting priority+1 when its priority is not
// 0 and failed ones not at all: Pacemaker's node priority for
// priority-fencing-delay.
func nodePriorities(cfg *model.Config, running []model.ResourceStatus) map[string]int {
	out := map[string]int{}
	if cfg == nil {
		return out
	}
	prio := map[string]int{}
	var walk func(rs []*model.Resource, inherited string)
	walk = func(rs []*model.Resource, inherited string) {
		for _, r := range rs {
			v := inherited
			if p, ok := r.Meta["priority"]; ok {
				v = p
			}
			if len(r.Members) > 0 {
				walk(r.Members, v)
				continue
			}
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				prio[r.ID] = n
			}
		}
	}
	walk(cfg.Resources, cfg.RscDefaults["priority"])
	for _, r := range running {
		id, _, _ := strings.Cut(r.Rsc, ":") // clone instance rsc:N
		p := prio[id]
		if p == 0 || r.Failed {
			continue
		}
		if strings.EqualFold(r.Role, "Promoted") || strings.EqualFold(r.Role, "Master") {
			p++
		}
		out[r.Node] += p
	}
	return out
}

// attach hooks the fencing stage to the running DC runtime: the operator
// commands, the device monitor and the watchdog.
func (f *fencing) attach(ctx context.Context, n *node.Node, c *config.Cluster, rt *dcrun.Runtime) error {
	f.rt = rt
	name := nameOf(c)
	n.OnEvent(func(_ membership.Event, mv membership.View) { f.losses.onView(mv, f.nodes, f.self, name) })
	n.HandleControl(api.CmdFenceConfirm, f.handleConfirm)
	n.HandleControl(api.CmdFenceHistory, f.handleHistory)
	n.HandleControl(api.CmdFenceDevices, f.handleDevices)
	if f.fencer != nil && f.cfg.MonitorInterval > 0 {
		f.mon = f.fencer.Monitor(topology.MonitorConfig{Interval: f.cfg.MonitorInterval, Timeout: f.cfg.MonitorTimeout,
			Failures: f.cfg.MonitorFailures, Alert: f.alert, Logger: f.log})
		go f.mon.Run(ctx)
	}
	if f.cfg.WatchdogDevice != "" {
		return f.armWatchdog(ctx, c)
	}
	return nil
}

// alert is the daemon's alert path for fencing (a device that keeps
// failing its monitor, an operator needed for a manual fence): logged as
// ALERT, written to the event log, and given to fencing.alert_command
// like the recovery gate's alerts.
func (f *fencing) alert(target, message string) {
	f.log.Error("ALERT", "target", target, "detail", message)
	if f.events != nil {
		if err := f.events.Append(eventlog.Entry{Event: eventlog.Alert, Target: target, Detail: message}); err != nil {
			f.log.Warn("event log", "err", err)
		}
	}
	if observe != nil {
		// The operator's alert runner (the alerts section, or
		// fencing.alert_command when there is none).
		observe.alerts.Notify(alert.Event{Kind: alert.GenericAlert, Node: target, Message: message})
		return
	}
	if f.cfg.AlertCommand != "" {
		go f.runAlert(target, message)
	}
}

// runAlert runs alert_command with a clean environment (PATH and the
// alert variables: nothing of the daemon's, such as a BMC password given
// by password_env), its process group killed after 30 s.
func (f *fencing) runAlert(target, message string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", f.cfg.AlertCommand)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"PALISADE_ALERT_TARGET=" + target, "PALISADE_ALERT_MESSAGE=" + message}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if out, err := cmd.CombinedOutput(); err != nil {
		f.log.Warn("alert command failed", "err", err, "output", string(out))
	}
}

// handleConfirm is `palisade fence confirm NODE` (see fencing).
func (f *fencing) handleConfirm(ctx context.Context, args json.RawMessage) (any, error) {
	var a api.ConfirmRequest
	if err := decodeArgs(args, &a, `{"node": NAME, "by": WHO}`); err != nil {
		return nil, err
	}
	if a.Node == "" {
		return nil, api.Errorf(api.BadRequest, "fence confirm: a node is needed")
	}
	cctx, cancel := context.WithTimeout(ctx, api.OperatorTimeout)
	defer cancel()
	for _, dir := range f.meatDirs {
		if p, _ := meatware.Pending(dir); !slices.Contains(p, a.Node) {
			continue
		}
		err := meatware.Confirm(cctx, dir, a.Node, a.By+" (palisade fence confirm on "+f.self+")")
		if errors.Is(err, meatware.ErrNotWaiting) {
			break // it stopped waiting meanwhile: the DC decides
		}
		if err != nil {
			return nil, api.Errorf(api.Refused, "fence confirm %s: releasing the manual fence waiting on %s: %v", a.Node, f.self, err)
		}
		f.log.Warn("manual fence released by an operator", "node", a.Node, "by", a.By)
		return f.waitFenced(cctx, a.Node)
	}
	ans, err := f.rt.Confirm(cctx, a.Node, a.By)
	if err != nil {
		return nil, opError(ans, err)
	}
	return api.ConfirmResponse{Node: a.Node, DC: ans.DC, Result: ans.Result}, nil
}

// waitFenced waits until the DC recorded node fenced after a released
// manual fence, so the operator learns that recovery may proceed.
func (f *fencing) waitFenced(ctx context.Context, node string) (any, error) {
	for {
		s := f.rt.Snapshot()
		for _, st := range s.Fencing {
			if st.Node == node && st.State == recovery.StateFenced {
				return api.ConfirmResponse{Node: node, DC: s.DC,
					Result: fmt.Sprintf("released the manual fence level waiting on %s; the DC %s recorded %s fenced (%s)", f.self, s.DC, node, st.By)}, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, api.Errorf(api.Timeout, "fence confirm %s: the manual fence waiting on %s was released, but the DC has not recorded %s fenced yet; see palisade fence history", node, f.self, node)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// handleHistory is `palisade fence history`: the gate's node states and
// the replicated history.
func (f *fencing) handleHistory(context.Context, json.RawMessage) (any, error) {
	s := f.rt.Snapshot()
	h := api.History{Node: f.self, Nodes: fenceNodes(s.Fencing), Attempts: []api.FenceAttempt{}}
	for _, e := range s.History {
		a := api.FenceAttempt{ID: e.ID, Target: e.Target, Action: e.Action, Level: e.Level, Devices: e.Devices, Origin: e.Origin,
			Reason: e.Reason, Executor: e.Executor, Attempt: e.Attempt, Start: e.Start, End: e.End, Elapsed: e.End.Sub(e.Start),
			Result: string(e.Result), Error: e.Error}
		for _, st := range e.Steps {
			a.Steps = append(a.Steps, api.FenceStep{Level: st.Level, Device: st.Device, OK: st.Result == fence.ClassOK, VerifiedOff: st.Result == fence.ClassOK,
				Result: string(st.Result), Error: st.Error, Delay: st.Delay, Elapsed: st.Elapsed, Note: st.Note})
		}
		h.Attempts = append(h.Attempts, a)
	}
	return h, nil
}

// handleDevices is `palisade fence devices`.
func (f *fencing) handleDevices(context.Context, json.RawMessage) (any, error) {
	out := api.Devices{Node: f.self, Devices: []api.FenceDevice{}}
	if f.mon == nil {
		for _, name := range slices.Sorted(mapKeys(f.cfg.Devices)) {
			out.Devices = append(out.Devices, api.FenceDevice{Name: name, Plugin: f.cfg.Devices[name].Plugin, Unmonitored: "monitoring is off"})
		}
		return out, nil
	}
	out.Interval = f.cfg.MonitorInterval
	for _, d := range f.mon.Devices() {
		out.Devices = append(out.Devices, api.FenceDevice{Name: d.Device, Plugin: d.Plugin, Targets: d.Targets, Unmonitored: d.Unmonitored,
			Checked: d.Checked, OK: d.OK, Result: string(d.Result), Error: d.Error, Time: d.Time, Latency: d.Latency, Reused: d.Reused,
			State: d.State, Failures: d.Failures, Alerted: d.Alerted, Checks: d.Checks, Failed: d.Failed, Skipped: d.Skipped})
	}
	return out, nil
}

// armWatchdog arms this node's watchdog and feeds it while this node is
// healthy: its DC loop answers, and it has been in a quorate partition
// within the grace (once it has been in one at all: a node that never
// joined a quorate partition runs nothing). A clean shutdown (ctx ends)
// disarms it; a node that stopped feeding resets.
func (f *fencing) armWatchdog(ctx context.Context, c *config.Cluster) error {
	path := f.cfg.WatchdogDevice
	if file, ok := strings.CutPrefix(path, "stand-in:"); ok && !filepath.IsAbs(file) {
		// The stand-in (tests of the daemon as a process) records under
		// this node's state_dir when given a relative file.
		path = "stand-in:" + filepath.Join(c.StateDir, file)
	}
	dev, err := watchdog.Open(path)
	if err != nil {
		return fmt.Errorf("%s: fencing.watchdog.device: %w", c.File, err)
	}
	h := &health{grace: watchdogGrace(c), now: time.Now, last: time.Now()}
	w, err := watchdog.New(dev, watchdog.Config{Timeout: f.cfg.WatchdogTimeout, Healthy: h.healthy, Logger: f.log})
	if err != nil {
		dev.Close()
		return fmt.Errorf("%s: fencing.watchdog: %w", c.File, err)
	}
	go h.poll(ctx, f.rt, healthEvery(c))
	go func() {
		if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			f.log.Warn("watchdog feeder stopped", "err", err)
		}
		if ctx.Err() != nil {
			if err := w.Stop(); err != nil {
				f.log.Error("watchdog", "err", err)
			}
		}
	}()
	return nil
}

// health is the watchdog's predicate, fed by a poller of the DC runtime.
type health struct {
	grace time.Duration
	now   func() time.Time

	mu          sync.Mutex
	last        time.Time // the DC loop last answered promptly
	everQuorate bool
	quorateAt   time.Time
}

func (h *health) poll(ctx context.Context, rt *dcrun.Runtime, every time.Duration) {
	// On a timerfd, like the node loop, so that a daemon with a watchdog
	// still has no Go timer due between heartbeats (package timerfd). The
	// polls keep a grid of every (as a ticker would): watchdogLag counts
	// on at most every between them.
	t := timerfd.New()
	defer t.Close()
	next := time.Now()
	for {
		next = next.Add(every)
		start := h.now()
		s := rt.Snapshot()
		// Snapshot falls back to a cached copy after 2 s: a loop that
		// takes that long does not count as answering.
		prompt := h.now().Sub(start) < time.Second
		h.mu.Lock()
		if prompt {
			h.last = h.now()
			if s.Quorate && s.Agreed {
				h.everQuorate, h.quorateAt = true, h.now()
			}
		}
		h.mu.Unlock()
		if now := time.Now(); next.Before(now) {
			next = now // overslept (a slow Snapshot): poll at once, then resume the grid from here
		}
		t.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *health) healthy() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if d := now.Sub(h.last); d > h.grace {
		return false, fmt.Sprintf("the DC loop has not answered for %v", d.Round(time.Millisecond))
	}
	if d := now.Sub(h.quorateAt); h.everQuorate && d > h.grace {
		return false, fmt.Sprintf("not in a quorate partition for %v", d.Round(time.Millisecond))
	}
	return true, ""
}

// lossClock records when this node's partition lost each node: the first
// agreed view without it, after it was last seen in any view (for a node
// never seen, the first agreed view). fence_watchdog counts from there.
type lossClock struct {
	now  func() time.Time
	mu   sync.Mutex
	lost map[string]time.Time
}

func newLossClock(now func() time.Time) *lossClock {
	return &lossClock{now: now, lost: map[string]time.Time{}}
}

func (l *lossClock) onView(mv membership.View, nodes []string, self string, name func(membership.NodeID) string) {
	if mv.ID == 0 {
		return
	}
	in := map[string]bool{}
	for _, m := range mv.Members {
		in[name(m.ID)] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range nodes {
		switch _, lost := l.lost[n]; {
		case n == self:
		case in[n]:
			delete(l.lost, n)
		case mv.Agreed && !lost:
			l.lost[n] = l.now()
		}
	}
}

func (l *lossClock) lostAt(node string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.lost[node]
	return t, ok
}
