package vip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"palisade/resources/agent"
)

// Options configure the built-in agent.
type Options struct {
	Logger  *slog.Logger // default slog.Default()
	OnEvent func(Event)  // optional; called synchronously, must not block
}

// Agent is the palisade:vip resource agent. One Agent serves all VIP
// resources of a node and remembers which ones it started, for Reannounce.
type Agent struct {
	log     *slog.Logger
	onEvent func(Event)

	mu     sync.Mutex
	active map[string]*running // by resource id
}

// running is a started VIP and its background announcements.
type running struct {
	t      *target
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewAgent returns the agent; register it with
// agent.Registry.RegisterBuiltin("vip", a).
func NewAgent(o Options) *Agent {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Agent{log: o.Logger, onEvent: o.OnEvent, active: map[string]*running{}}
}

// Run implements agent.Agent.
func (a *Agent) Run(ctx context.Context, action agent.Action, in agent.Instance) agent.Result {
	start := time.Now()
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = agent.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := a.run(ctx, action, in)
	res.Duration = time.Since(start)
	if res.Status == agent.StatusDone && ctx.Err() != nil && res.RC != agent.OK {
		res.Status = agent.StatusTimeout
	}
	return res
}

func (a *Agent) run(ctx context.Context, action agent.Action, in agent.Instance) agent.Result {
	if action == agent.MetaData {
		return agent.Result{RC: agent.OK, Output: metaData}
	}
	c, err := ParseParams(in.Params)
	if err != nil {
		return fail(agent.ErrConfigured, "resource %s: %v", in.ID, err)
	}
	switch action {
	case agent.Start:
		return a.start(ctx, in.ID, c)
	case agent.Stop:
		return a.stop(in.ID, c)
	case agent.Monitor:
		return a.monitor(in.ID, c)
	case agent.ValidateAll:
		if _, err := resolve(c); err != nil {
			return fail(agent.ErrArgs, "resource %s: %v", in.ID, err)
		}
		return agent.Result{RC: agent.OK}
	}
	return fail(agent.ErrUnimplemented, "resource %s: palisade:vip has no %q action", in.ID, action)
}

func fail(rc agent.RC, format string, args ...any) agent.Result {
	return agent.Result{RC: rc, ExitReason: fmt.Sprintf(format, args...)}
}

func (a *Agent) start(ctx context.Context, id string, c Config) agent.Result {
	t, err := resolve(c)
	if err != nil {
		// The interface is a property of this node: ban here only.
		return fail(agent.ErrArgs, "resource %s: %v", id, err)
	}
	a.stopBackground(id)
	have, err := t.present()
	if err != nil {
		return fail(agent.ErrGeneric, "resource %s: %v", id, err)
	}
	kernelDAD := false
	// Optimistic duplicate check (IPv4): add and announce first, check
	// after (below); IPv6 keeps probing first (the kernel's own DAD
	// would otherwise hold the address tentative).
	optimistic := have == nil && c.DADTimeout > 0 && !c.StrictDAD && t.IP.Is4()
	if have == nil && c.DADTimeout > 0 && !optimistic {
		other, err := a.duplicate(ctx, t)
		switch {
		case errors.Is(err, errNoLinkLocal):
			kernelDAD = true // IPv6 without a link-local address: let the kernel check
		case err != nil:
			return fail(agent.ErrGeneric, "resource %s: %v", id, err)
		case other != "":
			a.emit(Event{Kind: EventDuplicate, Resource: id, IP: c.IP, NIC: t.ifi.Name, Reason: other})
			return fail(agent.ErrGeneric, "resource %s: %s already answers on %s from %s; refusing to start",
				id, c.IP, t.ifi.Name, other)
		}
	}
	if have == nil {
		if err := t.add(ctx, kernelDAD); err != nil {
			if errors.Is(err, ErrDuplicate) {
				a.emit(Event{Kind: EventDuplicate, Resource: id, IP: c.IP, NIC: t.ifi.Name})
			}
			return fail(agent.ErrGeneric, "resource %s: %v", id, err)
		}
		a.emit(Event{Kind: EventAdded, Resource: id, IP: c.IP, NIC: t.ifi.Name, Reason: t.prefix.String()})
	}
	// The first announcement goes out before start returns, so the
	// address is reachable when the DC hears "started"; the rest of the
	// burst (and the optional timer) continue in the background.
	if err := a.announce(t, id, "start", 1, 1); err != nil {
		return fail(agent.ErrGeneric, "resource %s: %v", id, err)
	}
	if optimistic {
		other, err := a.duplicate(ctx, t)
		if err == nil && other != "" {
			err = fmt.Errorf("%s already answers on %s from %s; address removed, refusing to start", c.IP, t.ifi.Name, other)
			a.emit(Event{Kind: EventDuplicate, Resource: id, IP: c.IP, NIC: t.ifi.Name, Reason: other})
		}
		if err != nil {
			if rerr := t.remove(); rerr != nil {
				err = fmt.Errorf("%w (removing it again: %v)", err, rerr)
			}
			return fail(agent.ErrGeneric, "resource %s: %v", id, err)
		}
	}
	bg, cancel := context.WithCancel(context.Background())
	r := &running{t: t, cancel: cancel}
	r.wg.Go(func() {
		if c.Count > 1 && sleep(bg, c.Interval) {
			a.burst(bg, t, id, "start", 2)
		}
		if c.Reannounce <= 0 {
			return
		}
		for sleep(bg, c.Reannounce) {
			a.burst(bg, t, id, "timer", 1)
		}
	})
	a.mu.Lock()
	a.active[id] = r
	a.mu.Unlock()
	return agent.Result{RC: agent.OK}
}

func (a *Agent) stop(id string, c Config) agent.Result {
	a.stopBackground(id)
	a.mu.Lock()
	delete(a.active, id)
	a.mu.Unlock()
	t, err := resolve(c)
	if err != nil {
		// No such interface (any more): the address cannot be on it.
		return agent.Result{RC: agent.OK}
	}
	have, err := t.present()
	if err != nil {
		return fail(agent.ErrGeneric, "resource %s: %v", id, err)
	}
	if have == nil {
		return agent.Result{RC: agent.OK}
	}
	if err := t.remove(); err != nil {
		return fail(agent.ErrGeneric, "resource %s: %v", id, err)
	}
	a.emit(Event{Kind: EventRemoved, Resource: id, IP: c.IP, NIC: t.ifi.Name})
	return agent.Result{RC: agent.OK}
}

func (a *Agent) monitor(id string, c Config) agent.Result {
	t, err := resolve(c)
	if err != nil {
		return agent.Result{RC: agent.NotRunning, ExitReason: err.Error()}
	}
	have, err := t.present()
	if err != nil {
		return fail(agent.ErrGeneric, "resource %s: %v", id, err)
	}
	if have == nil {
		return agent.Result{RC: agent.NotRunning, ExitReason: fmt.Sprintf("%s is not on %s", c.IP, t.ifi.Name)}
	}
	// After a daemon restart the probe finds the address: remember it so
	// Reannounce covers it.
	a.mu.Lock()
	if _, ok := a.active[id]; !ok {
		a.active[id] = &running{t: t}
	}
	a.mu.Unlock()
	return agent.Result{RC: agent.OK}
}

// duplicate runs the address family's duplicate check and returns who
// else holds the address ("" if no one).
func (a *Agent) duplicate(ctx context.Context, t *target) (string, error) {
	if t.IP.Is4() {
		mac, err := duplicateIPv4(ctx, t.ifi, t.IP, t.DADTimeout)
		if mac == nil || err != nil {
			return "", err
		}
		return mac.String(), nil
	}
	return duplicateIPv6(ctx, t.ifi, t.IP, t.DADTimeout)
}

// stopBackground cancels id's background announcements and waits for them.
func (a *Agent) stopBackground(id string) {
	a.mu.Lock()
	r := a.active[id]
	a.mu.Unlock()
	if r != nil && r.cancel != nil {
		r.cancel()
		r.wg.Wait()
	}
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
