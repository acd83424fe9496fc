// Command bench-mesh measures heartbeat membership at scale in network
// namespaces (needs root): N palisaded (default 16) with two unicast links
// each at keepalive 100ms. It reports CPU % and bytes/s per node in steady
// state, then cuts one node's links several times and reports the time
// from the cut until every peer marked it dead (from the daemons' event
// logs, on CLOCK_MONOTONIC) against the configured deadtime.
//
//	go run ./hw-tests/cmd/bench-mesh [-nodes 16] [-trials 8] [-steady 10s] [-kind ucast|mcast|bcast]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
	"palisade/cluster/node/control"
	"palisade/hw-tests/lab"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-mesh:", err)
		os.Exit(1)
	}
}

type mesh struct {
	lab    *lab.Lab
	cfg    *lab.Cluster
	procs  []*lab.Proc
	events []string
}

func run() error {
	nodes := flag.Int("nodes", 16, "number of nodes")
	trials := flag.Int("trials", 8, "link cuts to measure detection time")
	steady := flag.Duration("steady", 10*time.Second, "steady-state window for CPU and traffic")
	keepalive := flag.Duration("keepalive", 100*time.Millisecond, "keepalive")
	deadtime := flag.Duration("deadtime", 500*time.Millisecond, "deadtime")
	kind := flag.String("kind", "ucast", "kind of both links: ucast (one packet per peer), mcast or bcast (one packet per link)")
	flag.Parse()
	if err := lab.Available(); err != nil {
		fmt.Println("bench-mesh: skipped:", err)
		return nil
	}
	work, err := os.MkdirTemp("", "bench-mesh-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Printf("building binaries...\n")
	if err := lab.Build(work); err != nil {
		return err
	}
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-f-%d", os.Getpid()), Nodes: *nodes, Links: 2})
	if err != nil {
		return err
	}
	defer l.Close()
	warn := (*keepalive + *deadtime) / 2
	c, err := l.WriteCluster(work, lab.ClusterOptions{Name: "bench", Keepalive: *keepalive, Warntime: warn, Deadtime: *deadtime, Initdead: 2 * *deadtime, Kinds: []string{*kind, *kind}})
	if err != nil {
		return err
	}
	m := &mesh{lab: l, cfg: c}
	for i, h := range l.Nodes {
		ev := filepath.Join(work, fmt.Sprintf("n%d-events.jsonl", i+1))
		p, err := h.Start(filepath.Join(work, "palisaded"), "--config", c.Configs[i], "--node", strconv.Itoa(i+1),
			"--event-log", ev, "--log-level", "warn")
		if err != nil {
			return err
		}
		m.procs = append(m.procs, p)
		m.events = append(m.events, ev)
	}
	fmt.Printf("%d nodes x 2 %s links, keepalive %v, warntime %v, deadtime %v\n", *nodes, *kind, *keepalive, warn, *deadtime)
	start := time.Now()
	if err := m.waitAgreed(*nodes, 30*time.Second); err != nil {
		return err
	}
	fmt.Printf("all %d nodes in one agreed view after %v\n", *nodes, time.Since(start).Round(time.Millisecond))

	if err := m.steadyState(*steady); err != nil {
		return err
	}
	return m.detection(*trials, *keepalive, *deadtime)
}

func (m *mesh) status(i int) (api.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var st api.Status
	err := control.Call(ctx, m.cfg.Sockets[i], "status", nil, &st)
	return st, err
}

func (m *mesh) waitAgreed(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := range m.lab.Nodes {
		for {
			st, err := m.status(i)
			if err == nil && st.View.Agreed && len(st.View.Members) == n {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("n%d: no agreed %d-node view within %v (err %v, view %d with %d members)\n%s", i+1, n, timeout, err, st.View.ID, len(st.View.Members), m.views())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// views describes every node's view, for an error message.
func (m *mesh) views() string {
	var b strings.Builder
	for i := range m.lab.Nodes {
		st, err := m.status(i)
		if err != nil {
			fmt.Fprintf(&b, "  n%d: %v\n", i+1, err)
			continue
		}
		fmt.Fprintf(&b, "  n%d: view %d agreed %v members %d;", i+1, st.View.ID, st.View.Agreed, len(st.View.Members))
		for _, ns := range st.Nodes {
			if ns.State != "up" {
				fmt.Fprintf(&b, " %s %s", ns.Name, ns.State)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func traffic(st api.Status) (tx, rx uint64) {
	for _, l := range st.Links {
		tx += l.TxBytes
		rx += l.RxBytes
	}
	return
}

func (m *mesh) steadyState(window time.Duration) error {
	n := len(m.procs)
	cpu0 := make([]lab.ProcCPU, n)
	tx0, rx0 := make([]uint64, n), make([]uint64, n)
	for i, p := range m.procs {
		var err error
		if cpu0[i], err = lab.ReadProcCPU(p.Pid()); err != nil {
			return err
		}
		st, err := m.status(i)
		if err != nil {
			return err
		}
		tx0[i], rx0[i] = traffic(st)
	}
	t0 := time.Now()
	time.Sleep(window)
	el := time.Since(t0).Seconds()
	var cpus, txs, rxs, exact, wakes []float64
	for i, p := range m.procs {
		c, err := lab.ReadProcCPU(p.Pid())
		if err != nil {
			return err
		}
		exact = append(exact, (c.OnCPU-cpu0[i].OnCPU).Seconds()/el*100)
		wakes = append(wakes, float64(c.Wakeups-cpu0[i].Wakeups)/el)
		st, err := m.status(i)
		if err != nil {
			return err
		}
		tx, rx := traffic(st)
		cpus = append(cpus, float64(c.Self-cpu0[i].Self)/lab.ClockTicks/el*100)
		txs = append(txs, float64(tx-tx0[i])/el)
		rxs = append(rxs, float64(rx-rx0[i])/el)
	}
	fmt.Printf("\nsteady state over %v (per node; CPU %% of one core):\n", window)
	fmt.Printf("  CPU %%      mean %6.2f  min %6.2f  max %6.2f\n", mean(cpus), slices.Min(cpus), slices.Max(cpus))
	fmt.Printf("  on-CPU %%   mean %6.2f  min %6.2f  max %6.2f  (schedstat, ns)\n", mean(exact), slices.Min(exact), slices.Max(exact))
	fmt.Printf("  wake-ups/s mean %6.1f  min %6.1f  max %6.1f  (voluntary context switches)\n", mean(wakes), slices.Min(wakes), slices.Max(wakes))
	fmt.Printf("  tx bytes/s mean %8.0f  min %8.0f  max %8.0f\n", mean(txs), slices.Min(txs), slices.Max(txs))
	fmt.Printf("  rx bytes/s mean %8.0f  min %8.0f  max %8.0f\n", mean(rxs), slices.Min(rxs), slices.Max(rxs))
	return nil
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// detection cuts a different node's links per trial and collects, from the
// peers' event logs, when each declared it lost.
func (m *mesh) detection(trials int, keepalive, deadtime time.Duration) error {
	n := len(m.procs)
	var all []time.Duration
	fmt.Printf("\ndetection: cut all links of one node, time until each peer logs node_lost\n")
	for trial := 0; trial < trials; trial++ {
		victim := (trial*5 + 1) % n // spread over the nodes, never the same twice in a row
		name := fmt.Sprintf("n%d", victim+1)
		// Random phase against the heartbeat timer.
		time.Sleep(time.Duration(trial*37%100) * time.Millisecond)
		cut := eventlog.Mono()
		if err := m.lab.Nodes[victim].CutAll(); err != nil {
			return err
		}
		var got []time.Duration
		deadline := time.Now().Add(10 * deadtime)
		for time.Now().Before(deadline) {
			got = got[:0]
			for i, path := range m.events {
				if i == victim {
					continue
				}
				es, err := eventlog.ReadFiles(path)
				if err != nil {
					return err
				}
				for _, e := range es {
					if e.Event == eventlog.NodeLost && e.Target == name && time.Duration(e.MonoNS) >= cut {
						got = append(got, time.Duration(e.MonoNS)-cut)
						break
					}
				}
			}
			if len(got) == n-1 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(got) != n-1 {
			return fmt.Errorf("trial %d: only %d of %d peers declared %s dead within %v", trial, len(got), n-1, name, 10*deadtime)
		}
		slices.Sort(got)
		fmt.Printf("  trial %d: %-3s  first %v  last %v\n", trial+1, name, got[0].Round(time.Millisecond), got[len(got)-1].Round(time.Millisecond))
		all = append(all, got...)
		if err := m.lab.Nodes[victim].RestoreAll(); err != nil {
			return err
		}
		if err := m.waitAgreed(n, 30*time.Second); err != nil {
			return err
		}
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))].Round(time.Millisecond) }
	bound := deadtime + keepalive
	within := 0
	for _, d := range all {
		if d <= bound {
			within++
		}
	}
	fmt.Printf("  %d detections: min %v  p50 %v  p90 %v  p99 %v  max %v\n", len(all), q(0), q(0.5), q(0.9), q(0.99), q(1))
	fmt.Printf("  configured deadtime %v; deadtime+keepalive %v; within it: %d/%d (%.1f%%)\n",
		deadtime, bound, within, len(all), 100*float64(within)/float64(len(all)))
	return nil
}
