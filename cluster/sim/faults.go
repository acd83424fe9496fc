package sim

import (
	"slices"
	"strings"
	"time"

	"palisade/resources/agent"
	"palisade/resources/model"
)

// scheduleFaults injects random faults from the moment the cluster has
// formed until end; each fault ends on its own or at end (heal).
func (w *World) scheduleFaults(end time.Duration) {
	t := Initdead + time.Second
	for {
		t += w.dur(200*time.Millisecond, 2500*time.Millisecond)
		if t >= end {
			return
		}
		w.At(t, func() {
			if w.faultsOn {
				w.randomFault()
			}
		})
	}
}

// netBusy: one network-topology fault at a time, so ending it restores
// exactly what it changed.
func (w *World) netFault(what string, d time.Duration, apply func(), undo func()) {
	if w.netBusy {
		return
	}
	w.netBusy = true
	w.res.Faults++
	if strings.HasPrefix(what, "partition") {
		w.res.Splits++
	}
	w.trace("fault: %s for %v", what, d)
	apply()
	w.after(d, func() {
		if !w.faultsOn {
			return // heal did it
		}
		w.trace("fault ends: %s", what)
		undo()
		w.netBusy = false
	})
}

func (w *World) running() []*node {
	var out []*node
	for _, n := range w.nodes {
		if n.running() {
			out = append(out, n)
		}
	}
	return out
}

func (w *World) randomFault() {
	nodes := len(w.nodes)
	idx := func() int { return w.rng.IntN(nodes) }
	switch k := w.rng.IntN(100); {
	case k < 14: // symmetric partition: one node cut off, or a split
		var a, b []int
		for i := range nodes {
			a = append(a, i)
		}
		w.rng.Shuffle(len(a), func(i, j int) { a[i], a[j] = a[j], a[i] })
		cut := 1 + w.rng.IntN(nodes/2)
		a, b = a[cut:], a[:cut]
		d := w.dur(300*time.Millisecond, 6*time.Second)
		w.netFault("partition "+w.namesOf(b)+" | "+w.namesOf(a), d, func() { w.net.partition([][]int{a, b}) },
			func() { w.net.healAll(); w.disturbAll() })
	case k < 20: // asymmetric: one pair cannot talk, the rest can
		x, y := idx(), idx()
		if x == y {
			return
		}
		d := w.dur(300*time.Millisecond, 5*time.Second)
		w.netFault("pair cut "+w.nodes[x].name+"-"+w.nodes[y].name, d, func() { w.net.setCut(x, y, true, false) },
			func() { w.net.setCut(x, y, false, false) })
	case k < 25: // one-way
		x, y := idx(), idx()
		if x == y {
			return
		}
		d := w.dur(300*time.Millisecond, 5*time.Second)
		w.netFault("one-way cut "+w.nodes[x].name+"->"+w.nodes[y].name, d, func() { w.net.setCut(x, y, true, true) },
			func() { w.net.setCut(x, y, false, true) })
	case k < 30: // a flapping link
		x, l := idx(), w.rng.IntN(w.opts.Links)
		d := w.dur(time.Second, 4*time.Second)
		flips := 0
		var flip func()
		flip = func() {
			if !w.faultsOn || !w.netBusy {
				return
			}
			flips++
			w.net.setLinkCut(x, l, flips%2 == 1)
			w.after(w.dur(50*time.Millisecond, 600*time.Millisecond), flip)
		}
		w.netFault("flapping link "+w.nodes[x].name, d, flip, func() { w.net.healAll(); w.disturbAll() })
	case k < 35: // message loss
		d := w.dur(time.Second, 5*time.Second)
		p := 0.05 + 0.3*w.rng.Float64()
		w.netFault("message loss", d, func() { w.net.loss = p; w.disturbAll() }, func() { w.net.loss = 0; w.disturbAll() })
	case k < 40: // delay (and reordering)
		d := w.dur(time.Second, 5*time.Second)
		dl := w.dur(20*time.Millisecond, 400*time.Millisecond)
		w.netFault("delay", d, func() { w.net.delay = dl; w.disturbAll() }, func() { w.net.delay = 0; w.disturbAll() })
	case k < 44: // duplication
		d := w.dur(time.Second, 5*time.Second)
		w.netFault("duplication", d, func() { w.net.dup = 0.3 }, func() { w.net.dup = 0 })
	case k < 54: // kill -9
		rs := w.running()
		if len(rs) == 0 {
			return
		}
		n := rs[w.rng.IntN(len(rs))]
		w.res.Faults++
		w.trace("fault: kill -9 palisaded on %s", n.name)
		n.crash()
		if w.rng.IntN(3) > 0 {
			epoch := n.epoch
			w.after(w.dur(300*time.Millisecond, 5*time.Second), func() {
				if w.faultsOn && n.epoch == epoch {
					n.restart()
				}
			})
		}
	case k < 62: // pause, sometimes beyond deadtime
		rs := w.running()
		if len(rs) == 0 {
			return
		}
		n := rs[w.rng.IntN(len(rs))]
		w.res.Faults++
		d := w.dur(100*time.Millisecond, 2*time.Second)
		w.trace("fault: pause %s for %v", n.name, d)
		n.pause()
		epoch := n.epoch
		w.after(d, func() {
			if n.epoch == epoch {
				n.resume()
			}
		})
	case k < 70: // a BMC fault
		n := w.nodes[idx()].name
		st := []bmcState{bmcUnreachable, bmcRefuses, bmcSlow, bmcLate}[w.rng.IntN(4)]
		d := w.dur(2*time.Second, 15*time.Second)
		w.res.Faults++
		w.trace("fault: BMC of %s state %d for %v", n, st, d)
		w.bmc[n] = st
		w.after(d, func() {
			if w.faultsOn {
				w.bmc[n] = bmcOK
			}
		})
	case k < 82: // a resource agent fault
		n := w.nodes[idx()].name
		rsc := w.pick(primitiveIDs(w.config))
		var key agentKey
		var f agentFault
		switch w.rng.IntN(5) {
		case 0:
			key, f = agentKey{n, rsc, agent.Start}, faultFail
		case 1:
			key, f = agentKey{n, rsc, agent.Stop}, faultFail
		case 2:
			key, f = agentKey{n, rsc, agent.Monitor}, faultDies
		case 3:
			key, f = agentKey{n, rsc, agent.Stop}, faultHang
		default:
			key, f = agentKey{n, rsc, agent.Start}, faultHang
		}
		d := w.dur(time.Second, 10*time.Second)
		w.res.Faults++
		w.trace("fault: agent %s %s on %s fails (%d) for %v", rsc, key.action, n, f, d)
		w.agentFaults[key] = f
		w.after(d, func() { delete(w.agentFaults, key) })
	case k < 88: // configuration push during faults
		rs := w.running()
		if len(rs) == 0 {
			return
		}
		on := rs[w.rng.IntN(len(rs))]
		cfg := baseConfig()
		target := w.pick(w.names())
		switch w.rng.IntN(3) {
		case 0:
			cfg.Constraints.Locations = append(cfg.Constraints.Locations, model.Location{ID: "sim-move-grp", Rsc: "grp", Node: target, Score: 200})
		case 1:
			cfg.Nodes = append(cfg.Nodes, model.Node{Name: target, Standby: true})
		}
		w.res.Faults++
		w.trace("fault: config push on %s (%s)", on.name, target)
		on.push(cfg, "sim push")
	case k < 94: // operator cleanup, typed anywhere
		rs := w.running()
		if len(rs) == 0 {
			return
		}
		on := rs[w.rng.IntN(len(rs))]
		rsc := w.config.Resources[w.rng.IntN(len(w.config.Resources))].ID
		w.res.Faults++
		w.trace("fault: operator cleanup %s on %s", rsc, on.name)
		on.request("cleanup", "", rsc)
	default: // an honest operator confirms a node that is truly off
		var off []string
		for _, n := range w.nodes {
			if !n.powered {
				off = append(off, n.name)
			}
		}
		rs := w.running()
		if len(off) == 0 || len(rs) == 0 {
			return
		}
		on := rs[w.rng.IntN(len(rs))]
		t := w.pick(off)
		w.res.Faults++
		w.trace("fault: operator on %s confirms %s is off", on.name, t)
		on.request("confirm", t, "")
	}
}

func (w *World) namesOf(idx []int) string {
	var s []string
	for _, i := range idx {
		s = append(s, w.nodes[i].name)
	}
	slices.Sort(s)
	out := ""
	for i, n := range s {
		if i > 0 {
			out += ","
		}
		out += n
	}
	return out
}
