package sim

import (
	"context"
	"fmt"
	"time"

	"palisade/fence"
	"palisade/fence/topology"
	"palisade/resources/agent"
	"palisade/resources/model"
)

// opTimeout is the simulated agents' operation timeout: a hung agent is
// killed after it and the operation times out.
const opTimeout = 2 * time.Second

type agentKey struct {
	node, rsc string
	action    agent.Action
}

type agentFault int

const (
	faultFail          agentFault = iota + 1 // rc 1 (generic error)
	faultHang                                // times out
	faultNotConfigured                       // rc 6
	faultDies                                // monitor: the resource crashed (rc 7)
)

// simAgent is every resource agent of one machine: it acts on the world's
// ground truth (what runs where) and fails as the faults say.
type simAgent struct{ n *node }

func (a simAgent) Run(_ context.Context, action agent.Action, inst agent.Instance) agent.Result {
	w, node, rsc := a.n.w, a.n.name, inst.ID
	done := func(rc agent.RC) agent.Result { return agent.Result{RC: rc, Status: agent.StatusDone} }
	fault, faulty := w.agentFaults[agentKey{node, rsc, action}]
	if faulty && fault == faultNotConfigured {
		return done(agent.ErrConfigured)
	}
	if faulty && fault == faultHang {
		if action == agent.Start && w.rng.IntN(2) == 0 {
			w.setActive(rsc, node, true) // killed half-way through its start
		}
		return agent.Result{RC: agent.ErrGeneric, Status: agent.StatusTimeout, ExitReason: "timed out"}
	}
	running := w.active[rsc][node]
	switch action {
	case agent.Start:
		if faulty {
			if w.rng.IntN(2) == 0 {
				w.setActive(rsc, node, true) // failed half-started
			}
			return done(agent.ErrGeneric)
		}
		w.setActive(rsc, node, true)
		return done(agent.OK)
	case agent.Stop:
		if faulty {
			return done(agent.ErrGeneric) // still running
		}
		return done(agent.OK) // the world forgets it when the stop ends
	case agent.Monitor:
		if faulty && fault == faultDies && running {
			w.setActive(rsc, node, false)
			delete(w.agentFaults, agentKey{node, rsc, action})
			return done(agent.NotRunning)
		}
		if faulty && fault == faultFail {
			return done(agent.ErrGeneric)
		}
		if running {
			return done(agent.OK)
		}
		return done(agent.NotRunning)
	}
	return done(agent.OK)
}

// bmcState is a simulated BMC's health.
type bmcState int

const (
	bmcOK          bmcState = iota
	bmcUnreachable          // does not answer: login fails
	bmcRefuses              // answers, but the power command fails
	bmcSlow                 // answers after seconds
	bmcLate                 // acts at once, but its answer arrives seconds later
)

// bmcLatency is how long the device takes to act on a request for target,
// and how much later the result reaches the daemon.
func (w *World) bmcLatency(target string) (act, late time.Duration) {
	act = w.dur(5*time.Millisecond, 30*time.Millisecond)
	switch w.bmc[target] {
	case bmcSlow:
		act = w.dur(time.Second, 8*time.Second)
	case bmcLate:
		late = w.dur(time.Second, 6*time.Second)
	}
	return act, late
}

// newFencer builds a node's fencer: one BMC per node, level 1, through
// the production topology and fence.Execute.
func newFencer(w *World, names []string) *topology.Fencer {
	cfg := &topology.Config{Enabled: true, Action: w.opts.Action, AttemptTimeout: time.Minute,
		Devices: map[string]topology.Device{}, Levels: map[string][][]string{}}
	for _, n := range names {
		dev := "bmc-" + n
		cfg.Devices[dev] = topology.Device{Name: dev, Plugin: "sim", Params: map[string]string{"target": n}}
		cfg.Levels[n] = [][]string{{dev}}
	}
	f, err := topology.NewFencer(cfg, func(d topology.Device) (topology.Agent, error) {
		return simFenceAgent{w: w, target: d.Params["target"]}, nil
	})
	if err != nil {
		panic(err)
	}
	return f
}

type simFenceAgent struct {
	w      *World
	target string
}

func (a simFenceAgent) Do(ctx context.Context, action fence.Action) fence.Result {
	return fence.Execute(ctx, func(context.Context) (fence.Device, error) {
		if a.w.bmc[a.target] == bmcUnreachable {
			return nil, fmt.Errorf("BMC of %s: %w", a.target, fence.ErrUnreachable)
		}
		return simBMC(a), nil
	}, fence.Request{Action: action, RetryOn: 1})
}

// simBMC is an open session with a node's BMC.
type simBMC simFenceAgent

func (b simBMC) Status(context.Context, string) (fence.PowerState, error) {
	if b.w.Node(b.target).powered {
		return fence.PowerOn, nil
	}
	return fence.PowerOff, nil
}

func (b simBMC) SetPower(_ context.Context, _ string, on bool) error {
	if b.w.bmc[b.target] == bmcRefuses {
		return fmt.Errorf("BMC of %s: command refused (completion code 0xd5)", b.target)
	}
	n := b.w.Node(b.target)
	if on {
		n.powerOn(n.w.opts.Boot)
	} else {
		n.powerOff()
	}
	return nil
}

func (simBMC) Close() error { return nil }

// baseConfig is the resources every run manages: a group that must stay
// together, and two primitives with preferences.
func baseConfig() *model.Config {
	on := true
	op := []model.Op{{Name: "monitor", Interval: model.Duration(time.Second), Timeout: model.Duration(opTimeout)},
		{Name: "start", Timeout: model.Duration(opTimeout)}, {Name: "stop", Timeout: model.Duration(opTimeout)}}
	prim := func(id string) *model.Resource {
		return &model.Resource{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy", Ops: op}
	}
	return &model.Config{
		Options:     model.Options{StonithEnabled: &on, NoQuorumPolicy: "stop"},
		RscDefaults: map[string]string{"resource-stickiness": "100", "migration-threshold": "3"},
		Resources: []*model.Resource{
			{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{prim("ip"), prim("app")}},
			prim("db"), prim("web"),
		},
		Constraints: model.Constraints{Locations: []model.Location{{ID: "db-prefers-n2", Rsc: "db", Node: "n2", Score: 50}}},
	}
}

func primitiveIDs(cfg *model.Config) []string {
	var out []string
	var walk func([]*model.Resource)
	walk = func(rs []*model.Resource) {
		for _, r := range rs {
			if r.KindOf() == model.KindPrimitive {
				out = append(out, r.ID)
			}
			walk(r.Members)
		}
	}
	walk(cfg.Resources)
	return out
}
