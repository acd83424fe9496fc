package main

// The arbitration half of the daemon: the quorum section's device (a quorum
// disk or a palisade-arbiter), the ping heuristics, the node's watchdog and
// no_quorum_policy suicide, wired around the DC runtime.
//
// The engine (cluster/engine, with quorum.Tracker) decides quorum; this file only carries facts in
// and out of it:
//
//   - in: the device's verdict on the view the device was last told about,
//     with its lease end on the engine's clock (dcrun.SetDeviceVote), at
//     every change and every tick; the ping score as the node attribute
//     (pingd) location rules use.
//   - out: every agreed view, with the partition's quorum, the node's score
//     and whether it runs resources, to the device (arbiter.Client.SetView,
//     disk.Runner.SetInput); a lost quorum under no_quorum_policy suicide
//     to the watchdog and the reset.
//
// Safety: a grant is only ever released to the device (an arbiter Release,
// a disk slot that shows the revocation) after the engine stopped counting
// it (OnRelease / disk.Config.BeforeRelease push the new verdict and wait
// until it is applied), and every verdict goes to the engine under one
// lock, read and pushed together, so a stale "voting" can never overtake a
// newer "not voting".

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/dcrun"
	"palisade/cluster/engine"
	"palisade/cluster/eventlog"
	"palisade/cluster/node"
	"palisade/fence/topology"
	"palisade/plugins/watchdog"
	"palisade/quorum"
	"palisade/quorum/arbiter"
	"palisade/quorum/arbitration"
	"palisade/quorum/disk"
	"palisade/quorum/ping"
)

// eventSelfFence is logged when this node fences itself (poison pill,
// eviction by the disk's master, no_quorum_policy suicide).
const eventSelfFence = "self_fence"

// quorumDiskPlugin names the quorum disk's poison pill as a device of the
// fencing topology:
//
//	fencing:
//	  devices:
//	    - {name: pill-n2, plugin: quorum_disk, params: {devices: /dev/sdb, plug: n2}}
//	  topology: {n2: [[pill-n2]]}
const quorumDiskPlugin = "quorum_disk"

// quorumDiskAgents builds quorum_disk devices (disk.FenceAgent, this node
// named as the sender of its pills) and leaves every other plugin to next.
func quorumDiskAgents(self string, next topology.AgentFactory) topology.AgentFactory {
	return func(d topology.Device) (topology.Agent, error) {
		if d.Plugin != quorumDiskPlugin {
			return next(d)
		}
		a, err := disk.NewFenceAgent(d.Params, self)
		if err != nil {
			return nil, fmt.Errorf("fence device %s (line %d): %w", d.Name, d.Line, err)
		}
		return a, nil
	}
}

// sectionPolicy is the policy the quorum section imposes on the scheduler
// ("" when the section leaves it to the resources' option).
func sectionPolicy(qs *quorum.Section) quorum.NoQuorumPolicy {
	if qs.PolicySet {
		return qs.Policy
	}
	return ""
}

// deviceInput is what the device was last told.
type deviceInput struct {
	view    uint64
	members []string
	score   int
	held    bool
	quorate bool
}

func (a deviceInput) equal(b deviceInput) bool {
	return a.view == b.view && slices.Equal(a.members, b.members) && a.score == b.score && a.held == b.held && a.quorate == b.quorate
}

// quorumDev is the daemon's arbitration wiring (see the top of the file).
type quorumDev struct {
	log    *slog.Logger
	events *eventlog.Log
	self   string
	qs     *quorum.Section
	policy quorum.NoQuorumPolicy
	votes  int // the device's votes
	rt     *dcrun.Runtime

	arb    *arbiter.Client
	disk   *disk.Runner
	pinger *ping.Pinger

	wdDev     watchdog.Device // nil without quorum.watchdog
	wdTimeout time.Duration
	standIn   bool
	feeder    *watchdog.Watchdog // the watchdog when no disk feeds it

	snapMu   sync.Mutex
	snap     engine.Snapshot
	lastLoop time.Duration // runtime clock of the last snapshot
	snapCh   chan struct{}

	// pushMu orders everything that reaches the engine or the device.
	pushMu   sync.Mutex
	in       deviceInput
	hasInput bool
	pushed   quorum.ViewVote

	fenceMu  sync.Mutex
	fenced   string // why this node fenced itself ("" while it has not)
	starving string // why the watchdog is no longer fed

	// loop goroutine only
	wasQuorate bool
	score      int
	published  bool
}

// attachQuorumDevice wires the quorum device, the heuristics, the watchdog
// and no_quorum_policy suicide into rt and the node's status. It opens
// the quorum disk (refusing unsafe timings), the arbiter client and the
// ICMP sockets now, so that a bad setting stops the daemon at start.
func attachQuorumDevice(ctx context.Context, n *node.Node, rt *dcrun.Runtime, c *config.Cluster, qs *quorum.Section, policy quorum.NoQuorumPolicy,
	fc *topology.Config, names []string, events *eventlog.Log, log *slog.Logger) error {
	self := n.Self().Name
	q := &quorumDev{log: log.With("part", "quorum"), events: events, self: self, qs: qs, policy: policy, rt: rt, snapCh: make(chan struct{}, 1)}
	calc, err := quorum.New(qs.Config)
	if err != nil {
		return fmt.Errorf("%s: quorum: %w", c.File, err)
	}
	q.votes = calc.DeviceVotes()
	var nodes []arbitration.Node
	for _, nm := range names {
		nodes = append(nodes, arbitration.Node{Name: nm, Votes: qs.Config.Nodes[nm]})
	}
	if w := qs.Watchdog; w != nil {
		dev, err := watchdog.Open(w.Device)
		if err != nil {
			return fmt.Errorf("quorum.watchdog %s: %w", w.Device, err)
		}
		q.wdDev, q.standIn = dev, strings.HasPrefix(w.Device, "stand-in:")
		if q.standIn {
			q.log.Warn("quorum.watchdog is a stand-in: it records feeds but resets nothing; never use it in production", "device", w.Device)
		}
	}
	if d := qs.Device; d != nil && d.Model == quorum.DeviceDisk {
		if err := q.openDisk(c, fc, nodes, d); err != nil {
			return err
		}
	} else if q.wdDev != nil {
		q.feeder, err = watchdog.New(q.wdDev, watchdog.Config{Timeout: qs.Watchdog.Timeout, Healthy: q.healthy, Logger: q.log})
		if err != nil {
			return fmt.Errorf("quorum.watchdog %s: %w", qs.Watchdog.Device, err)
		}
		q.wdTimeout = q.feeder.Timeout()
	}
	if d := qs.Device; d != nil && d.Model == quorum.DeviceArbiter {
		if q.arb, err = arbiter.NewClientFromSection(c.Name, self, nodes, d, log); err != nil {
			return fmt.Errorf("%s: quorum.device.arbiter: %w", c.File, err)
		}
		q.arb.OnRelease(q.beforeRelease)
	}
	if qs.Heuristics != nil {
		if q.pinger, err = ping.NewPinger(ping.FromSection(qs.Heuristics), log); err != nil {
			return fmt.Errorf("%s: quorum.heuristics: %w", c.File, err)
		}
	}
	q.lastLoop = rt.Now()
	rt.OnSnapshot(q.onSnapshot)
	n.SetDCStatus(func() *api.DCStatus {
		s := rt.Snapshot()
		out := dcStatus(s)
		out.Quorum = q.status(s)
		return out
	})
	// The operator's status view replaces the function above; it adds
	// the device's part to the quorum it builds.
	observe.setQuorumDetail(q.fillStatus)
	if q.disk != nil {
		go func() {
			if err := q.disk.Run(ctx); err != nil {
				// Fatal at start (start_mode clean with a pill waiting,
				// disks of another set): this node must not run. It has
				// never been quorate on this disk, so it runs nothing.
				q.log.Error("the quorum disk refuses this node: stopping the daemon", "err", err)
				if q.wdDev != nil {
					q.wdDev.MagicClose()
				}
				os.Exit(1)
			}
		}()
	}
	if q.feeder != nil {
		go q.feeder.Run(ctx)
		go func() {
			<-ctx.Done()
			if err := q.feeder.Stop(); err != nil {
				q.log.Error("watchdog", "err", err)
			}
		}()
	}
	if q.arb != nil {
		go q.arb.Run(ctx)
	}
	if q.pinger != nil {
		go q.pinger.Run(ctx)
	}
	if q.arb != nil || q.disk != nil || q.pinger != nil || policy.SelfFences() {
		go q.loop(ctx)
	}
	return nil
}

// openDisk opens the quorum disk, arms the watchdog it feeds and refuses
// unsafe timings (disk.CheckTiming).
func (q *quorumDev) openDisk(c *config.Cluster, fc *topology.Config, nodes []arbitration.Node, d *quorum.DeviceSection) error {
	if q.wdDev == nil {
		return fmt.Errorf("%s: a quorum disk needs quorum.watchdog", c.File)
	}
	r, err := disk.Open(disk.RunnerConfig{
		Core: disk.Config{Self: q.self, Nodes: nodes, Algorithm: d.Algorithm, TieBreaker: d.TieBreaker, DeviceVotes: q.votes,
			Evict: d.Disk.Evict, MinScore: d.Disk.MinScore, StartMode: d.Disk.StartMode, BeforeRelease: q.beforeRelease},
		Paths: d.Disk.Paths, Watchdog: diskWatchdog{q}, SelfFence: q.onDiskSelfFence, Logger: q.log})
	if err != nil {
		return fmt.Errorf("%s: quorum.device.disk: %w", c.File, err)
	}
	if h := r.Header(); h.Cluster != c.Name {
		return fmt.Errorf("%s: quorum.device.disk %v was created for cluster %q, this is %q: recreate it with palisade disk create --cluster %s", c.File, d.Disk.Paths, h.Cluster, c.Name, c.Name)
	}
	got, err := q.wdDev.SetTimeout(q.qs.Watchdog.Timeout)
	if err != nil {
		return fmt.Errorf("arming the watchdog %s with %s: %w", q.qs.Watchdog.Device, q.qs.Watchdog.Timeout, err)
	}
	q.wdTimeout = got
	fenceTimeout := fc.AttemptTimeout
	if fenceTimeout == 0 {
		fenceTimeout = topology.DefaultAttemptTimeout
	}
	if err := disk.CheckTiming(disk.Timing{Disk: r.Header().Timeouts, Watchdog: got, FenceTimeout: fenceTimeout, Deadtime: c.Timing.Deadtime}); err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	if err := q.wdDev.Keepalive(); err != nil {
		return fmt.Errorf("watchdog %s: first keepalive: %w", q.qs.Watchdog.Device, err)
	}
	q.disk = r
	q.log.Info("quorum disk opened", "disk", r.String(), "watchdog", q.qs.Watchdog.Device, "watchdog_timeout", got)
	return nil
}

// diskWatchdog is the watchdog as the disk loop feeds it: only while this
// node is healthy (it did not fence itself, its DC loop runs).
type diskWatchdog struct{ q *quorumDev }

func (w diskWatchdog) Feed() error {
	if ok, _ := w.q.healthy(); !ok {
		return nil // starving on purpose: the machine resets
	}
	return w.q.wdDev.Keepalive()
}

func (w diskWatchdog) Close() error {
	if ok, why := w.q.healthy(); !ok {
		return fmt.Errorf("not disarming the watchdog: %s; the machine must reset", why)
	}
	return w.q.wdDev.MagicClose()
}

// healthy is the watchdog's predicate: false for good once this node
// fenced itself, or once the DC runtime stopped stepping for a watchdog
// timeout (a hung daemon must not keep a node alive that its peers may
// count as self-fenced).
func (q *quorumDev) healthy() (bool, string) {
	q.fenceMu.Lock()
	defer q.fenceMu.Unlock()
	if q.starving != "" {
		return false, q.starving
	}
	if q.fenced != "" {
		q.starving = "this node fenced itself: " + q.fenced
		return false, q.starving
	}
	q.snapMu.Lock()
	idle := q.rt.Now() - q.lastLoop
	q.snapMu.Unlock()
	if q.wdTimeout > 0 && idle > q.wdTimeout {
		q.starving = fmt.Sprintf("the DC runtime has not stepped for %s", idle.Round(time.Millisecond))
		// A hung runtime is a bug; the stacks are what finds it after
		// the watchdog has reset the machine.
		fmt.Fprintf(os.Stderr, "palisaded: %s; goroutines follow\n", q.starving)
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		return false, q.starving
	}
	return true, ""
}

// onSnapshot runs on the runtime's goroutine after every step: keep the
// newest and wake the loop.
func (q *quorumDev) onSnapshot(s engine.Snapshot) {
	q.snapMu.Lock()
	q.snap, q.lastLoop = s, q.rt.Now()
	q.snapMu.Unlock()
	select {
	case q.snapCh <- struct{}{}:
	default:
	}
}

func (q *quorumDev) loop(ctx context.Context) {
	var devCh, pingCh <-chan struct{}
	switch {
	case q.arb != nil:
		devCh = q.arb.Changes()
	case q.disk != nil:
		devCh = q.disk.Changes()
	}
	if q.pinger != nil {
		pingCh = q.pinger.Changes()
		q.setScore()
	}
	// Leases are renewed by every verdict; the engine learns the new end
	// at the latest one refresh later (a lease is several refreshes long).
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.snapCh:
			q.onState()
		case <-devCh:
			q.push()
		case <-pingCh:
			q.setScore()
			q.onState()
		case <-t.C:
			q.push()
		}
	}
}

// setScore publishes the ping score as the node attribute (pingd).
func (q *quorumDev) setScore() {
	st := q.pinger.Status()
	name, value := st.NodeAttribute()
	if st.Score != q.score || !q.published {
		q.rt.SetAttribute(name, value)
	}
	q.score, q.published = st.Score, true
}

// onState tells the device about the engine's agreed view and applies
// no_quorum_policy suicide.
func (q *quorumDev) onState() {
	q.snapMu.Lock()
	s := q.snap
	q.snapMu.Unlock()
	if s.Acting && s.Quorate {
		q.wasQuorate = true
	}
	if q.arb != nil || q.disk != nil {
		if s.Agreed && s.View != 0 {
			// The disk feeds the watchdog while quorate: the view's own
			// verdict, so that half a deadtime of silence (no decisions
			// meanwhile) does not reset a node that cannot reach its disk;
			// a new view without quorum does.
			in := deviceInput{view: s.View, members: s.Members, score: q.score, held: len(s.Local) > 0, quorate: s.Quorum.ViewQuorate}
			q.pushMu.Lock()
			if !q.hasInput || !in.equal(q.in) {
				q.in, q.hasInput = in, true
				if q.arb != nil {
					q.arb.SetView(in.view, in.members, in.score, in.held)
				} else {
					q.disk.SetInput(disk.Input{Quorate: in.quorate, View: in.view, Members: in.members, Score: in.score, Held: in.held})
				}
			}
			q.pushLocked()
			q.pushMu.Unlock()
		}
	}
	if q.policy.SelfFences() && q.wasQuorate && s.Acting && !s.Quorate && !s.Quorum.Pending {
		q.selfFence(disk.MsgReset, fmt.Sprintf("the partition lost quorum (view %d, members %s: %s) and no_quorum_policy is suicide",
			s.View, strings.Join(s.Members, " "), s.Quorum.Reason))
	}
}

func (q *quorumDev) push() {
	q.pushMu.Lock()
	q.pushLocked()
	q.pushMu.Unlock()
}

// pushLocked reads the device's verdict and hands it to the engine,
// labelled with the view the device was told about.
func (q *quorumDev) pushLocked() {
	if !q.hasInput {
		return
	}
	now := q.rt.Now() // before the read: the lease end can only come out early
	var v quorum.DeviceVote
	var left time.Duration
	switch {
	case q.arb != nil:
		v, left = q.arb.VoteLease()
	case q.disk != nil:
		v, left = q.disk.VoteLease()
	default:
		return
	}
	dv := quorum.ViewVote{View: q.in.view, Members: q.in.members, DeviceVote: v}
	if v.Voting {
		dv.Until = now + left
	}
	if dv.View == q.pushed.View && slices.Equal(dv.Members, q.pushed.Members) && dv.DeviceVote == q.pushed.DeviceVote && dv.Until == q.pushed.Until {
		return
	}
	q.pushed = dv
	q.rt.SetDeviceVote(dv)
}

// beforeRelease runs before the device learns that this node gave up a
// grant: the engine must have stopped counting it.
func (q *quorumDev) beforeRelease(quorum.DeviceVote) {
	q.pushMu.Lock()
	defer q.pushMu.Unlock()
	q.pushed = quorum.ViewVote{} // push even if it looks the same
	q.pushLocked()
}

// onDiskSelfFence is the disk loop's verdict: a poison pill in our
// mailbox, or the master evicted us.
func (q *quorumDev) onDiskSelfFence(f disk.SelfFence) { q.selfFence(f.Action, f.Reason) }

// selfFence fences this node: the watchdog is never fed again, and where
// a real watchdog is armed the machine resets (or powers off) at once
// through sysrq. With a stand-in watchdog nothing resets: the log and the
// event log say what a real one would do.
func (q *quorumDev) selfFence(action disk.MessageType, reason string) {
	q.fenceMu.Lock()
	if q.fenced != "" {
		q.fenceMu.Unlock()
		return
	}
	q.fenced = reason
	q.fenceMu.Unlock()
	q.log.Error("FENCING THIS NODE", "reason", reason, "watchdog_timeout", q.wdTimeout)
	if err := q.events.Append(eventlog.Entry{Event: eventSelfFence, Target: q.self, Detail: reason}); err != nil {
		q.log.Warn("event log", "err", err)
	}
	if q.disk != nil {
		q.disk.FenceSelf(reason) // its loop stops feeding too (no-op when the disk decided it)
	}
	if q.wdDev == nil {
		q.log.Error("no watchdog configured: this node cannot reset itself")
		return
	}
	if q.standIn {
		q.log.Error("stand-in watchdog: not resetting this machine; a real watchdog would reset it within its timeout", "timeout", q.wdTimeout)
		return
	}
	trigger := "b" // reset
	if action == disk.MsgOff {
		trigger = "o"
	}
	if err := os.WriteFile("/proc/sysrq-trigger", []byte(trigger), 0); err != nil {
		q.log.Error("immediate reset through /proc/sysrq-trigger failed; the watchdog resets the machine within its timeout", "err", err, "timeout", q.wdTimeout)
	}
}

// status is the quorum part of `palisade status` without the operator's
// view (which builds the votes and sources, then calls fillStatus).
func (q *quorumDev) status(s engine.Snapshot) *api.QuorumStatus {
	st := &api.QuorumStatus{Quorate: s.Quorate, Votes: s.Quorum.Votes, Expected: s.Quorum.Expected, Needed: s.Quorum.Needed,
		Reason: s.Quorum.Reason, Pending: s.Quorum.Pending}
	q.fillStatus(s, st)
	return st
}

// fillStatus adds the verdict's state, the policy, the device, the ping
// heuristics and the watchdog to st.
func (q *quorumDev) fillStatus(s engine.Snapshot, st *api.QuorumStatus) {
	st.State, st.Policy = "inquorate", string(q.policy)
	switch {
	case s.Quorum.Pending:
		st.State = "undecided"
	case s.Quorate:
		st.State = "quorate"
	case !s.Acting:
		st.State = "inquorate (view not agreed)"
	}
	if d := q.qs.Device; d != nil {
		ds := &api.QuorumDeviceStatus{Model: string(d.Model), Algorithm: string(d.Algorithm), Votes: q.votes}
		var v quorum.DeviceVote
		var left time.Duration
		switch {
		case q.arb != nil:
			v, left = q.arb.VoteLease()
			cs := q.arb.Status()
			ds.Address, ds.Connected, ds.Server, ds.Verdict, ds.Reason = cs.Address, cs.Connected, cs.Server, cs.Verdict, cs.Reason
		case q.disk != nil:
			v, left = q.disk.VoteLease()
			r := q.disk.Status()
			ds.Paths, ds.Reached, ds.Disks, ds.Master = d.Disk.Paths, r.Reached, r.Disks, r.Master
			for _, ns := range r.Nodes {
				slot := api.DiskSlotStatus{Node: ns.Name, Slot: ns.Slot, Alive: ns.Alive, State: ns.State.String(), Score: ns.Score, View: ns.View}
				if ns.Role != disk.RoleNone {
					slot.Role = ns.Role.String()
				}
				ds.Slots = append(ds.Slots, slot)
			}
		}
		ds.Voting, ds.Pending, ds.Problem, ds.LeaseLeftMS = v.Voting, v.Pending, v.Problem, left.Milliseconds()
		st.Device = ds
	}
	if q.pinger != nil {
		ps := q.pinger.Status()
		h := &api.HeuristicsStatus{Attribute: ps.Attribute, Score: ps.Score}
		for _, g := range ps.Groups {
			gs := api.PingGroupStatus{Name: g.Name, Up: g.Up, Weight: g.Weight}
			for _, a := range g.Answering {
				gs.Answering = append(gs.Answering, a.String())
			}
			h.Groups = append(h.Groups, gs)
		}
		st.Heuristics = h
	}
	if w := q.qs.Watchdog; w != nil {
		ok, why := q.healthy()
		st.Watchdog = &api.SelfFencingWatchdog{Device: w.Device, TimeoutMS: q.wdTimeout.Milliseconds(), Feeding: ok, Why: why}
	}
	q.fenceMu.Lock()
	st.SelfFenced = q.fenced
	q.fenceMu.Unlock()
}
