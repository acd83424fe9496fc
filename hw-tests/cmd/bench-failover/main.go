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
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
	"palisade/hw-tests/lab"
)

func main() {
	runs := flag.Int("runs", 10, "failovers per stack")
	bin := flag.String("bin", "", "use palisaded and palisade from this directory instead of building them")
	flag.StringVar(&only, "only", "", "run only one stack: palisade or keepalived")
	flag.Parse()
	if err := run(*runs, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "bench-failover:", err)
		os.Exit(1)
	}
}

var only string

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
	if only != "" {
		xs := pal
		if only == "keepalived" {
			xs = kad
		}
		fmt.Printf("%s: median %.1f ms  min %.1f  max %.1f  (n=%d)\n", only, median(xs), slices.Min(xs), slices.Max(xs), len(xs))
		return nil
	}
	pm, kmed := median(pal), median(kad)
	fmt.Println()
	fmt.Printf("palisade   (keepalive 50ms, deadtime 250ms, IPMI fence verified OFF): median %.1f ms  min %.1f  max %.1f  (n=%d)\n", pm, slices.Min(pal), slices.Max(pal), len(pal))
	fmt.Printf("keepalived (advert_int 0.1, no fencing):                            median %.1f ms  min %.1f  max %.1f  (n=%d)\n", kmed, slices.Min(kad), slices.Max(kad), len(kad))
	fmt.Printf("ratio palisade/keepalived (median): %.2f; target median <= 400 ms: %v\n", pm/kmed, pm <= 400)
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

func prefix(kind byte, i int) string { return fmt.Sprintf("pe%c%d%02d", kind, os.Getpid()%10000, i) }

func palisadeRun(ctx context.Context, bin string, i int) (gap, total float64, err error) {
	h, err := failover.Start(ctx, failover.Options{Prefix: prefix('p', i), Nodes: 3, BinDir: bin,
		Keepalive: 50 * time.Millisecond, Deadtime: 250 * time.Millisecond})
	if err != nil {
		return 0, 0, err
	}
	defer h.Close()
	if ok, err := h.DCAttached(0, 10*time.Second); err != nil {
		return 0, 0, err
	} else if !ok {
		return 0, 0, fmt.Errorf("this palisaded does not run the DC layer (cmd/palisaded must call cluster/dc.Attach)")
	}
	active, err := h.WaitStarted(ctx, 30*time.Second)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(500 * time.Millisecond)
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
	return tl.GapMS(), tl.FailoverMS(), nil
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

func keepalivedRun(ctx context.Context, bin string, i int) (float64, error) {
	h, err := failover.Start(ctx, failover.Options{Prefix: prefix('k', i), Nodes: 3, BinDir: bin, NoDaemons: true})
	if err != nil {
		return 0, err
	}
	defer h.Close()
	for j, n := range h.Lab.Nodes {
		dir := filepath.Join(h.Dir, fmt.Sprintf("kad-n%d", j+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, err
		}
		conf := filepath.Join(dir, "keepalived.conf")
		if err := os.WriteFile(conf, fmt.Appendf(nil, keepalivedConf, fmt.Sprintf("n%d", j+1), 200-10*j, h.VIP), 0o644); err != nil {
			return 0, err
		}
		if _, err := n.Start("keepalived", "--dont-fork", "--log-console", "--vrrp", "-f", conf,
			"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"), "-c", filepath.Join(dir, "checkers.pid")); err != nil {
			return 0, err
		}
	}
	if _, err := h.WaitHolder(ctx, 20*time.Second); err != nil {
		return 0, err
	}
	// VRRP instances may be master in turn while they start: wait for
	// one steady owner, then cut the node that answers now.
	time.Sleep(time.Second)
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
