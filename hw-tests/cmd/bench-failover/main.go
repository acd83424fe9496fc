// Command bench-failover measures client-observed failover (`make
// bench-failover`, needs root): the demo scenario (3 nodes, power loss of
// the node holding the VIP, fencing through ipmi_sim BMCs) N times with
// keepalive 50ms / deadtime 250ms, then, in the same lab layout and run,
// keepalived (VRRP, advert_int 0.1, no fencing) holding the same VIP,
// killed the same way. It prints median/min/max of the gap the client in
// its namespace observed (last ARP answer from the old owner → first from
// the new one) and the ratio palisade/keepalived.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
	"palisade/hw-tests/lab"
)

func main() {
	runs := flag.Int("runs", 10, "failovers per stack")
	flag.IntVar(&killRunCount, "kill-runs", 10, "kill -9 failovers of palisaded (fault -> first answer, against deadtime)")
	bin := flag.String("bin", "", "use palisaded and palisade from this directory instead of building them")
	flag.StringVar(&only, "only", "", "run only one stack: palisade or keepalived")
	flag.Parse()
	if err := run(*runs, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "bench-failover:", err)
		os.Exit(1)
	}
}

var (
	only         string
	killRunCount int
	// confirm → VIP added / → first answer, over every palisade run.
	toAdded, toAnswer []float64
)

func run(runs int, bin string) error {
	if err := failover.Available(); err != nil {
		return err
	}
	if _, err := exec.LookPath("keepalived"); err != nil {
		return fmt.Errorf("keepalived not installed (Debian package keepalived): %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if bin == "" {
		dir, err := os.MkdirTemp("", "pa-e-bench-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		fmt.Println("building palisaded and palisade")
		if err := lab.Build(dir); err != nil {
			return err
		}
		bin = dir
	}
	var pal, kad []float64
	var palFail float64
	for i := range runs {
		if only == "keepalived" {
			break
		}
		gap, total, err := palisadeRun(ctx, bin, i)
		if err != nil {
			return fmt.Errorf("palisade run %d: %w", i+1, err)
		}
		fmt.Printf("palisade   run %2d: client gap %6.1f ms (fault -> first answer %6.1f ms)\n", i+1, gap, total)
		pal = append(pal, gap)
		palFail += total
	}
	for i := range runs {
		if only == "palisade" {
			break
		}
		gap, err := keepalivedRun(ctx, bin, i)
		if err != nil {
			return fmt.Errorf("keepalived run %d: %w", i+1, err)
		}
		fmt.Printf("keepalived run %2d: client gap %6.1f ms\n", i+1, gap)
		kad = append(kad, gap)
	}
	if only != "keepalived" {
		if err := killRuns(ctx, bin); err != nil {
			return err
		}
	}
	if only != "" {
		xs := pal
		if only == "keepalived" {
			xs = kad
		}
		if len(xs) == 0 {
			return nil
		}
		fmt.Printf("%s: median %.1f ms  min %.1f  max %.1f  (n=%d)\n", only, median(xs), slices.Min(xs), slices.Max(xs), len(xs))
		return nil
	}
	if len(toAdded) > 0 {
		fmt.Printf("fence confirmed -> VIP on the new owner's interface: median %.2f ms  max %.2f  (n=%d); target <= 5 ms: %v\n",
			median(toAdded), slices.Max(toAdded), len(toAdded), median(toAdded) <= 5)
		fmt.Printf("fence confirmed -> client's first answer from it (prober every 1 ms): median %.2f ms  max %.2f\n", median(toAnswer), slices.Max(toAnswer))
	}
	fmt.Println()
	fmt.Println("kill -9 of the HA daemon on the active node (the node, its links and its VIP stay up):")
	if err := palisadeKill(ctx, bin); err != nil {
		return fmt.Errorf("palisade kill -9 run: %w", err)
	}
	if err := keepalivedKill(ctx, bin); err != nil {
		return fmt.Errorf("keepalived kill -9 run: %w", err)
	}
	pm, kmed := median(pal), median(kad)
	fmt.Println()
	fmt.Printf("palisade   (keepalive 50ms, deadtime 250ms, IPMI fence verified OFF): median %.1f ms  min %.1f  max %.1f  (n=%d)\n", pm, slices.Min(pal), slices.Max(pal), len(pal))
	fmt.Printf("keepalived (advert_int 0.1, no fencing):                            median %.1f ms  min %.1f  max %.1f  (n=%d)\n", kmed, slices.Min(kad), slices.Max(kad), len(kad))
	fmt.Printf("ratio palisade/keepalived (median): %.2f; target median <= 400 ms: %v\n", pm/kmed, pm <= 400)
	return nil
}

// killRuns measures kill -9 of the active node's palisaded (its links
// and VIP stay up), fault -> first answer from the new owner.
func killRuns(ctx context.Context, bin string) error {
	var kills []float64
	for i := range killRunCount {
		total, err := palisadeKillRun(ctx, bin, i)
		if err != nil {
			return fmt.Errorf("palisade kill -9 run %d: %w", i+1, err)
		}
		fmt.Printf("palisade kill -9 run %2d: fault -> first answer from the new owner %6.1f ms\n", i+1, total)
		kills = append(kills, total)
	}
	if len(kills) > 0 {
		fmt.Printf("palisade kill -9 failover: median %.1f ms  min %.1f  max %.1f  (n=%d); deadtime 250 ms + 30 ms = 280 ms: %v\n",
			median(kills), slices.Min(kills), slices.Max(kills), len(kills), median(kills) <= 280)
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// settle waits for the cluster to be steady and then a random part of a
// heartbeat round: a node dies at any point of its peers' heartbeat
// phase, and a fixed wait after a start (which the DC schedules on a
// heartbeat) would cut at the same phase every run and measure one point
// of the window between deadtime - keepalive and deadtime instead of its
// spread. 100 ms covers palisaded's keepalive (50 ms) and keepalived's
// advert interval alike.
func settle(d time.Duration) { time.Sleep(d + rand.N(100*time.Millisecond)) }

func prefix(kind byte, i int) string { return fmt.Sprintf("pe%c%d%02d", kind, os.Getpid()%10000, i) }

func palisadeRun(ctx context.Context, bin string, i int) (gap, total float64, err error) {
	h, err := failover.Start(ctx, failover.Options{Prefix: prefix('p', i), Nodes: 3, BinDir: bin,
		Keepalive: 50 * time.Millisecond, Deadtime: 250 * time.Millisecond, ProbeEvery: time.Millisecond})
	if err != nil {
		return 0, 0, err
	}
	defer h.Close()
	if ok, err := h.DCAttached(0, 10*time.Second); err != nil {
		return 0, 0, err
	} else if !ok {
		return 0, 0, fmt.Errorf("this palisaded does not run the DC layer (cmd/palisaded must run the DC layer, cluster/dcrun)")
	}
	active, err := h.WaitStarted(ctx, 30*time.Second)
	if err != nil {
		return 0, 0, err
	}
	settle(500 * time.Millisecond)
	fault, err := h.PowerCut(active)
	if err != nil {
		return 0, 0, err
	}
	tl, err := h.WaitTakeover(ctx, active, fault, 20*time.Second)
	if err != nil {
		return 0, 0, err
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		return 0, 0, fmt.Errorf("one rule violated: %v", vs)
	}
	noteConfirm(tl)
	return tl.GapMS(), tl.FailoverMS(), nil
}

func noteConfirm(tl failover.Timeline) {
	if a := tl.ConfirmToAddedMS(); a >= 0 {
		toAdded = append(toAdded, a)
	}
	if a := tl.ConfirmToAnswerMS(); a >= 0 {
		toAnswer = append(toAnswer, a)
	}
}

// palisadeKillRun kills palisaded on the node holding the VIP (the node
// and its VIP stay up until it is fenced) and returns fault -> first
// answer from the new owner.
func palisadeKillRun(ctx context.Context, bin string, i int) (float64, error) {
	h, err := failover.Start(ctx, failover.Options{Prefix: prefix('q', i), Nodes: 3, BinDir: bin,
		Keepalive: 50 * time.Millisecond, Deadtime: 250 * time.Millisecond, ProbeEvery: time.Millisecond})
	if err != nil {
		return 0, err
	}
	defer h.Close()
	active, err := h.WaitStarted(ctx, 30*time.Second)
	if err != nil {
		return 0, err
	}
	settle(500 * time.Millisecond)
	fault, err := h.KillDaemon(active)
	if err != nil {
		return 0, err
	}
	tl, err := h.WaitTakeover(ctx, active, fault, 20*time.Second)
	if err != nil {
		return 0, err
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		return 0, fmt.Errorf("one rule violated: %v", vs)
	}
	if os.Getenv("PA_BENCH_DEBUG") != "" {
		fmt.Print(tl)
	}
	noteConfirm(tl)
	return tl.FailoverMS(), nil
}

const keepalivedConf = `global_defs {
  router_id %s
  vrrp_version 3
}
vrrp_instance pa_bench {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority %d
  advert_int 0.1
  virtual_ipaddress {
    %s/25 dev eth0
  }
}
`

// startKeepalived runs keepalived on every node of a bare lab.
func startKeepalived(h *failover.Harness) error {
	for j, n := range h.Lab.Nodes {
		dir := filepath.Join(h.Dir, fmt.Sprintf("kad-n%d", j+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		conf := filepath.Join(dir, "keepalived.conf")
		if err := os.WriteFile(conf, fmt.Appendf(nil, keepalivedConf, fmt.Sprintf("n%d", j+1), 200-10*j, h.VIP), 0o644); err != nil {
			return err
		}
		if _, err := n.Start("keepalived", "--dont-fork", "--log-console", "--vrrp", "-f", conf,
			"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"), "-c", filepath.Join(dir, "checkers.pid")); err != nil {
			return err
		}
	}
	return nil
}

func keepalivedRun(ctx context.Context, bin string, i int) (float64, error) {
	h, err := failover.Start(ctx, failover.Options{Prefix: prefix('k', i), Nodes: 3, BinDir: bin, NoDaemons: true, ProbeEvery: time.Millisecond})
	if err != nil {
		return 0, err
	}
	defer h.Close()
	if err := startKeepalived(h); err != nil {
		return 0, err
	}
	if _, err := h.WaitHolder(ctx, 20*time.Second); err != nil {
		return 0, err
	}
	// VRRP instances may be master in turn while they start: wait for
	// one steady owner, then cut the node that answers now.
	settle(time.Second)
	active, err := h.WaitHolder(ctx, 5*time.Second)
	if err != nil {
		return 0, err
	}
	if owners := h.OwnersAfter(eventlog.Mono() - 500*time.Millisecond); len(owners) != 1 {
		return 0, fmt.Errorf("keepalived did not settle on one owner: %v", owners)
	}
	before := eventlog.Mono()
	fault, err := h.PowerCut(active)
	if err != nil {
		return 0, err
	}
	_, lastOld, firstNew, err := h.WaitNewOwner(ctx, active, fault, 20*time.Second)
	if err != nil {
		return 0, err
	}
	if os.Getenv("PA_BENCH_DEBUG") != "" {
		for _, r := range h.Replies() {
			if r.Mono > before-500*time.Millisecond && r.Mono < firstNew+100*time.Millisecond {
				fmt.Printf("  %+8.1f ms %s solicited=%v\n", float64(r.Mono-fault)/1e6, r.MAC, r.Solicited)
			}
		}
		fmt.Printf("  active n%d %s\n", active+1, h.MACs[active])
	}
	if lastOld == 0 {
		lastOld = fault
	}
	return float64(firstNew-lastOld) / 1e6, nil
}

// palisadeKill kills palisaded on the active node and reports who answers
// for the VIP afterwards.
func palisadeKill(ctx context.Context, bin string) error {
	h, err := failover.Start(ctx, failover.Options{Prefix: prefix('p', 99), Nodes: 3, BinDir: bin,
		Keepalive: 50 * time.Millisecond, Deadtime: 250 * time.Millisecond})
	if err != nil {
		return err
	}
	defer h.Close()
	active, err := h.WaitStarted(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	settle(500 * time.Millisecond)
	fault, err := h.KillDaemon(active)
	if err != nil {
		return err
	}
	tl, err := h.WaitTakeover(ctx, active, fault, 20*time.Second)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	conf := h.FenceConfirmedAt(tl.Lost, fault)
	on, _ := h.Sims[active].Power()
	fmt.Printf("  palisade:   n%d fenced (powered on afterwards: %v), new owner %s after %.0f ms; MACs answering for the VIP since the fence: %v\n",
		active+1, on, tl.NewOwner, tl.FailoverMS(), h.OwnersAfter(conf))
	return nil
}

// keepalivedKill kills every keepalived process of the master with
// SIGKILL (children first, so none gets to resign) and reports who answers
// for the VIP afterwards.
func keepalivedKill(ctx context.Context, bin string) error {
	h, err := failover.Start(ctx, failover.Options{Prefix: prefix('k', 99), Nodes: 3, BinDir: bin, NoDaemons: true})
	if err != nil {
		return err
	}
	defer h.Close()
	if err := startKeepalived(h); err != nil {
		return err
	}
	if _, err := h.WaitHolder(ctx, 20*time.Second); err != nil {
		return err
	}
	settle(time.Second)
	active, err := h.WaitHolder(ctx, 5*time.Second)
	if err != nil {
		return err
	}
	out, err := exec.Command("ip", "netns", "pids", h.Lab.Nodes[active].Name).Output()
	if err != nil {
		return fmt.Errorf("listing keepalived processes: %w", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) == "keepalived" {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	slices.Reverse(pids)
	fault := eventlog.Mono()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	time.Sleep(3 * time.Second)
	owners := h.OwnersAfter(eventlog.Mono() - time.Second)
	fmt.Printf("  keepalived: killed %d keepalived processes on n%d; MACs answering for the VIP in the last second (%.0f ms after the kill): %v\n",
		len(pids), active+1, float64(eventlog.Mono()-fault)/1e6, owners)
	return nil
}
