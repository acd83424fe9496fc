package sim

import (
	"palisade/resources/agent"
	"palisade/resources/model"
)

// The fault methods below are for scripted scenarios (Options.Script):
// call them from World.At callbacks.

// Crash kills palisaded on node (kill -9): its resources keep running.
func (w *World) Crash(node string) { w.Node(node).crash() }

// Restart starts palisaded again on a powered node.
func (w *World) Restart(node string) { w.Node(node).restart() }

// PowerOn switches a machine on (the daemon starts after Options.Boot).
func (w *World) PowerOn(node string) { w.Node(node).powerOn(w.opts.Boot) }

// Pause stops the daemon's process (SIGSTOP); Resume continues it.
func (w *World) Pause(node string)  { w.Node(node).pause() }
func (w *World) Resume(node string) { w.Node(node).resume() }

// Partition splits the cluster into groups of node names (every link).
func (w *World) Partition(groups ...[]string) {
	var idx [][]int
	for _, g := range groups {
		var ids []int
		for _, n := range g {
			ids = append(ids, w.Node(n).idx)
		}
		idx = append(idx, ids)
	}
	w.trace("script: partition %v", groups)
	w.net.partition(idx)
}

// HealNetwork restores every link.
func (w *World) HealNetwork() {
	w.trace("script: network healed")
	w.net.healAll()
	w.disturbAll()
}

// BMCUnreachable makes node's BMC stop answering (false: it answers
// again).
func (w *World) BMCUnreachable(node string, down bool) {
	w.trace("script: BMC of %s unreachable=%v", node, down)
	if down {
		w.bmc[node] = bmcUnreachable
	} else {
		w.bmc[node] = bmcOK
	}
}

// AgentNotConfigured makes every operation of rsc answer rc 6 (the
// parameters are invalid) on every node.
func (w *World) AgentNotConfigured(rsc string) {
	for _, n := range w.nodes {
		for _, a := range []agent.Action{agent.Start, agent.Stop, agent.Monitor} {
			w.agentFaults[agentKey{n.name, rsc, a}] = faultNotConfigured
		}
	}
}

// AgentFailStop makes stops of rsc on node fail (rc 1).
func (w *World) AgentFailStop(node, rsc string) {
	w.agentFaults[agentKey{node, rsc, agent.Stop}] = faultFail
}

// Push proposes cfg typed on node (palisade config push).
func (w *World) Push(node string, cfg *model.Config) { w.Node(node).push(cfg, "script") }

// Operator types an operator command (confirm, cleanup) on node.
func (w *World) Operator(node, op, target, rsc string) { w.Node(node).request(op, target, rsc) }

// BaseConfig returns the resources every run starts with.
func BaseConfig() *model.Config { return baseConfig() }

// Holder returns the nodes where rsc is active (ground truth).
func (w *World) Holder(rsc string) []string {
	var out []string
	for _, n := range sortedKeys(w.active[rsc]) {
		if w.active[rsc][n] {
			out = append(out, n)
		}
	}
	return out
}

// Powered reports whether node's machine is on.
func (w *World) Powered(node string) bool { return w.Node(node).powered }

// IsDC reports whether node is DC of an agreed quorate view.
func (w *World) IsDC(node string) bool {
	n := w.Node(node)
	return n.running() && n.eng.Coordinator().IsDC() && n.eng.Coordinator().Quorate()
}
