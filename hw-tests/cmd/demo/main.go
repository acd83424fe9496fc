// Command demo shows a fenced failover on a three-node Palisade cluster in
// network namespaces (`make demo`, needs root): it builds the binaries,
// creates the lab (3 nodes + a client, 198.18.0.0/24, no default route),
// starts one ipmi_sim BMC per node whose power-off hook really cuts that
// node, starts the cluster with a group (palisade:vip + ocf:heartbeat:Dummy),
// cuts the node running it, and prints the measured timeline with the
// failover time in ms as its last line. Everything is removed at the end,
// also on Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"palisade/hw-tests/failover"
)

func main() {
	keep := flag.Bool("keep", false, "keep the work directory (configs, logs, event logs)")
	keepalive := flag.Duration("keepalive", 50*time.Millisecond, "heartbeat interval")
	deadtime := flag.Duration("deadtime", 250*time.Millisecond, "time without heartbeat before a node is declared dead")
	bin := flag.String("bin", "", "use palisaded and palisade from this directory instead of building them")
	flag.Parse()
	if err := run(*keep, *keepalive, *deadtime, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(keep bool, keepalive, deadtime time.Duration, bin string) error {
	if err := failover.Available(); err != nil {
		return fmt.Errorf("%w (run as root with iproute2 and openipmi installed: `make deps`)", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := failover.Start(ctx, failover.Options{Prefix: fmt.Sprintf("pa-e-%d", os.Getpid()), Nodes: 3,
		Keepalive: keepalive, Deadtime: deadtime, Keep: keep, BinDir: bin, Progress: os.Stdout})
	if err != nil {
		return err
	}
	closed := false
	cleanup := func() {
		if closed {
			return
		}
		closed = true
		fmt.Println("cleaning up namespaces, BMCs and processes")
		h.Close()
		if keep {
			fmt.Println("kept", h.Dir)
		}
	}
	defer cleanup()
	fmt.Printf("starting the cluster (keepalive %v, deadtime %v); waiting for the group vip(%s)+dummy to start\n", keepalive, deadtime, h.VIP)
	if ok, err := h.DCAttached(0, 10*time.Second); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("this palisaded does not run the DC layer (cmd/palisaded must run the DC layer, cluster/dcrun)")
	}
	active, err := h.WaitStarted(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("group running on n%d; the client in its namespace gets ARP answers for %s from %s\n", active+1, h.VIP, h.MACs[active])
	select { // a steady state before the fault
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
	}
	fmt.Printf("cutting n%d: power loss (BMC reports OFF, palisaded killed, links down)\n\n", active+1)
	fault, err := h.PowerCut(active)
	if err != nil {
		return err
	}
	tl, err := h.WaitTakeover(ctx, active, fault, 30*time.Second)
	if err != nil {
		return fmt.Errorf("%w; daemon logs in %s", err, h.Lab.LogDir)
	}
	vs, err := h.Violations()
	if err != nil {
		return err
	}
	for _, v := range vs {
		fmt.Println("ONE-RULE VIOLATION:", v)
	}
	if conf := h.FenceConfirmedAt(tl.Lost, fault); conf > 0 {
		if owners := h.OwnersAfter(conf); len(owners) > 1 {
			fmt.Println("DUPLICATE VIP after the fence:", owners)
		}
	}
	cleanup()
	fmt.Println()
	// The timeline last, so its last line is the failover time.
	fmt.Print(tl.String())
	return nil
}
