package hwtests

// The safety issue's fault scenarios against real daemons in a netns lab
// (package failover) whose cluster traffic has a network of its own:
// cutting a node off, or splitting the cluster, moves heartbeat ports to
// separate bridges while the node keeps answering ARP for a VIP it holds
// and keeps reaching the BMCs (so a node that wrongly acts is seen doing
// it); SIGSTOP beyond
// deadtime, BMC faults, reboot fencing, a two-node split and a broken
// resource. Each run is checked from the event logs (recovery.Verify, and
// that only the nodes the scenario disturbed were fenced) and from the
// client's ARP capture (two MACs answering for the VIP at once for more
// than 50 ms is a violation).
//
// TestSafetyScenarios runs each once; TestSafetyRandom runs -safety-runs
// of them in an order picked by -safety-seed (0: the clock), e.g.
//
//	go test ./hw-tests -run TestSafetyRandom -safety-runs 50 -v

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
)

var (
	safetyRuns = flag.Int("safety-runs", 2, "how many randomly chosen safety scenarios TestSafetyRandom runs")
	safetySeed = flag.Uint64("safety-seed", 0, "seed of TestSafetyRandom's choices (0: from the clock, printed)")
)

// safetyScenario is one fault scenario: opts for the lab, run injects the
// faults and returns the nodes (0-based) it may legitimately have fenced.
type safetyScenario struct {
	name string
	opts failover.Options
	run  func(t *testing.T, h *failover.Harness) (mayFence []int)
}

var safetyScenarios = []safetyScenario{
	{"cut-off-holder", failover.Options{Nodes: 3, HeartbeatLink: true}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		fault, err := h.CutCluster(holder)
		if err != nil {
			t.Fatal(err)
		}
		waitTakeover(t, h, holder, fault, 20*time.Second)
		return []int{holder}
	}},
	{"cut-off-idle-node", failover.Options{Nodes: 3, HeartbeatLink: true}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		idle := (holder + 1) % 3
		fault, err := h.CutCluster(idle)
		if err != nil {
			t.Fatal(err)
		}
		waitFenced(t, h, idle, fault, 20*time.Second)
		if h2, _ := h.Holder(); h2 != holder {
			t.Errorf("the group moved from n%d to n%d although only the idle n%d was lost", holder+1, h2+1, idle+1)
		}
		return []int{idle}
	}},
	// Five nodes: after the holder is fenced, four remain, and three of
	// them still hold quorum when the DC is cut off too.
	{"partition-holder-then-dc", failover.Options{Nodes: 5, HeartbeatLink: true}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		fault, err := h.CutCluster(holder)
		if err != nil {
			t.Fatal(err)
		}
		waitTakeover(t, h, holder, fault, 20*time.Second)
		dc := currentDC(t, h)
		fault2, err := h.CutCluster(dc)
		if err != nil {
			t.Fatal(err)
		}
		waitFenced(t, h, dc, fault2, 20*time.Second)
		if _, err := h.WaitHolder(context.Background(), 20*time.Second); err != nil {
			t.Error(err)
		}
		return []int{holder, dc}
	}},
	{"sigstop-holder", failover.Options{Nodes: 3, HeartbeatLink: true}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		fault, err := h.Pause(holder)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * h.Opts.Deadtime)
		h.Resume(holder) // it was fenced meanwhile: nothing left to resume, or it must not act
		waitTakeover(t, h, holder, fault, 20*time.Second)
		return []int{holder}
	}},
	{"sigstop-holder-bmc-down", failover.Options{Nodes: 3, HeartbeatLink: true}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		h.BreakBMC(holder)
		fault, err := h.Pause(holder)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * h.Opts.Deadtime)
		if err := h.Resume(holder); err != nil {
			t.Fatal(err)
		}
		// It comes back: nothing of it may have moved (it could not be
		// fenced), and once it rejoined it keeps the group.
		time.Sleep(3 * h.Opts.Deadtime)
		if owners := h.OwnersAfter(fault); len(owners) > 1 {
			t.Errorf("the VIP was answered by %v: the group moved although n%d was never fenced", owners, holder+1)
		}
		if err := h.RepairBMC(holder); err != nil {
			t.Fatal(err)
		}
		return []int{holder}
	}},
	{"bmc-unreachable-then-cut", failover.Options{Nodes: 3, HeartbeatLink: true, FenceTuning: "retry: {initial: 300ms, max: 1s}\nattempt_timeout: 10s"}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		h.BreakBMC(holder)
		fault, err := h.CutCluster(holder)
		if err != nil {
			t.Fatal(err)
		}
		lost := fmt.Sprintf("n%d", holder+1)
		deadline := time.Now().Add(15 * time.Second)
		for len(entries(t, h, fault, eventlog.FenceFailed, lost)) < 2 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if len(entries(t, h, fault, eventlog.FenceFailed, lost)) < 2 {
			t.Fatalf("no failed fence attempts of %s logged", lost)
		}
		if owners := h.OwnersAfter(fault + 2*h.Opts.Deadtime); len(owners) > 1 {
			t.Errorf("the VIP was answered by %v while %s could not be fenced", owners, lost)
		}
		if err := h.RepairBMC(holder); err != nil {
			t.Fatal(err)
		}
		waitTakeover(t, h, holder, fault, 20*time.Second)
		return []int{holder}
	}},
	{"reboot-then-kill-after-rejoin", failover.Options{Nodes: 3, HeartbeatLink: true, FenceTuning: "action: reboot\nretry: {initial: 500ms, max: 2s}\nattempt_timeout: 15s"}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		node := fmt.Sprintf("n%d", holder+1)
		fault, err := h.KillDaemon(holder)
		if err != nil {
			t.Fatal(err)
		}
		tl := waitTakeover(t, h, holder, fault, 20*time.Second)
		bootWhenOn(t, h, holder)
		waitMember(t, h, holder, 20*time.Second)
		// The group goes back to the rebooted node, which then dies again.
		owner := ownerIndex(t, h, tl)
		if out, err := h.Palisade(owner, "resource", "move", "grp", node); err != nil {
			t.Fatalf("resource move: %v: %s", err, out)
		}
		if _, err := h.WaitHolder(context.Background(), 20*time.Second); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for hi, _ := h.Holder(); hi != holder && time.Now().Before(deadline); hi, _ = h.Holder() {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		fault2, err := h.KillDaemon(holder)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := h.Palisade(owner, "resource", "clear", "grp"); err != nil {
			t.Fatalf("resource clear: %v: %s", err, out)
		}
		waitFenced(t, h, holder, fault2, 20*time.Second)
		return []int{holder}
	}},
	{"two-node-split", failover.Options{Nodes: 2, TwoNode: true, HeartbeatLink: true, FenceTuning: "static_delay: {n1: 2s}\nretry: {initial: 500ms, max: 2s}\nattempt_timeout: 15s"}, func(t *testing.T, h *failover.Harness) []int {
		waitStarted(t, h)
		fault, err := h.CutCluster(0)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for len(entries(t, h, fault, eventlog.FenceConfirmed, "")) == 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(3 * time.Second) // the delayed shot, if any, would have fired
		var off []int
		for i := range 2 {
			if on, _ := h.Sims[i].Power(); !on {
				off = append(off, i)
			}
		}
		if len(off) != 1 {
			t.Errorf("after the split %d nodes are powered off, want exactly one", len(off))
		}
		return []int{0, 1}
	}},
	{"broken-resource-and-standby", failover.Options{Nodes: 3, HeartbeatLink: true}, func(t *testing.T, h *failover.Harness) []int {
		holder := waitStarted(t, h)
		other := (holder + 1) % 3
		broken := `  options: {stonith-enabled: true, no-quorum-policy: stop}
  rsc_defaults: {resource-stickiness: 100, migration-threshold: 3}
  resources:
    - id: grp
      kind: group
      members:
        - id: vip
          class: palisade
          type: vip
          params: {ip: "{{VIP}}", cidr_netmask: "26", nic: eth0, arp_count: "5", arp_interval: "200", dad_timeout: "30"}
          ops: [{name: monitor, interval: 1s, timeout: 5s}]
        - id: dummy
          class: ocf
          provider: heartbeat
          type: Dummy
          ops: [{name: monitor, interval: 2s, timeout: 10s}]
    - id: badvip
      class: palisade
      type: vip
      params: {ip: 198.19.0.500, cidr_netmask: "24", nic: eth0}
      ops: [{name: monitor, interval: 1s, timeout: 5s}]
`
		file := filepath.Join(h.Dir, "broken.yaml")
		if err := os.WriteFile(file, []byte("resources:\n"+strings.ReplaceAll(broken, "{{VIP}}", h.VIP.String())), 0o644); err != nil {
			t.Fatal(err)
		}
		since := eventlog.Mono()
		// The push may be refused (validation) or accepted; either way
		// nothing may be fenced.
		out, err := h.Palisade(other, "config", "push", "--force", file)
		t.Logf("push of a broken VIP: err=%v: %s", err, strings.TrimSpace(out))
		if out, err := h.Palisade(other, "node", "standby", fmt.Sprintf("n%d", holder+1)); err != nil {
			t.Fatalf("node standby: %v: %s", err, out)
		}
		if _, _, _, err := h.WaitNewOwner(context.Background(), holder, since, 20*time.Second); err != nil {
			t.Errorf("the group did not move off the node in standby: %v", err)
		}
		time.Sleep(3 * time.Second)
		return nil
	}},
}

func TestSafetyScenarios(t *testing.T) {
	for _, s := range safetyScenarios {
		t.Run(s.name, func(t *testing.T) { runSafety(t, s) })
	}
}

// TestSafetyRandom runs randomly chosen scenarios, one after the other.
func TestSafetyRandom(t *testing.T) {
	seed := *safetySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d: go test ./hw-tests -run TestSafetyRandom -safety-runs %d -safety-seed %d -v", seed, *safetyRuns, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range *safetyRuns {
		s := safetyScenarios[rng.IntN(len(safetyScenarios))]
		if !t.Run(fmt.Sprintf("%02d-%s", i+1, s.name), func(t *testing.T) { runSafety(t, s) }) {
			return
		}
	}
}

func runSafety(t *testing.T, s safetyScenario) {
	h := startFailover(t, s.opts)
	since := eventlog.Mono()
	may := s.run(t, h)
	if err := h.HealCluster(); err != nil {
		t.Error(err)
	}
	time.Sleep(time.Second)
	checkSafety(t, h, since, may)
}

// checkSafety: the one rule from the logs, fencing only of the nodes the
// scenario disturbed, and never two VIP owners for more than 50 ms.
func checkSafety(t *testing.T, h *failover.Harness, since time.Duration, mayFence []int) {
	t.Helper()
	vs, err := h.Violations()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("one rule violated: %s", v)
	}
	for _, e := range entries(t, h, since, eventlog.FenceRequested, "") {
		if !slices.ContainsFunc(mayFence, func(i int) bool { return e.Target == fmt.Sprintf("n%d", i+1) }) {
			t.Errorf("%s requested fencing of %s (%s), which the scenario never disturbed", e.Writer, e.Target, e.Detail)
		}
	}
	for _, o := range h.Overlaps(since, 50*time.Millisecond) {
		t.Errorf("two VIP owners: %s", o)
	}
}

// waitFenced waits for a confirmed fence of node i after since.
func waitFenced(t *testing.T, h *failover.Harness, i int, since, timeout time.Duration) {
	t.Helper()
	node := fmt.Sprintf("n%d", i+1)
	deadline := time.Now().Add(timeout)
	for h.FenceConfirmedAt(node, since) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not fenced within %v", node, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dcSection is the DC layer's part of node i's status ("" DC when the
// node cannot answer).
func dcSection(h *failover.Harness, i int) (dc string, quorate, agreed bool) {
	out, err := h.Palisade(i, "status", "--json")
	if err != nil {
		return "", false, false
	}
	var st struct {
		Extra struct {
			DC struct {
				DC      string `json:"dc"`
				Quorate bool   `json:"quorate"`
				Agreed  bool   `json:"agreed"`
			} `json:"dc"`
		} `json:"extra"`
	}
	if json.Unmarshal([]byte(out), &st) != nil {
		return "", false, false
	}
	return st.Extra.DC.DC, st.Extra.DC.Quorate, st.Extra.DC.Agreed
}

// currentDC asks the live nodes who the DC of a quorate view is.
func currentDC(t *testing.T, h *failover.Harness) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i := range h.Lab.Nodes {
			if on, _ := h.Sims[i].Power(); !on {
				continue
			}
			if dc, q, a := dcSection(h, i); q && a && dc != "" {
				return int(dc[1] - '1')
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("no node knows the DC of a quorate view")
	return -1
}

// bootWhenOn boots node i once its BMC reports it on again (reboot fence).
func bootWhenOn(t *testing.T, h *failover.Harness, i int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if on, _ := h.Sims[i].Power(); on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n%d was not powered on again by the reboot fence", i+1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := h.Boot(i); err != nil {
		t.Fatal(err)
	}
}

// waitMember waits until node i is in the DC's view again.
func waitMember(t *testing.T, h *failover.Harness, i int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, q, a := dcSection(h, i); q && a {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("n%d did not rejoin within %v", i+1, timeout)
}

// ownerIndex is the node that answered for the VIP after the takeover.
func ownerIndex(t *testing.T, h *failover.Harness, tl failover.Timeline) int {
	t.Helper()
	hi, err := h.Holder()
	if err != nil || hi < 0 {
		t.Fatalf("no VIP holder after the takeover: %v", err)
	}
	return hi
}
