// Package alert runs the operator's alert command for cluster events: node
// lost, fence requested / succeeded / failed, resource failed / moved,
// quorum lost (and regained). The event is passed in environment
// variables, in Palisade's names and in Pacemaker's CRM_alert_* names, so
// Pacemaker's alert agents (/usr/share/pacemaker/alerts/*.sample) work
// unchanged:
//
//	r := alert.NewRunner(alert.Config{Command: "/usr/local/bin/page-oncall", Timeout: 30 * time.Second,
//		Cluster: "prod", LocalNode: "n1"}, log)
//	go r.Run(ctx)
//	r.Notify(alert.Event{Kind: alert.FenceSucceeded, Node: "n2", Device: "bmc-n2", Action: "off"})
//
// Alerts run one at a time in the order they were raised (a fence request
// is reported before its result), each with a timeout that kills the
// command's whole process group. Notify never blocks the caller: when the
// queue is full the alert is dropped, logged and counted. The command gets
// a clean environment (PATH and the alert variables only), so nothing of
// the daemon's environment, such as a BMC password given by password_env,
// reaches it.
package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Kind is the kind of event.
type Kind string

// Event kinds.
const (
	NodeLost       Kind = "node_lost"
	FenceRequested Kind = "fence_requested"
	FenceSucceeded Kind = "fence_succeeded"
	FenceFailed    Kind = "fence_failed"
	ResourceFailed Kind = "resource_failed"
	ResourceMoved  Kind = "resource_moved"
	QuorumLost     Kind = "quorum_lost"
	QuorumRegained Kind = "quorum_regained"
	SafetyMismatch Kind = "safety_mismatch" // a node runs with other quorum/fencing settings
	GenericAlert   Kind = "alert"           // anything else the daemon alerts about
)

const (
	resultDropped    = "dropped"
	resultSuccess    = "success"
	resultFailure    = "failure"
	resultTimeout    = "timeout"
	defaultTimeout   = 30 * time.Second
	defaultQueue     = 256
	outputLimit      = 4 << 10
	pacemakerVersion = "2.1.5" // the CRM_alert_* interface reproduced (Debian 12's Pacemaker)
	gracePeriod      = 2 * time.Second
)

// Event is one thing that happened.
type Event struct {
	Kind Kind
	// Node is the node the event is about: the lost node, the fence
	// target, the node where a resource failed, the node a resource moved to.
	Node     string
	NodeID   uint32
	Resource string
	// Operation is the resource operation (start, stop, monitor, ...) of
	// ResourceFailed.
	Operation string
	Interval  time.Duration
	// RC is the agent's exit code (ResourceFailed) or the fence result
	// (0 success).
	RC int
	// Device and Action are the fence device and action (off, reboot).
	Device string
	Action string
	// From is the node a resource moved away from (ResourceMoved).
	From string
	// Message says what happened, for people.
	Message string
	At      time.Time
}

// Config configures the runner.
type Config struct {
	// Command is run with /bin/sh -c (empty: alerts are only logged).
	Command string
	// Recipient is passed as PALISADE_ALERT_RECIPIENT and
	// CRM_alert_recipient (Pacemaker agents read the log file, mail
	// address or trap host there).
	Recipient string
	// Timeout bounds one run (default 30 s); the process group is killed
	// after it.
	Timeout   time.Duration
	Cluster   string
	LocalNode string
	// Queue bounds the alerts waiting to run (default 256).
	Queue int
	// Done, if set, is told the result of every alert (success, failure,
	// timeout, dropped): metrics.AlertDone fits.
	Done func(kind, result string)
}

// Runner runs the alert command for queued events.
type Runner struct {
	cfg   Config
	log   *slog.Logger
	queue chan queued
	mu    sync.Mutex
	seq   uint64
}

type queued struct {
	ev  Event
	seq uint64
}

// NewRunner makes a runner; call Run to start it.
func NewRunner(cfg Config, log *slog.Logger) *Runner {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Queue <= 0 {
		cfg.Queue = defaultQueue
	}
	if log == nil {
		log = slog.Default()
	}
	return &Runner{cfg: cfg, log: log, queue: make(chan queued, cfg.Queue)}
}

// Notify logs the event and queues it for the command. It never blocks.
func (r *Runner) Notify(ev Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	r.mu.Lock()
	r.seq++
	q := queued{ev, r.seq}
	r.mu.Unlock()
	attrs := []any{"kind", string(ev.Kind), "node", ev.Node}
	for _, kv := range [][2]string{{"resource", ev.Resource}, {"operation", ev.Operation}, {"device", ev.Device}, {"from", ev.From}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	r.log.Warn("alert", append(attrs, "detail", ev.Message, "seq", q.seq)...)
	if r.cfg.Command == "" {
		return
	}
	select {
	case r.queue <- q:
	default:
		r.log.Error("alert queue full: alert dropped (is the alert command hanging?)", "kind", string(ev.Kind), "seq", q.seq)
		r.done(ev.Kind, resultDropped)
	}
}

// Run runs queued alerts until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-r.queue:
			_ = r.run(ctx, q)
		}
	}
}

func (r *Runner) done(k Kind, result string) {
	if r.cfg.Done != nil {
		r.cfg.Done(string(k), result)
	}
}

// ErrTimeout is returned for an alert command that ran out of time.
var ErrTimeout = errors.New("alert command timed out")

// run executes the command for one event.
func (r *Runner) run(ctx context.Context, q queued) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	cmd := exec.Command("/bin/sh", "-c", r.cfg.Command)
	cmd.Env = r.env(q)
	cmd.Dir = "/"
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so a timeout ends the children too (a mail
	// client the script started, a hung curl).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A script that leaves a child holding its output open has still
	// finished: stop waiting for the output shortly after it exits.
	cmd.WaitDelay = gracePeriod
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.log.Error("alert command could not start", "kind", string(q.ev.Kind), "err", err)
		r.done(q.ev.Kind, resultFailure)
		return err
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var err error
	select {
	case err = <-waitErr:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err = <-waitErr:
		case <-time.After(gracePeriod):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			err = <-waitErr
		}
		err = fmt.Errorf("%w after %v: %v", ErrTimeout, r.cfg.Timeout, err)
	}
	// Children left in the group (backgrounded by the script) go too.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // it exited 0; only its background child kept the output open
	}
	switch {
	case errors.Is(err, ErrTimeout):
		r.log.Error("alert command timed out; its process group was killed", "kind", string(q.ev.Kind), "seq", q.seq, "timeout", r.cfg.Timeout, "output", out.String())
		r.done(q.ev.Kind, resultTimeout)
	case err != nil:
		r.log.Error("alert command failed", "kind", string(q.ev.Kind), "seq", q.seq, "err", err, "output", out.String())
		r.done(q.ev.Kind, resultFailure)
	default:
		r.log.Debug("alert command done", "kind", string(q.ev.Kind), "seq", q.seq, "took", time.Since(start))
		r.done(q.ev.Kind, resultSuccess)
	}
	return err
}

// env is the command's whole environment.
func (r *Runner) env(q queued) []string {
	ev := q.ev
	at := ev.At.UTC()
	p := map[string]string{
		"KIND": string(ev.Kind), "NODE": ev.Node, "RESOURCE": ev.Resource, "OPERATION": ev.Operation,
		"DEVICE": ev.Device, "ACTION": ev.Action, "FROM": ev.From, "MESSAGE": ev.Message,
		// TARGET is what fencing.alert_command scripts read so far.
		"TARGET": ev.Node, "RC": strconv.Itoa(ev.RC), "INTERVAL_MS": strconv.FormatInt(ev.Interval.Milliseconds(), 10),
		"SEQUENCE": strconv.FormatUint(q.seq, 10), "TIMESTAMP": at.Format(time.RFC3339Nano),
		"TIMESTAMP_EPOCH": strconv.FormatInt(at.Unix(), 10), "CLUSTER": r.cfg.Cluster, "LOCAL_NODE": r.cfg.LocalNode,
		"RECIPIENT": r.cfg.Recipient,
	}
	if ev.NodeID != 0 {
		p["NODE_ID"] = strconv.FormatUint(uint64(ev.NodeID), 10)
	}
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	for k, v := range p {
		env = append(env, "PALISADE_ALERT_"+k+"="+v)
	}
	for k, v := range r.pacemaker(q) {
		env = append(env, "CRM_alert_"+k+"="+v)
	}
	return env
}

// pacemaker maps the event onto Pacemaker's alert interface (kind node,
// fencing or resource; Palisade-only events keep their own kind, which
// Pacemaker's sample agents log as unhandled).
func (r *Runner) pacemaker(q queued) map[string]string {
	ev := q.ev
	at := ev.At.UTC()
	m := map[string]string{
		"version": pacemakerVersion, "recipient": r.cfg.Recipient, "node_sequence": strconv.FormatUint(q.seq, 10),
		"timestamp":       at.Format("2006-01-02 15:04:05.000000"),
		"timestamp_epoch": strconv.FormatInt(at.Unix(), 10), "timestamp_usec": strconv.Itoa(at.Nanosecond() / 1000),
		"node": ev.Node, "desc": ev.Message,
	}
	if ev.NodeID != 0 {
		m["nodeid"] = strconv.FormatUint(uint64(ev.NodeID), 10)
	}
	action := ev.Action
	if action == "" {
		action = "off"
	}
	switch ev.Kind {
	case NodeLost:
		m["kind"], m["desc"] = "node", "lost"
	case FenceRequested, FenceSucceeded, FenceFailed:
		m["kind"], m["task"] = "fencing", action
		res := map[Kind]string{FenceRequested: "requested", FenceSucceeded: "OK", FenceFailed: "Error"}[ev.Kind]
		m["rc"] = strconv.Itoa(ev.RC)
		if ev.Kind == FenceRequested {
			m["rc"] = ""
		}
		by := ""
		if ev.Device != "" {
			by = " by " + ev.Device
		}
		m["desc"] = fmt.Sprintf("Operation %s of %s%s: %s", action, ev.Node, by, res)
	case ResourceFailed, ResourceMoved:
		m["kind"], m["rsc"] = "resource", ev.Resource
		m["task"], m["interval"], m["target_rc"] = ev.Operation, strconv.FormatInt(ev.Interval.Milliseconds(), 10), "0"
		m["rc"], m["status"] = strconv.Itoa(ev.RC), "0"
		if ev.Kind == ResourceMoved {
			m["task"], m["rc"] = "move", "0"
			if m["desc"] == "" {
				m["desc"] = fmt.Sprintf("moved from %s to %s", ev.From, ev.Node)
			}
		} else if m["desc"] == "" {
			m["desc"] = "error"
		}
	default:
		m["kind"] = string(ev.Kind)
	}
	return m
}

// limitedBuffer keeps the first outputLimit bytes of the command's output
// for the log.
type limitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := outputLimit - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
