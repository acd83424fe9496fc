package executor

import (
	"context"
	"fmt"
	"time"

	"palisade/resources/agent"
)

type monitorKey struct {
	rsc      string
	interval time.Duration
}

type monitor struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// StartMonitor starts a recurring monitor: op.Action must be Monitor and
// op.Interval > 0. It runs at once and then every interval, serialized
// with the resource's other actions, and reports the first result and
// every change (rc or status) — not each identical result. A monitor with
// the same resource and interval is replaced.
func (e *Executor) StartMonitor(op Op) error {
	if op.Action != agent.Monitor || op.Interval <= 0 {
		return fmt.Errorf("recurring %s of %s every %s: want action monitor with interval > 0", op.Action, op.Instance.ID, op.Interval)
	}
	key := monitorKey{op.Instance.ID, op.Interval}
	e.CancelMonitor(key.rsc, key.interval)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("recurring monitor of %s: executor closed", key.rsc)
	}
	ctx, cancel := context.WithCancel(e.baseCtx)
	m := &monitor{cancel: cancel, done: make(chan struct{})}
	e.monitors[key] = m
	e.wg.Add(1)
	go e.runMonitor(ctx, op, m)
	return nil
}

// CancelMonitor stops a recurring monitor and waits until it has
// finished; it reports whether one was running.
func (e *Executor) CancelMonitor(rsc string, interval time.Duration) bool {
	e.mu.Lock()
	m, ok := e.monitors[monitorKey{rsc, interval}]
	delete(e.monitors, monitorKey{rsc, interval})
	e.mu.Unlock()
	if ok {
		m.cancel()
		<-m.done
	}
	return ok
}

// Monitors lists the recurring monitors (resource → intervals).
func (e *Executor) Monitors() map[string][]time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]time.Duration{}
	for k := range e.monitors {
		out[k.rsc] = append(out[k.rsc], k.interval)
	}
	return out
}

// cancelMonitors stops all recurring monitors of rsc (before a stop: a
// monitor racing the stop would report a failure that is not one).
func (e *Executor) cancelMonitors(rsc string) {
	e.mu.Lock()
	var ms []*monitor
	for k, m := range e.monitors {
		if k.rsc == rsc {
			ms = append(ms, m)
			delete(e.monitors, k)
		}
	}
	e.mu.Unlock()
	for _, m := range ms {
		m.cancel()
		<-m.done
	}
}

func (e *Executor) runMonitor(ctx context.Context, op Op, m *monitor) {
	defer e.wg.Done()
	defer close(m.done)
	var prev MonitorState
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.locks.lock(ctx, op.Instance.ID); err != nil {
			return
		}
		e.MonitorOnce(ctx, op, &prev)
		e.locks.unlock(op.Instance.ID)
		t.Reset(op.Interval)
	}
}

// MonitorState is what a recurring monitor remembers between runs: the
// last result it reported.
type MonitorState struct {
	prev *agent.Result
}

// MonitorOnce runs one round of a recurring monitor and records and
// reports its result only when it differs from the last one reported
// (rc or status), as StartMonitor's loop does; the simulator drives
// recurring monitors on its own clock through it. The caller serializes
// it with the resource's other actions.
func (e *Executor) MonitorOnce(ctx context.Context, op Op, st *MonitorState) (Event, bool) {
	changed := func(res agent.Result) bool {
		if st.prev != nil && st.prev.RC == res.RC && st.prev.Status == res.Status {
			return false
		}
		st.prev = &res
		return true
	}
	return e.runLocked(ctx, op, changed)
}
