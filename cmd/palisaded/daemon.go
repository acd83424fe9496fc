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
	"strings"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/dc"
	"palisade/cluster/dcrun"
	"palisade/cluster/eventlog"
	"palisade/cluster/membership"
	"palisade/cluster/node"
	"palisade/cluster/recovery"
	"palisade/cluster/reliable"
	"palisade/fence"
	"palisade/fence/topology"
	"palisade/quorum"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
	"palisade/resources/vip"

	// Fence plugins register themselves with the fence core.
	_ "palisade/plugins/ipmi"
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
	qs, err := quorum.Decode(c.File, c.Quorum, names)
	if err != nil {
		return nil, err
	}
	calc, err := quorum.New(qs.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: quorum: %w", c.File, err)
	}
	fc, err := topology.Decode(c.File, c.Fencing)
	if err != nil {
		return nil, err
	}
	rcfg, fileAdmin, err := dc.DecodeSection(c.File, c.Resources)
	if err != nil {
		return nil, err
	}
	persisted, err := dcrun.LoadPersisted(c.StateDir)
	if err != nil {
		return nil, err
	}
	if persisted != nil {
		n.RaiseViewFloor(persisted.View)
	}
	cib, fileDigest, proposeFile := dc.StartCIB(persisted, rcfg, fileAdmin)
	// Options come from the configuration the node starts with (the
	// cluster's, when it persisted one), not necessarily from the file.
	running := rcfg
	if cib != nil {
		running = cib.Config
	}
	policy := qs.Policy
	if !qs.PolicySet && running != nil && running.Options.NoQuorumPolicy != "" {
		if p, err := quorum.ParsePolicy(running.Options.NoQuorumPolicy); err == nil {
			policy = p
		}
	}
	if running != nil {
		inheritStonithAction(fc, running.Options)
	}
	var fencer *topology.Fencer
	if fc.Enabled {
		if fencer, err = topology.NewFencer(fc, topology.FenceAgents); err != nil {
			return nil, err
		}
	}
	delays := fc.StaticDelay
	if len(delays) == 0 {
		delays = recovery.DefaultStaticDelays(names, 0)
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
	fencing := fc.Enabled
	if running != nil && running.Options.StonithEnabled != nil {
		fencing = fencing && *running.Options.StonithEnabled
	}
	ex := executor.New(executor.Config{Node: self, Agent: reg, Fencing: fencing, StartFailureIsFatal: dc.StartFailureIsFatal(running), Logger: log,
		Report: func(ev executor.Event) {
			observe.resourceEvent(ev)
			if rt != nil {
				rt.ExecutorEvent(ev)
			}
		}})
	rc := dcrun.Config{
		Coordinator: dc.Config{Self: self, Nodes: names, Quorum: calc, Gate: gate, Schedule: observe.scheduler(dc.PackageScheduler), CIB: cib,
			// A process paused for half a deadtime decides nothing until its
			// membership has been evaluated again: by deadtime its peers may
			// have declared it dead.
			StaleAfter:   c.Timing.Deadtime / 2,
			SafetyDigest: dc.SafetyDigestOf(qs, fc)},
		Executor: ex, Events: events, Logger: log.With("part", "dc"), AlertCommand: fc.AlertCommand, Alert: observe.alertHook(),
		StateDir: c.StateDir, FileDigest: fileDigest,
		Send: func(to string, b []byte) error {
			id, ok := byName[to]
			if !ok {
				return fmt.Errorf("send to %s: unknown node", to)
			}
			return n.Send(id, append([]byte(payloadPrefix), b...))
		},
	}
	if fencer != nil {
		rc.Fencer = observe.fencer(fencer)
	}
	rt = dcrun.New(rc)
	var last dc.View
	lastSize := 0
	n.OnEvent(func(ev membership.Event, mv membership.View) {
		if mv.ID == 0 {
			return
		}
		v := dc.FromMembership(mv, func(id membership.NodeID) string { return byID[uint32(id)] })
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
	handleOperator(n, rt, fencer)
	handleConfig(ctx, n, rt, log)
	n.SetDCStatus(func() *api.DCStatus { return dcStatus(rt.Snapshot()) })
	if proposeFile {
		// Edited while the node was down: propose it once joined.
		go proposeFileSection(ctx, rt, c.File, rcfg, fileAdmin, "start-up with an edited "+c.File, 2*time.Minute, log)
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

// handleOperator serves the fencing and cleanup commands.
func handleOperator(n *node.Node, rt *dcrun.Runtime, fencer *topology.Fencer) {
	n.HandleControl(api.CmdFenceConfirm, func(ctx context.Context, args json.RawMessage) (any, error) {
		var a api.ConfirmRequest
		if err := decodeArgs(args, &a, `{"node": NAME, "by": WHO}`); err != nil {
			return nil, err
		}
		if a.Node == "" {
			return nil, api.Errorf(api.BadRequest, "fence confirm: a node is needed")
		}
		cctx, cancel := context.WithTimeout(ctx, api.OperatorTimeout)
		defer cancel()
		ans, err := rt.Confirm(cctx, a.Node, a.By)
		if err != nil {
			return nil, opError(ans, err)
		}
		return api.ConfirmResponse{Node: a.Node, DC: ans.DC, Result: ans.Result}, nil
	})
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
	n.HandleControl(api.CmdFenceHistory, func(ctx context.Context, _ json.RawMessage) (any, error) {
		h := api.History{Nodes: fenceNodes(rt.Snapshot().Fencing)}
		if fencer != nil {
			for _, o := range fencer.History() {
				a := api.FenceAttempt{Target: o.Target, Level: o.Level, Devices: o.Devices, Error: o.Error, Start: o.Start, Elapsed: o.Elapsed}
				for _, s := range o.Steps {
					a.Steps = append(a.Steps, api.FenceStep{Level: s.Level, Device: s.Device, OK: s.OK, VerifiedOff: s.VerifiedOff, Error: s.Err, Elapsed: s.Elapsed})
				}
				h.Attempts = append(h.Attempts, a)
			}
		}
		return h, nil
	})
}

// opError turns a refused operator command into an *api.Error with its
// code.
func opError(ans dc.OpAnswer, err error) error {
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
func dcStatus(s dc.Snapshot) *api.DCStatus {
	out := &api.DCStatus{Self: s.Self, View: s.View, Agreed: s.Agreed, DC: s.DC, Quorate: s.Quorate, Members: s.Members,
		CIB: dcrun.APIVersion(s.CIB), Digest: s.Digest, Status: s.Status, Fencing: fenceNodes(s.Fencing), Standby: s.Standby}
	for _, a := range s.Inflight {
		out.Inflight = append(out.Inflight, api.Action{ID: a.ID, Op: a.Op, Resource: a.Resource, Node: a.Node})
	}
	return out
}

// inheritStonithAction lets Pacemaker's stonith-action choose the fence
// action when the fencing section does not name one, for configurations
// carried over ("poweroff" is its old spelling of off).
func inheritStonithAction(fc *topology.Config, o model.Options) {
	if fc.ActionSet {
		return
	}
	switch strings.ToLower(o.StonithAction) {
	case "off", "poweroff":
		fc.Action = fence.ActionOff
	case "reboot":
		fc.Action = fence.ActionReboot
	}
}
