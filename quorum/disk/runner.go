package disk

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// Watchdog is what the disk loop needs from the node's watchdog device
// (plugins/watchdog satisfies it): Feed pets it, Close disarms it (the
// "magic close") on a clean shutdown only.
type Watchdog interface {
	Feed() error
	Close() error
}

// RunnerConfig configures the disk loop of palisaded.
type RunnerConfig struct {
	Core  Config
	Paths []string
	// Watchdog is fed after every loop that allows it. A quorum disk
	// without a watchdog is refused by CheckTiming; nil is for tests.
	Watchdog Watchdog
	// SelfFence is called once when the node must fence itself (a pill
	// in its mailbox, eviction by the master): reset or power off now
	// (sysrq-trigger b / o). The watchdog is never fed again afterwards,
	// so the node resets even if SelfFence cannot.
	SelfFence func(SelfFence)
	Logger    *slog.Logger
}

// Runner runs a node's quorum-disk loop in real time: the edge around
// Core (disk files, the clock, the watchdog, the daemon's inputs).
//
//	r, err := disk.Open(cfg)                     // reads the headers (a majority is needed)
//	err = disk.CheckTiming(disk.Timing{Disk: r.Header().Timeouts, Watchdog: ..., FenceTimeout: ..., Deadtime: ...})
//	go r.Run(ctx)
//	r.SetInput(disk.Input{...})                  // on every agreed view, quorum, score or held change
//	st := calc.UpdateWithDevice(members, r.Vote(), now)   // and again whenever r.Changes() fires
type Runner struct {
	cfg   RunnerConfig
	log   *slog.Logger
	core  *Core
	disks []*Disk
	hdr   Header
	start time.Time

	mu       sync.Mutex
	in       Input
	inKey    arbitration.Key
	stepKey  arbitration.Key // the view the last step was about
	ready    Ready
	fenced   bool
	changes  chan struct{}
	kick     chan struct{}
	lastVote quorum.DeviceVote
}

// Open opens the disks and reads their headers; a majority must be
// readable and agree.
func Open(cfg RunnerConfig) (*Runner, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var inc [8]byte
	rand.Read(inc[:])
	cfg.Core.Incarnation = binary.LittleEndian.Uint64(inc[:])
	// Headers first, without a timeout yet (we do not know it).
	probe, probeDisks := OpenDevices(cfg.Paths, 0)
	hdr, _, err := ReadHeaders(probe)
	for _, d := range probeDisks {
		d.Close()
	}
	if err != nil {
		return nil, err
	}
	devs, disks := OpenDevices(cfg.Paths, hdr.Timeouts.IO)
	r := &Runner{cfg: cfg, log: cfg.Logger.With("component", "quorum-disk"), disks: disks, hdr: hdr, start: time.Now(),
		changes: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
	coreCfg := cfg.Core
	user := coreCfg.BeforeRelease
	coreCfg.BeforeRelease = func(v quorum.DeviceVote) {
		// Vote() must not say "voting" any more from here on, then the
		// caller's hook makes its users stop counting, all before the
		// slot that releases the grant is written.
		r.mu.Lock()
		r.ready.Vote.Voting = false
		r.mu.Unlock()
		if user != nil {
			user(v)
		}
	}
	core, err := NewCore(coreCfg, devs)
	if err != nil {
		for _, d := range disks {
			d.Close()
		}
		return nil, err
	}
	r.core = core
	for _, d := range disks {
		if f := d.File(); f != nil && f.Note != "" {
			r.log.Warn("quorum disk without O_DIRECT", "path", d.Path, "note", f.Note)
		}
	}
	return r, nil
}

// Header is the disks' header (their timeouts, for CheckTiming).
func (r *Runner) Header() Header { return r.hdr }

func (r *Runner) now() time.Duration { return time.Since(r.start) }

// SetInput gives the loop the node's current view, quorum, score and held
// flag. A new view stops counting the disk's votes at once (they are for
// a view), and is written at the next loop, which runs at once.
func (r *Runner) SetInput(in Input) {
	r.mu.Lock()
	in.Members = slices.Clone(in.Members)
	key := arbitration.KeyOf(in.View, in.Members)
	changed := key != r.inKey
	r.in, r.inKey = in, key
	r.mu.Unlock()
	if changed {
		r.signal()
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// Vote is the disk's verdict for the node's current view, for
// quorum.Calculator.UpdateWithDevice.
func (r *Runner) Vote() quorum.DeviceVote {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.voteLocked(r.now())
}

func (r *Runner) voteLocked(now time.Duration) quorum.DeviceVote {
	v := r.ready.Vote
	if r.stepKey != r.inKey {
		// The view changed since the last loop: undecided until it runs.
		return quorum.DeviceVote{Pending: !r.fenced, Problem: v.Problem}
	}
	if v.Voting && now >= r.ready.VoteUntil {
		v.Voting = false
	}
	return v
}

// VoteLease is Vote with how long a vote still counts from now (0 when not
// voting), read at one instant: the daemon turns it into a lease end on
// its own clock (quorum.ViewVote.Until).
func (r *Runner) VoteLease() (quorum.DeviceVote, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	v := r.voteLocked(now)
	if !v.Voting {
		return v, 0
	}
	return v, r.ready.VoteUntil - now
}

// Changes fires (coalesced) when Vote may have changed.
func (r *Runner) Changes() <-chan struct{} { return r.changes }

func (r *Runner) signal() {
	select {
	case r.changes <- struct{}{}:
	default:
	}
}

// FenceSelf makes the node fence itself now (no_quorum_policy suicide):
// the watchdog is never fed again and the SelfFence hook runs once.
func (r *Runner) FenceSelf(reason string) {
	r.mu.Lock()
	already := r.fenced
	r.fenced = true
	r.mu.Unlock()
	if already {
		return
	}
	r.log.Error("fencing this node", "reason", reason)
	if r.cfg.SelfFence != nil {
		r.cfg.SelfFence(SelfFence{Action: MsgReset, From: r.cfg.Core.Self, Reason: reason})
	}
}

// Status is the last loop's outcome.
func (r *Runner) Status() Ready {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
}

// Run loops until ctx ends or a fatal error (start_mode clean with a pill,
// no slot): the daemon must then stop. On a clean end it writes its slot
// as stopped and disarms the watchdog (unless it fenced itself).
func (r *Runner) Run(ctx context.Context) error {
	loop := r.hdr.Timeouts.Loop
	t := time.NewTimer(0)
	defer t.Stop()
	defer func() {
		for _, d := range r.disks {
			d.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			in, fenced := r.in, r.fenced
			r.mu.Unlock()
			if !fenced {
				r.core.Stop(r.now(), in)
				if r.cfg.Watchdog != nil {
					if err := r.cfg.Watchdog.Close(); err != nil {
						r.log.Warn("closing the watchdog", "err", err)
					}
				}
			}
			return nil
		case <-r.kick:
		case <-t.C:
		}
		started := time.Now()
		if err := r.step(); err != nil {
			return err
		}
		t.Reset(max(loop-time.Since(started), 0))
	}
}

func (r *Runner) step() error {
	r.mu.Lock()
	in, key := r.in, r.inKey
	r.mu.Unlock()
	now := r.now()
	ready := r.core.Step(now, in)
	for _, e := range ready.Events {
		r.log.Info(e)
	}
	if ready.Err != nil {
		r.log.Error("quorum disk refuses to run", "err", ready.Err)
		return ready.Err
	}
	r.mu.Lock()
	r.ready, r.stepKey = ready, key
	if ready.SelfFence != nil {
		r.fenced = true
	}
	fenced := r.fenced
	vote := r.voteLocked(r.now())
	changed := vote != r.lastVote
	r.lastVote = vote
	r.mu.Unlock()
	if ready.SelfFence != nil {
		r.log.Error("fencing this node", "action", ready.SelfFence.Action.String(), "reason", ready.SelfFence.Reason)
		if r.cfg.SelfFence != nil {
			r.cfg.SelfFence(*ready.SelfFence)
		}
	}
	if ready.Feed && !fenced && r.cfg.Watchdog != nil {
		if err := r.cfg.Watchdog.Feed(); err != nil {
			r.log.Error("feeding the watchdog", "err", err)
		}
	}
	if changed {
		r.signal()
	}
	return nil
}

// String describes the runner for logs.
func (r *Runner) String() string {
	return fmt.Sprintf("quorum disk %v (%s)", r.cfg.Paths, formatTimeouts(r.hdr.Timeouts))
}
