// Command bench-idle measures what an idle palisaded costs: one node in a
// network namespace (needs root) running two resources, a virtual IP
// (palisade:vip) and ocf:heartbeat:Dummy, each with a recurring monitor.
// Once the resources run and the cluster has settled, it reads the
// daemon's utime+stime from /proc/PID/stat over a window and prints it as
// % of one core; the agents' own CPU (the monitor scripts, the children's
// cutime+cstime) is printed separately.
//
//	go run ./hw-tests/cmd/bench-idle [-window 60s] [-keepalive 2s] [-monitor 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/node/control"
	"palisade/hw-tests/lab"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-idle:", err)
		os.Exit(1)
	}
}

func run() error {
	window := flag.Duration("window", 60*time.Second, "measurement window once settled")
	settle := flag.Duration("settle", 5*time.Second, "wait after the resources run before measuring")
	// The daemon's defaults (Heartbeat's): keepalive 2s, warntime 10s,
	// deadtime 30s.
	keepalive := flag.Duration("keepalive", 2*time.Second, "keepalive")
	warntime := flag.Duration("warntime", 10*time.Second, "warntime")
	deadtime := flag.Duration("deadtime", 30*time.Second, "deadtime")
	monitor := flag.Duration("monitor", 10*time.Second, "recurring monitor interval of both resources")
	flag.Parse()
	if err := lab.Available(); err != nil {
		fmt.Println("bench-idle: skipped:", err)
		return nil
	}
	if _, err := os.Stat("/usr/lib/ocf/resource.d/heartbeat/Dummy"); err != nil {
		fmt.Println("bench-idle: skipped: ocf:heartbeat:Dummy not installed (Debian package resource-agents)")
		return nil
	}
	work, err := os.MkdirTemp("", "bench-idle-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Printf("building binaries...\n")
	if err := lab.Build(work); err != nil {
		return err
	}
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-i-%d", os.Getpid()), Nodes: 1, Links: 1})
	if err != nil {
		return err
	}
	defer l.Close()
	vip := l.SpareAddr(0, 1)
	res := fmt.Sprintf(`resources:
  options: {stonith-enabled: false, no-quorum-policy: ignore}
  resources:
    - id: vip
      class: palisade
      type: vip
      params: {ip: %s, cidr_netmask: "%d", nic: eth0}
      ops: [{name: monitor, interval: %v, timeout: 5s}]
    - id: dummy
      class: ocf
      provider: heartbeat
      type: Dummy
      ops: [{name: monitor, interval: %v, timeout: 10s}]
`, vip, lab.Subnet(0, l.Links).Bits(), *monitor, *monitor)
	c, err := l.WriteCluster(work, lab.ClusterOptions{Name: "idle", Keepalive: *keepalive, Warntime: *warntime,
		Deadtime: *deadtime, Initdead: *deadtime, Extra: res})
	if err != nil {
		return err
	}
	p, err := l.Nodes[0].Start(filepath.Join(work, "palisaded"), "--config", c.Configs[0], "--node", "1", "--log-level", "warn")
	if err != nil {
		return err
	}
	defer p.Stop()
	fmt.Printf("1 node, vip %s + ocf:heartbeat:Dummy, monitors every %v, keepalive %v, warntime %v, deadtime %v\n",
		vip, *monitor, *keepalive, *warntime, *deadtime)
	start := time.Now()
	if err := waitRunning(c.Sockets[0], []string{"vip", "dummy"}, *deadtime+30*time.Second); err != nil {
		return fmt.Errorf("%w\ndaemon output:\n%s", err, p.Output())
	}
	fmt.Printf("both resources running after %v; settling %v\n", time.Since(start).Round(time.Millisecond), *settle)
	time.Sleep(*settle)

	c0, err := lab.ReadProcCPU(p.Pid())
	if err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(*window)
	el := time.Since(t0).Seconds()
	c1, err := lab.ReadProcCPU(p.Pid())
	if err != nil {
		return err
	}
	select {
	case <-p.Done():
		return fmt.Errorf("palisaded exited during the window: %v\n%s", p.Err(), p.Output())
	default:
	}
	if err := waitRunning(c.Sockets[0], []string{"vip", "dummy"}, 5*time.Second); err != nil {
		return fmt.Errorf("after the window: %w", err)
	}
	self := float64(c1.Self-c0.Self) / lab.ClockTicks / el * 100
	kids := float64(c1.Children-c0.Children) / lab.ClockTicks / el * 100
	fmt.Printf("\nidle over %v:\n", time.Duration(el*float64(time.Second)).Round(time.Second))
	fmt.Printf("  palisaded CPU            %6.3f %% of one core (utime+stime)\n", self)
	fmt.Printf("  palisaded on-CPU         %6.3f %% of one core (schedstat of its threads, exact)\n", (c1.OnCPU-c0.OnCPU).Seconds()/el*100)
	fmt.Printf("  palisaded wake-ups       %6.1f a second (voluntary context switches)\n", float64(c1.Wakeups-c0.Wakeups)/el)
	fmt.Printf("  resource agents' CPU     %6.3f %% of one core (children's cutime+cstime: the Dummy monitor script)\n", kids)
	return nil
}

// waitRunning waits until the node's DC status shows every resource in
// rscs started on n1 and nothing in flight.
func waitRunning(sock string, rscs []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var st api.Status
		err := control.Call(ctx, sock, api.CmdStatus, nil, &st)
		cancel()
		switch {
		case err != nil:
			last = err.Error()
		case st.DC == nil:
			last = "no DC status"
		default:
			var running []string
			for _, r := range st.DC.Status.Resources {
				if r.Node == "n1" && !r.Failed && (r.Role == "" || r.Role == "Started") {
					running = append(running, r.Rsc)
				}
			}
			slices.Sort(running)
			ok := len(st.DC.Inflight) == 0
			for _, r := range rscs {
				ok = ok && slices.Contains(running, r)
			}
			if ok {
				return nil
			}
			last = fmt.Sprintf("view %d quorate %v, running %v, %d in flight", st.DC.View, st.DC.Quorate, running, len(st.DC.Inflight))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("resources %v not running on n1 within %v (last: %s)", rscs, timeout, last)
}
