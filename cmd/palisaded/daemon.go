package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/dcrun"
	"palisade/cluster/engine"
	"palisade/cluster/eventlog"
	"palisade/cluster/membership"
	"palisade/cluster/node"
	"palisade/cluster/recovery"
	"palisade/cluster/reliable"
	"palisade/cluster/replica"
	"palisade/quorum"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/vip"
)

// payloadPrefix tags DC protocol messages on the shared reliable channel so
// other users of reliable messaging can coexist.
const payloadPrefix = "dc1:"

// attach builds the DC layer for a node from the cluster configuration
// (quorum, fencing and resources sections) — recovery gate, quorum,
// fencer and its plugins, executor and agents, the DC runtime — hooks it
// into the node's membership events, reliable deliveries, control socket
// and status, and starts it. Call it after node.New and before node.Run.
func attach(ctx context.Context, n *node.Node, c *config.Cluster, events *eventlog.Log, log *slog.Logger) (*dcrun.Runtime, error) {
	self := n.Self().Name
	names := make([]string, len(c.Nodes))
	byID := map[uint32]string{}
	byName := map[string]uint32{}
	for i, nd := range c.Nodes {
		names[i] = nd.Name
		byID[nd.ID] = nd.Name
		byName[nd.Name] = nd.ID
	}
	// Every section was decoded and validated with the rest of the file
	// (config.Load), before node.New wrote anything.
	qs, rcfg, fileAdmin := c.Quorum, c.Resources, c.AdminEpoch
	calc, err := quorum.New(qs.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: quorum: %w", c.File, err)
	}
	persisted, err := dcrun.LoadPersisted(c.StateDir)
	if err != nil {
		return nil, err
	}
	if persisted != nil {
		n.RaiseViewFloor(persisted.View)
	}
	cib, fileDigest, proposeFile := replica.StartCIB(persisted, rcfg, fileAdmin)
	// Options come from the configuration the node starts with (the
	// cluster's, when it persisted one), not necessarily from the file;
	// the file's sections win where they name the value (config/options.go).
	running := rcfg
	if cib != nil {
		running = cib.Config
	}
	policy := c.NoQuorumPolicy(running)
	fcRun := *c.Fencing
	fcRun.Action = c.FenceAction(running)
	fc := &fcRun
	fz, err := newFencing(self, c, fc, events, log) // fencing.go: plugins, fencer, monitor, meatware, watchdog
	if err != nil {
		return nil, err
	}
	delays := fc.StaticDelay
	if len(delays) == 0 {
		delays = recovery.DefaultStaticDelays(names, 0)
		if qs.Device != nil {
			delays = map[string]time.Duration{} // the quorum device settles two-node races
		}
	}
	gate := recovery.New(recovery.Config{Self: self, Nodes: names, StaticDelay: delays,
		RandomDelayMax: fc.RandomDelayMax, Rand: func(m time.Duration) time.Duration { return rand.N(m) },
		RetryInitial: fc.RetryInitial, RetryMax: fc.RetryMax, NoQuorumPolicy: policy,
		StartupFencing: fc.StartupFencing})

	// Executor with the stock agent classes plus the built-in VIP, whose
	// steps go to the event log for the demo timeline. HA_RSCTMP must not
	// survive a reboot (agents such as Dummy keep their "running" state
	// file there), so it lives in run_dir, not state_dir.
	rsctmp := filepath.Join(c.RunDir, "rsctmp")
	if err := os.MkdirAll(rsctmp, 0o755); err != nil {
		return nil, fmt.Errorf("resource agent state dir: %w", err)
	}
	reg := agent.NewRegistry(agent.Options{ExtraEnv: map[string]string{"HA_RSCTMP": rsctmp}})
	vipAgent := vip.NewAgent(vip.Options{Logger: log, OnEvent: func(ev vip.Event) {
		e := eventlog.Entry{Resource: ev.Resource, Node: self, Detail: fmt.Sprintf("%s on %s", ev.IP, ev.NIC)}
		switch ev.Kind {
		case vip.EventAdded:
			e.Event = eventlog.VIPAdded
		case vip.EventGARP:
			e.Event, e.Attempt = eventlog.GARPSent, ev.Seq
		default:
			return
		}
		events.Append(e)
	}})
	reg.RegisterBuiltin("vip", vipAgent)
	var rt *dcrun.Runtime
	fencing := c.FencingEnabled(running)
	ex := executor.New(executor.Config{Node: self, Agent: reg, Fencing: fencing, StartFailureIsFatal: running.StartFailureIsFatal(), Logger: log,
		Report: func(ev executor.Event) {
			observe.resourceEvent(ev)
			if rt != nil {
				rt.ExecutorEvent(ev)
			}
		}})
	rc := dcrun.Config{
		Coordinator: dc.Config{Self: self, Nodes: names, Quorum: calc, Gate: gate, Schedule: observe.scheduler(scheduleWith(qs)), CIB: cib,
			// A process paused for half a deadtime decides nothing until its
			// membership has been evaluated again: by deadtime its peers may
			// have declared it dead.
			StaleAfter:   c.Timing.Deadtime / 2,
			SafetyDigest: engine.SafetyDigestOf(qs, fc), NoQuorumPolicy: sectionPolicy(qs)},
		Executor: ex, Events: events, Logger: log.With("part", "dc"), AlertCommand: fc.AlertCommand, Alert: observe.alertHook(),
		StateDir: c.StateDir, FileDigest: fileDigest,
		// Resource parameters are checked by their agents before a change
		// is proposed (meta-data here, validate-all where they may run).
		Validate: reg.Validate,
		Send: func(to string, b []byte) error {
			id, ok := byName[to]
			if !ok {
				return fmt.Errorf("send to %s: unknown node", to)
			}
			return n.Send(id, append([]byte(payloadPrefix), b...))
		},
	}
	if fz.fencer != nil {
		rc.Fencer = observe.fencer(fz)
	}
	rt = dcrun.New(rc)
	var last dcmsg.View
	lastSize := 0
	n.OnEvent(func(ev membership.Event, mv membership.View) {
		if mv.ID == 0 {
			return
		}
		v := dcmsg.FromMembership(mv, func(id membership.NodeID) string { return byID[uint32(id)] })
		if v.ID == last.ID && v.Agreed == last.Agreed && len(v.Members) == len(last.Members) {
			return
		}
		last = v
		if len(v.Members) > lastSize && lastSize > 0 && v.Agreed {
			// A partition healed: peers (and switches) that followed the
			// other side must learn again where our VIPs are.
			go func() {
				if err := vipAgent.Reannounce(ctx); err != nil {
					log.Warn("re-announcing VIPs after a merge", "err", err)
				}
			}()
		}
		if v.Agreed {
			lastSize = len(v.Members)
		}
		rt.OnView(v)
	})
	n.OnTick(rt.MembershipTick)
	n.OnDelivery(func(d reliable.Delivery) {
		if p, ok := bytes.CutPrefix(d.Payload, []byte(payloadPrefix)); ok {
			rt.Deliver(byID[d.From], p)
		}
	})
	handleOperator(n, rt)
	if err := fz.attach(ctx, n, c, rt); err != nil {
		return nil, err
	}
	handleConfig(ctx, n, rt, log)
	n.SetDCStatus(func() *api.DCStatus { return dcStatus(rt.Snapshot()) })
	if proposeFile {
		// Edited while the node was down: propose it once joined.
		go proposeFileSection(ctx, rt, c.File, rcfg, fileAdmin, "start-up with an edited "+c.File, 2*time.Minute, log,
			fileLocator(c.File))
	}
	// Quorum device, heuristics, watchdog, suicide (quorumdev.go).
	if err := attachQuorumDevice(ctx, n, rt, c, qs, policy, fc, names, events, log); err != nil {
		return nil, err
	}
	go func() {
		<-ctx.Done()
		ex.Close()
	}()
	go rt.Run(ctx)
	return rt, nil
}

// decodeArgs reads a request's arguments strictly.
func decodeArgs(raw json.RawMessage, v any, want string) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return api.Errorf(api.BadRequest, "want %s: %v", want, err)
	}
	return nil
}

// handleOperator serves the cleanup command (the fencing commands are in
// fencing.go).
func handleOperator(n *node.Node, rt *dcrun.Runtime) {
	n.HandleControl(api.CmdResourceCleanup, func(ctx context.Context, args json.RawMessage) (any, error) {
		var a api.CleanupRequest
		if err := decodeArgs(args, &a, `{"resource": ID, "node": NAME (optional), "by": WHO}`); err != nil {
			return nil, err
		}
		if a.Resource == "" {
			return nil, api.Errorf(api.BadRequest, "resource cleanup: a resource is needed")
		}
		cctx, cancel := context.WithTimeout(ctx, api.OperatorTimeout)
		defer cancel()
		ans, err := rt.Cleanup(cctx, a.Resource, a.Node, a.By)
		if err != nil {
			return nil, opError(ans, err)
		}
		return api.CleanupResponse{Resource: a.Resource, Nodes: ans.Nodes, DC: ans.DC}, nil
	})
}

// opError turns a refused operator command into an *api.Error with its
// code.
func opError(ans dcmsg.OpAnswer, err error) error {
	if ans.Code != "" {
		return &api.Error{Code: api.Code(ans.Code), Message: ans.Error}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &api.Error{Code: api.Timeout, Message: err.Error()}
	}
	return &api.Error{Code: api.Retry, Message: err.Error()}
}

func fenceNodes(ns []recovery.NodeStatus) []api.FenceNode {
	out := make([]api.FenceNode, 0, len(ns))
	for _, s := range ns {
		out = append(out, api.FenceNode{Node: s.Node, State: string(s.State), Member: s.Member, Reason: s.Reason,
			Attempts: s.Attempts, Failures: s.Failures, By: s.By})
	}
	return out
}

// dcStatus is the status socket's view of the DC layer.
func dcStatus(s engine.Snapshot) *api.DCStatus {
	out := &api.DCStatus{Self: s.Self, View: s.View, Agreed: s.Agreed, DC: s.DC, Quorate: s.Quorate, Members: s.Members,
		CIB: dcrun.APIVersion(s.CIB), Digest: s.Digest, Status: s.Status, Fencing: fenceNodes(s.Fencing), Standby: s.Standby}
	for _, a := range s.Inflight {
		out.Inflight = append(out.Inflight, api.Action{ID: a.ID, Op: a.Op, Resource: a.Resource, Node: a.Node})
	}
	return out
}

// scheduleWith is the DC's scheduler: with the quorum section's
// no-quorum-policy when it names one, as the recovery gate applies it.
func scheduleWith(qs *quorum.Section) dc.Scheduler {
	if !qs.PolicySet {
		return engine.PackageScheduler
	}
	return engine.WithQuorumPolicy(engine.PackageScheduler, qs.Policy)
}
