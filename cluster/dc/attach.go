package dc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"palisade/cluster/config"
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

// Control commands added to the node's socket.
const (
	CmdFenceConfirm = "fence-confirm" // args {"node": "n2", "by": "alice"}
	CmdFenceHistory = "fence-history" // no args
	CmdConfigPush   = "config-push"   // args PushArgs; answer ConfigResult
	CmdConfigShow   = "config-show"   // no args; answer ConfigInfo
	// CmdConfigEdit makes an Edit (node standby, resource move, ...);
	// answer ConfigResult.
	CmdConfigEdit = "config-edit"
	// CmdResourceCleanup clears fail counts: args CleanupArgs; answer
	// {"resource": ..., "nodes": [...]}.
	CmdResourceCleanup = "resource-cleanup"
)

// CleanupArgs are the arguments of CmdResourceCleanup; an empty Node means
// every member of the partition.
type CleanupArgs struct {
	Resource string `json:"resource"`
	Node     string `json:"node,omitempty"`
	By       string `json:"by"`
}

// PushArgs are the arguments of CmdConfigPush: the file's text (decoded by
// the daemon with DecodeConfig, so errors name the file and line).
type PushArgs struct {
	File string `json:"file"`
	YAML string `json:"yaml"`
	By   string `json:"by"`
	// BaseDigest is the digest of the configuration the file was shown
	// from (its "palisade config show" comment); empty: no check.
	BaseDigest string `json:"base_digest,omitempty"`
}

// OperatorTimeout bounds how long an operator command (fence confirm,
// cleanup) waits for the DC's decision.
const OperatorTimeout = 10 * time.Second

// PushTimeout bounds how long a push or reload keeps retrying while the
// cluster cannot take the change yet (no DC, no quorum, rebuilding).
const PushTimeout = 20 * time.Second

// ConfirmArgs are the arguments of CmdFenceConfirm.
type ConfirmArgs struct {
	Node string `json:"node"`
	By   string `json:"by"`
}

// History is the answer of CmdFenceHistory.
type History struct {
	Nodes    []recovery.NodeStatus `json:"nodes"`
	Attempts []topology.Outcome    `json:"attempts"`
}

// Attach builds the DC runtime for a node from the cluster configuration
// (quorum, fencing and resources sections), hooks it into the node's
// membership events, reliable deliveries and control socket, and starts
// it. Call it after node.New and before node.Run:
//
//	n, _ := node.New(opts)
//	if _, err := dc.Attach(ctx, n, cfg, opts.EventLog, log); err != nil { return err }
//	return n.Run(ctx)
func Attach(ctx context.Context, n *node.Node, c *config.Cluster, events *eventlog.Log, log *slog.Logger) (*Runtime, error) {
	if log == nil {
		log = slog.Default()
	}
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
	rcfg, fileAdmin, err := decodeSection(c.File, c.Resources)
	if err != nil {
		return nil, err
	}
	persisted, err := LoadPersisted(c.StateDir)
	if err != nil {
		return nil, err
	}
	cib, fileDigest, proposeFile := StartCIB(persisted, rcfg, fileAdmin)
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
	var fencer Fencer
	if fc.Enabled {
		f, err := topology.NewFencer(fc, topology.FenceAgents)
		if err != nil {
			return nil, err
		}
		fencer = f
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
	// steps go to the event log for the demo timeline.
	// HA_RSCTMP must not survive a reboot (agents such as Dummy keep their
	// "running" state file there), so it lives in run_dir, not state_dir.
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
	var rt *Runtime
	fencing := fc.Enabled
	if running != nil && running.Options.StonithEnabled != nil {
		fencing = fencing && *running.Options.StonithEnabled
	}
	ex := executor.New(executor.Config{Node: self, Agent: reg, Fencing: fencing, StartFailureIsFatal: startFailureIsFatal(running), Logger: log,
		Report: func(ev executor.Event) {
			if rt != nil {
				rt.ExecutorEvent(ev)
			}
		}})
	rt = NewRuntime(RuntimeConfig{
		Coordinator: Config{Self: self, Nodes: names, Quorum: calc, Gate: gate, Schedule: PackageScheduler, CIB: cib,
			// A process paused for half a deadtime decides nothing until its
			// membership has been evaluated again: by deadtime its peers may
			// have declared it dead.
			StaleAfter:   c.Timing.Deadtime / 2,
			SafetyDigest: SafetyDigestOf(qs, fc)},
		Fencer: fencer, Executor: ex, Events: events, Logger: log.With("part", "dc"), AlertCommand: fc.AlertCommand,
		StateDir: c.StateDir, FileDigest: fileDigest,
		Send: func(to string, b []byte) error {
			id, ok := byName[to]
			if !ok {
				return fmt.Errorf("send to %s: unknown node", to)
			}
			return n.Send(id, append([]byte(payloadPrefix), b...))
		},
	})
	var last View
	lastSize := 0
	n.OnEvent(func(ev membership.Event, mv membership.View) {
		if mv.ID == 0 {
			return
		}
		v := FromMembership(mv, func(id membership.NodeID) string { return byID[uint32(id)] })
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
	n.HandleControl(CmdFenceConfirm, func(ctx context.Context, args json.RawMessage) (any, error) {
		var a ConfirmArgs
		if err := json.Unmarshal(args, &a); err != nil || a.Node == "" {
			return nil, fmt.Errorf("fence-confirm: want {\"node\": NAME, \"by\": WHO}")
		}
		cctx, cancel := context.WithTimeout(ctx, OperatorTimeout)
		defer cancel()
		ans, err := rt.Confirm(cctx, a.Node, a.By)
		if err != nil {
			return nil, err
		}
		return map[string]string{"node": a.Node, "result": ans.Result}, nil
	})
	n.HandleControl(CmdResourceCleanup, func(ctx context.Context, args json.RawMessage) (any, error) {
		var a CleanupArgs
		if err := json.Unmarshal(args, &a); err != nil || a.Resource == "" {
			return nil, fmt.Errorf("resource-cleanup: want {\"resource\": ID, \"node\": NAME (optional), \"by\": WHO}")
		}
		cctx, cancel := context.WithTimeout(ctx, OperatorTimeout)
		defer cancel()
		ans, err := rt.Cleanup(cctx, a.Resource, a.Node, a.By)
		if err != nil {
			return nil, err
		}
		return map[string]any{"resource": a.Resource, "nodes": ans.Nodes}, nil
	})
	n.HandleControl(CmdFenceHistory, func(ctx context.Context, _ json.RawMessage) (any, error) {
		h := History{Nodes: rt.Snapshot().Fencing}
		if f, ok := fencer.(*topology.Fencer); ok {
			h.Attempts = f.History()
		}
		return h, nil
	})
	n.AddStatus("dc", func() any { return rt.Snapshot() })
	handleConfig(ctx, n, rt, log)
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
