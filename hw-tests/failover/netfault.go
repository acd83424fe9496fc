package failover

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"palisade/cluster/eventlog"
)

// heartbeatLink is the lab link that carries the cluster's traffic when
// Options.HeartbeatLink is set.
const heartbeatLink = 2

var errNoHeartbeatLink = errors.New("the lab needs Options.HeartbeatLink to cut cluster traffic alone")

// CutCluster cuts node i off the cluster's network (every peer): the
// node keeps its VIP network (it still answers ARP for a VIP it holds)
// and its BMC network. It returns the monotonic time of the cut.
func (h *Harness) CutCluster(i int) (time.Duration, error) {
	var rest []int
	for p := range h.Lab.Nodes {
		if p != i {
			rest = append(rest, p)
		}
	}
	return h.Partition(rest, []int{i})
}

// Partition splits the cluster's network into groups of nodes (0-based).
func (h *Harness) Partition(groups ...[]int) (time.Duration, error) {
	if !h.Opts.HeartbeatLink {
		return 0, errNoHeartbeatLink
	}
	t := eventlog.Mono()
	if err := h.Lab.Partition(heartbeatLink, groups); err != nil {
		return t, fmt.Errorf("partition %v: %w", groups, err)
	}
	return t, nil
}

// HealCluster joins the cluster's network again.
func (h *Harness) HealCluster() error {
	if !h.Opts.HeartbeatLink {
		return errNoHeartbeatLink
	}
	return h.Lab.Heal(heartbeatLink)
}

// Pause stops palisaded on node i (SIGSTOP); Resume continues it.
func (h *Harness) Pause(i int) (time.Duration, error) {
	t := eventlog.Mono()
	if h.Procs[i] == nil {
		return t, fmt.Errorf("no daemon on n%d", i+1)
	}
	return t, h.Procs[i].Signal(syscall.SIGSTOP)
}

// Resume continues a paused palisaded.
func (h *Harness) Resume(i int) error {
	if h.Procs[i] == nil {
		return fmt.Errorf("no daemon on n%d", i+1)
	}
	return h.Procs[i].Signal(syscall.SIGCONT)
}

// RepairBMC makes node i's BMC reachable again after BreakBMC.
func (h *Harness) RepairBMC(i int) error {
	old := h.relays[i]
	r, err := startRelay(old.ns, old.listen, old.upText)
	if err != nil {
		return err
	}
	h.relays[i] = r
	return nil
}
