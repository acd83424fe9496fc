package hwtests

// Arbitration scenarios of issue 13, against real daemons in a netns lab
// (package failover): two nodes whose cluster link breaks while both
// still reach a quorum device — a palisade-arbiter at a third site (the
// client namespace, on the management network) or a quorum disk (loop
// devices over one file, one per node, as with a SAN) — the arbiter lost,
// a disk lost, a ping group lost. Every test checks from the merged event
// logs that at most one side was quorate after the fault, that the other
// neither fenced nor started anything, and that no resource of a lost
// node started before that node was confirmed fenced (recovery.Verify).
// The figures (decision times, fence and takeover) are logged.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/dc"
	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
	"palisade/hw-tests/lab"
)

// Timing of these labs: keepalive 100ms, deadtime 1s (startFailover's
// defaults). The arbiter's lease is 3s, reports every 500ms; the disk's
// loop is 100ms, dead-after 400ms (dead-after + takeover fits in the
// deadtime), msgwait 2s for a 1s watchdog.
const (
	qdArbiterLease = 3 * time.Second
	qdWatchdog     = time.Second
	qdMsgwait      = 2 * time.Second
)

var qdDiskFlags = []string{"--watchdog", "1s", "--msgwait", "2s", "--loop", "100ms", "--io-timeout", "100ms", "--dead-after", "400ms", "--slots", "8"}

// quorumLab starts a two-node failover lab (cluster traffic on a link of
// its own); prepare runs once the lab exists (to start an arbiter, make
// disks) and returns how each node's configuration changes before its
// daemon starts.
func quorumLab(t *testing.T, resources string, prepare func(h *failover.Harness) func(i int, cfg string) string) *failover.Harness {
	t.Helper()
	return quorumLabWith(t, resources, "retry: {initial: 500ms, max: 2s}\nattempt_timeout: 15s", prepare)
}

// quorumLabWith is quorumLab with the fencing section's tuning lines.
func quorumLabWith(t *testing.T, resources, fencing string, prepare func(h *failover.Harness) func(i int, cfg string) string) *failover.Harness {
	t.Helper()
	if err := failover.Available(); err != nil {
		t.Skip(err)
	}
	return quorumLabN(t, 2, labPrefix("pq"), resources, fencing, prepare)
}

// quorumLabN is quorumLabWith for a lab of nodes nodes whose namespaces
// start with prefix.
func quorumLabN(t *testing.T, nodes int, prefix, resources, fencing string, prepare func(h *failover.Harness) func(i int, cfg string) string) *failover.Harness {
	t.Helper()
	if err := failover.Available(); err != nil {
		t.Skip(err)
	}
	o := failover.Options{Nodes: nodes, HeartbeatLink: true, NoDaemons: true, Resources: resources,
		Keepalive: 100 * time.Millisecond, Deadtime: time.Second,
		FenceTuning: fencing, Prefix: prefix}
	if o.BinDir = os.Getenv("PALISADE_FAILOVER_BIN"); o.BinDir == "" {
		o.BinDir = palisadeBins(t)
	}
	o.WorkDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := failover.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("PALISADE_TEST_DUMP") != "" {
			dumpLogs(t, h)
		}
		h.Close()
	})
	edit := prepare(h)
	for i, path := range h.Configs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(edit(i, string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range h.Lab.Nodes {
		if err := h.StartDaemon(i); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := h.DCAttached(0, 15*time.Second); err != nil || !ok {
		t.Fatalf("palisaded n1 did not come up with its DC layer: %v", err)
	}
	return h
}

// qdResources is the failover group, preferring n2, plus extra location
// constraints.
func qdResources(extra string) string {
	return fmt.Sprintf(`  options: {stonith-enabled: true, no-quorum-policy: stop}
  rsc_defaults: {resource-stickiness: 100, migration-threshold: 3}
  resources:
    - id: grp
      kind: group
      members:
        - id: vip
          class: palisade
          type: vip
          params: {ip: {{VIP}}, cidr_netmask: "%d", nic: eth0, arp_count: "5", arp_interval: "200", dad_timeout: "30"}
          ops: [{name: monitor, interval: 1s, timeout: 5s}]
        - id: dummy
          class: ocf
          provider: heartbeat
          type: Dummy
          ops: [{name: monitor, interval: 2s, timeout: 10s}]
  constraints:
    locations:
      - {id: grp-prefers-n2, rsc: grp, node: n2, score: 50}
%s`, lab.Subnet(0, 3).Bits(), extra)
}

// pingRule keeps the group off a node whose uplink ping group is down
// (ipfail, in location-rule form).
const pingRule = `      - id: grp-needs-uplink
        rsc: grp
        rules:
          - score: -INFINITY
            boolean-op: or
            expressions: [{attribute: pingd, operation: not_defined}, {attribute: pingd, operation: lt, value: "100", type: number}]
`

// heuristics is the quorum.heuristics section: one group, the client's
// address on the VIP network (the nodes' uplink).
func heuristics(h *failover.Harness) string {
	return fmt.Sprintf("  heuristics:\n    interval: 200ms\n    timeout: 600ms\n    ping_groups:\n      - {name: uplink, addresses: [%s], weight: 100}\n", h.Lab.Client.Addrs[0])
}

// withQuorum puts section (the lines under quorum:) into a node's file.
func withQuorum(cfg, section string) string { return cfg + "quorum:\n" + section }

// cutUplink makes node i lose its uplink: the ping group's address is
// unreachable from it (a routing failure upstream); the VIP network and
// everything else stay up.
func cutUplink(t *testing.T, h *failover.Harness, i int) time.Duration {
	t.Helper()
	at := eventlog.Mono()
	addr := h.Lab.Client.Addrs[0]
	if out, err := exec.Command("ip", "-n", h.Lab.Nodes[i].Name, "route", "add", "unreachable", netip.PrefixFrom(addr, 32).String()).CombinedOutput(); err != nil {
		t.Fatalf("unreachable route on n%d: %v: %s", i+1, err, out)
	}
	return at
}

// quorumOf reads node i's quorum status.
func quorumOf(h *failover.Harness, i int) (*api.QuorumStatus, error) {
	out, err := h.Palisade(i, "status", "--json")
	if err != nil {
		return nil, fmt.Errorf("palisade status on n%d: %v: %s", i+1, err, out)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return nil, err
	}
	if st.DC == nil || st.DC.Quorum == nil {
		return nil, fmt.Errorf("n%d's status has no quorum section", i+1)
	}
	return st.DC.Quorum, nil
}

func waitQuorum(t *testing.T, h *failover.Harness, i int, what string, timeout time.Duration, ok func(q *api.QuorumStatus) bool) *api.QuorumStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last *api.QuorumStatus
	var lastErr error
	for time.Now().Before(deadline) {
		q, err := quorumOf(h, i)
		if err == nil && ok(q) {
			return q
		}
		last, lastErr = q, err
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := json.Marshal(last)
	t.Fatalf("n%d: %s: not within %s (last: %s, %v)", i+1, what, timeout, b, lastErr)
	return nil
}

// quorateAfter returns, per node (0-based), when it was first logged
// quorate after since (0: never), and whether it was ever quorate.
func quorateAfter(t *testing.T, h *failover.Harness, since time.Duration) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, e := range entries(t, h, since, eventlog.QuorumChanged, "") {
		if e.Detail == "quorate" {
			i := int(e.Writer[1] - '1')
			if _, ok := out[i]; !ok {
				out[i] = time.Duration(e.MonoNS)
			}
		}
	}
	return out
}

// checkLoser: after since, the losing node (0-based) never became
// quorate, never asked for a fence and never started anything.
func checkLoser(t *testing.T, h *failover.Harness, loser int, since time.Duration) {
	t.Helper()
	name := fmt.Sprintf("n%d", loser+1)
	if q := quorateAfter(t, h, since); q[loser] != 0 {
		t.Errorf("%s was quorate %.0f ms after the fault", name, float64(q[loser]-since)/1e6)
	}
	for _, e := range entries(t, h, since, eventlog.FenceRequested, "") {
		if e.Writer == name {
			t.Errorf("%s, without quorum, asked to fence %s", name, e.Target)
		}
	}
	for _, e := range entries(t, h, since, eventlog.ActionSent, "") {
		if e.Writer == name && e.Action == "start" {
			t.Errorf("%s, without quorum, sent start of %s to %s", name, e.Resource, e.Node)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }

// ---- the arbiter ----

// startArbiter makes the certificates and starts palisade-arbiter in the
// client namespace (the third site), listening on its management
// address; it returns the quorum.device lines for the nodes.
func startArbiter(t *testing.T, h *failover.Harness) (*lab.Proc, string) {
	t.Helper()
	dir := filepath.Join(h.Dir, "arbiter")
	addr := h.Lab.Client.Addrs[1]
	arb := binPath(t, "palisade-arbiter")
	if out, err := exec.Command(arb, "certs", "--dir", dir, "--host", addr.String(), "--cluster", "demo").CombinedOutput(); err != nil {
		t.Fatalf("palisade-arbiter certs: %v: %s", err, out)
	}
	p, err := h.Lab.Client.StartCmd(h.Lab.Client.Command(arb, "serve", "--dir", dir, "--listen", netip.AddrPortFrom(addr, 5403).String(),
		"--lease", qdArbiterLease.String()), "palisade-arbiter")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Output(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("palisade-arbiter did not start: %s", p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	device := fmt.Sprintf(`  device:
    model: arbiter
    arbiter:
      address: %s
      ca_file: %s
      cert_file: %s
      key_file: %s
      interval: 500ms
      connect_timeout: 1s
`, netip.AddrPortFrom(addr, 5403), filepath.Join(dir, "ca.pem"), filepath.Join(dir, "demo.pem"), filepath.Join(dir, "demo.key"))
	return p, device
}

// arbiterLatency asks palisade-arbiter for its decision times (SIGUSR1).
func arbiterLatency(t *testing.T, p *lab.Proc) string {
	before := len(p.Output())
	p.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		out := p.Output()
		if i := strings.Index(out[before:], "arbiter status"); i >= 0 {
			line := out[before+i:]
			if j := strings.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			return line
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "(no answer to SIGUSR1)"
}

// 1. Two nodes and an arbiter at a third site; the link between the nodes
// breaks while both reach the arbiter. n2 holds the group but lost its
// uplink (ping group down, score 0): the arbiter gives its vote to n1
// (better heuristics score), which fences n2 through its BMC and only
// then takes the VIP; n2 never fences, never starts anything.
func TestQuorumArbiterSplit(t *testing.T) {
	var arb *lab.Proc
	h := quorumLab(t, qdResources(""), func(h *failover.Harness) func(int, string) string {
		var device string
		arb, device = startArbiter(t, h)
		return func(i int, cfg string) string { return withQuorum(cfg, device+heuristics(h)) }
	})
	if holder := waitStarted(t, h); holder != 1 {
		t.Fatalf("the group started on n%d, want n2 (its preference)", holder+1)
	}
	for i := range 2 {
		q := waitQuorum(t, h, i, "quorate with the arbiter connected and the uplink up", 15*time.Second, func(q *api.QuorumStatus) bool {
			return q.State == "quorate" && q.Device != nil && q.Device.Connected && q.Device.Voting && q.Heuristics != nil && q.Heuristics.Score == 100
		})
		t.Logf("n%d before the split: %s, votes %d/%d, arbiter %s voting (lease %d ms left), pingd=%d", i+1, q.State, q.Votes, q.Expected,
			q.Device.Address, q.Device.LeaseLeftMS, q.Heuristics.Score)
	}
	if out, err := h.Palisade(0, "status"); err == nil {
		t.Logf("palisade status on n1:\n%s", out)
	}
	uplink := cutUplink(t, h, 1)
	q := waitQuorum(t, h, 1, "pingd 0 after losing the uplink", 10*time.Second, func(q *api.QuorumStatus) bool { return q.Heuristics.Score == 0 })
	t.Logf("n2 lost its uplink: ping group %+v seen down after %s", q.Heuristics.Groups, ms(eventlog.Mono()-uplink))
	if holder, err := h.Holder(); err != nil || holder != 1 {
		t.Fatalf("without a location rule on pingd the group stays on n2, holder n%d: %v", holder+1, err)
	}

	fault, err := h.Partition([]int{0}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	tl := waitTakeover(t, h, 1, fault, 30*time.Second)
	checkRule(t, h, 1, fault)
	checkLoser(t, h, 1, fault)
	quorate := quorateAfter(t, h, fault)
	if quorate[0] == 0 {
		t.Fatal("n1 never became quorate with the arbiter's vote")
	}
	conf := h.FenceConfirmedAt("n2", fault)
	t.Logf("figures: link cut -> n1 quorate with the arbiter's vote %s; -> n2 confirmed fenced (BMC) %s; -> VIP answered by n1 %s",
		ms(quorate[0]-fault), ms(conf-fault), ms(tl.FirstNew-fault))
	t.Logf("arbiter: %s", arbiterLatency(t, arb))
}

// 1b. no_quorum_policy suicide: the same split, but the winner waits 3s
// before fencing (static_delay): the loser, told by the arbiter that the
// vote went elsewhere, fences itself first: it logs why, stops feeding
// its (stand-in) watchdog, which fires within its timeout.
func TestQuorumSuicide(t *testing.T) {
	dogs := make([]*standIn, 2)
	h := quorumLabWith(t, qdResources(""), "static_delay: {n2: 3s}\nretry: {initial: 500ms, max: 2s}\nattempt_timeout: 15s", func(h *failover.Harness) func(int, string) string {
		_, device := startArbiter(t, h)
		return func(i int, cfg string) string {
			wd := filepath.Join(h.Dir, fmt.Sprintf("n%d-watchdog.log", i+1))
			dogs[i] = &standIn{path: wd, timeout: qdWatchdog}
			return withQuorum(cfg, fmt.Sprintf("  no_quorum_policy: suicide\n  watchdog: {device: \"stand-in:%s\", timeout: %s}\n", wd, qdWatchdog)+device+heuristics(h))
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i, d := range dogs {
		wg.Add(1)
		go func() { defer wg.Done(); d.watch(ctx, h, i) }()
	}
	if holder := waitStarted(t, h); holder != 1 {
		t.Fatalf("the group started on n%d, want n2", holder+1)
	}
	for i := range 2 {
		waitQuorum(t, h, i, "quorate, arbiter voting, uplink up, watchdog fed", 15*time.Second, func(q *api.QuorumStatus) bool {
			return q.State == "quorate" && q.Device.Voting && q.Heuristics.Score == 100 && q.Watchdog != nil && q.Watchdog.Feeding && q.Policy == "suicide"
		})
	}
	cutUplink(t, h, 1)
	waitQuorum(t, h, 1, "pingd 0", 10*time.Second, func(q *api.QuorumStatus) bool { return q.Heuristics.Score == 0 })
	fault, err := h.Partition([]int{0}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	tl := waitTakeover(t, h, 1, fault, 30*time.Second)
	checkRule(t, h, 1, fault)
	checkLoser(t, h, 1, fault)
	self := entries(t, h, fault, eventSelfFence, "n2")
	if len(self) == 0 || !strings.Contains(self[0].Detail, "suicide") {
		t.Fatalf("n2 did not fence itself for no_quorum_policy suicide: %+v", self)
	}
	fired, _ := dogs[1].firedAt()
	if fired.IsZero() {
		t.Fatal("n2's watchdog never fired after it fenced itself")
	}
	if f, _ := dogs[0].firedAt(); !f.IsZero() {
		t.Error("the winner's watchdog fired")
	}
	conf := h.FenceConfirmedAt("n2", fault)
	t.Logf("figures: link cut -> n2 fences itself %s (%s); its watchdog fired %s; n1 confirmed it fenced (BMC, after a 3s delay) %s; VIP answered by n1 %s",
		ms(time.Duration(self[0].MonoNS)-fault), self[0].Detail, ms(monoOf(fired)-fault), ms(conf-fault), ms(tl.FirstNew-fault))
}

// 2. The arbiter goes down: both nodes keep quorum on their own votes and
// show the problem. Then the node that does not hold the group loses
// power: the survivor (1 vote of 3, no arbiter) is inquorate, stops the
// group and fences nobody.
func TestQuorumArbiterLostThenNode(t *testing.T) {
	var arb *lab.Proc
	h := quorumLab(t, qdResources(""), func(h *failover.Harness) func(int, string) string {
		var device string
		arb, device = startArbiter(t, h)
		return func(i int, cfg string) string { return withQuorum(cfg, device) }
	})
	if holder := waitStarted(t, h); holder != 1 {
		t.Fatalf("the group started on n%d, want n2", holder+1)
	}
	waitQuorum(t, h, 1, "the arbiter's vote", 15*time.Second, func(q *api.QuorumStatus) bool { return q.Device.Voting })
	arb.Kill()
	down := eventlog.Mono()
	for i := range 2 {
		q := waitQuorum(t, h, i, "the arbiter's loss shown as a problem while quorate", 20*time.Second, func(q *api.QuorumStatus) bool {
			return q.State == "quorate" && q.Device.Problem != "" && !q.Device.Connected
		})
		t.Logf("n%d %s after the arbiter died: %s (votes %d/%d); problem: %s", i+1, ms(eventlog.Mono()-down), q.State, q.Votes, q.Expected, q.Device.Problem)
	}
	out, _ := h.Palisade(1, "status")
	if !strings.Contains(out, "quorum device PROBLEM: arbiter") {
		t.Errorf("palisade status does not show the arbiter's loss:\n%s", out)
	}
	fault, err := h.PowerCut(0)
	if err != nil {
		t.Fatal(err)
	}
	q := waitQuorum(t, h, 1, "inquorate once alone without the arbiter", 20*time.Second, func(q *api.QuorumStatus) bool { return q.State == "inquorate" })
	t.Logf("n2 alone: %s, votes %d/%d needed %d (%s)", q.State, q.Votes, q.Expected, q.Needed, q.Reason)
	deadline := time.Now().Add(20 * time.Second)
	for {
		holder, err := h.Holder()
		if err == nil && holder < 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n2 still holds the VIP 20s after losing quorum (holder n%d, %v)", holder+1, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopped := eventlog.Mono()
	checkLoser(t, h, 1, fault)
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("one rule: %v", vs)
	}
	inq := entries(t, h, fault, dc.EventQuorumDevice, "")
	for _, e := range inq {
		if e.Writer == "n2" && strings.HasPrefix(e.Detail, "inquorate") {
			t.Logf("figures: n1 powered off -> n2 inquorate %s (deadtime 1s, then undecided for at most the arbiter's lease %s); -> VIP removed %s",
				ms(time.Duration(e.MonoNS)-fault), qdArbiterLease, ms(stopped-fault))
			break
		}
	}
}

// 4. Ping groups: the node holding the group loses its uplink (the ping
// group's address becomes unreachable from it): its pingd attribute drops
// to 0 and the location rule moves the group to the other node. Nothing
// is fenced: the old holder is a healthy member that stopped the group.
func TestQuorumPingGroupLost(t *testing.T) {
	h := quorumLab(t, qdResources(pingRule), func(h *failover.Harness) func(int, string) string {
		return func(i int, cfg string) string { return withQuorum(cfg, "  two_node: true\n"+heuristics(h)) }
	})
	// The group goes to the first node whose pingd reaches 100 (n2 is
	// only preferred by 50, then stickiness keeps it).
	holder := waitStarted(t, h)
	other := 1 - holder
	for i := range 2 {
		waitQuorum(t, h, i, "pingd=100", 10*time.Second, func(q *api.QuorumStatus) bool { return q.Heuristics != nil && q.Heuristics.Score == 100 })
	}
	fault := cutUplink(t, h, holder)
	owner, lastOld, firstNew, err := h.WaitNewOwner(context.Background(), holder, fault, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("n%d", other+1); owner != want {
		t.Fatalf("the VIP moved to %s, want %s", owner, want)
	}
	if n := len(entries(t, h, fault, eventlog.FenceRequested, "")); n > 0 {
		t.Errorf("%d fence requests: losing an uplink is no reason to fence", n)
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("one rule: %v", vs)
	}
	if ds := h.Overlaps(fault, 0); len(ds) > 0 {
		t.Errorf("two MACs answered for the VIP: %v", ds)
	}
	t.Logf("figures: uplink lost on n%d -> last VIP answer from it %s, first from n%d %s (ping interval 200ms, timeout 600ms)",
		holder+1, ms(lastOld-fault), other+1, ms(firstNew-fault))
}

// standIn watches a node's stand-in watchdog file and plays the watchdog
// hardware: once the daemon has not fed it for the timeout, it "resets"
// the node (every process killed, links down), as a real watchdog would.
type standIn struct {
	path    string
	timeout time.Duration
	mu      sync.Mutex
	fired   time.Time // when the watchdog fired (last feed + timeout)
	reset   time.Duration
}

func (s *standIn) lastFeed() (time.Time, bool) {
	f, err := os.Open(s.path)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	var last time.Time
	closed := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ts, op, _ := strings.Cut(sc.Text(), " ")
		switch op {
		case "keepalive":
			if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				last = at
			}
		case "magic close":
			closed = true
		}
	}
	return last, !last.IsZero() && !closed
}

// watch fires the watchdog of node i when it starves, until ctx ends.
func (s *standIn) watch(ctx context.Context, h *failover.Harness, i int) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
		last, armed := s.lastFeed()
		if !armed || time.Since(last) <= s.timeout {
			continue
		}
		at, _ := h.Isolate(i)
		s.mu.Lock()
		s.fired, s.reset = last.Add(s.timeout), at
		s.mu.Unlock()
		return
	}
}

func (s *standIn) firedAt() (time.Time, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired, s.reset
}

// monoOf converts a wall time to CLOCK_MONOTONIC (the event logs' clock).
func monoOf(w time.Time) time.Duration {
	return eventlog.Mono() - time.Since(w)
}

// ---- the quorum disk ----

// loopDevices makes n loop devices over file (n paths to one LUN); it
// skips the test only where loop devices cannot exist.
func loopDevices(t *testing.T, file string, n int) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("loop devices unavailable: %v (no loop driver in this kernel)", err)
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Fatalf("losetup missing (Debian package mount, in .ci/install-deps): %v", err)
	}
	var devs []string
	for range n {
		out, err := exec.Command("losetup", "-f", "--show", file).CombinedOutput()
		if err != nil {
			if len(devs) == 0 {
				t.Skipf("loop devices unavailable: losetup -f --show %s: %v: %s", file, err, out)
			}
			t.Fatalf("losetup: %v: %s", err, out)
		}
		dev := strings.TrimSpace(string(out))
		devs = append(devs, dev)
		// A read-only flag left on this device number survives detaching.
		if out, err := exec.Command("blockdev", "--setrw", dev).CombinedOutput(); err != nil {
			t.Fatalf("blockdev --setrw %s: %v %s", dev, err, out)
		}
		t.Cleanup(func() {
			exec.Command("blockdev", "--setrw", dev).Run()
			if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
				t.Errorf("losetup -d %s: %v: %s", dev, err, out)
			}
		})
	}
	return devs
}

// 3. Two nodes and a quorum disk, no arbiter; the link between the nodes
// breaks while both reach the disk. n2 holds the group but lost its
// uplink: the disk's master gives the disk's votes to n1, n2 reads a
// poison pill (the master's eviction or n1's fence through the disk),
// fences itself and stops feeding its (stand-in) watchdog, which fires
// before n1 counts n2 fenced (msgwait after its pill); only then does
// the VIP move.
func TestQuorumDiskSplit(t *testing.T) { runDiskSplit(t, false) }

// 3b. The same, but n2 first loses its disk (its path turns read-only: its
// slot cannot be written): still quorate on the nodes' votes, it keeps
// feeding its watchdog and shows the problem; once split, without the
// disk and without quorum it stops feeding and resets, and n1 wins.
func TestQuorumDiskLostThenSplit(t *testing.T) { runDiskSplit(t, true) }

func runDiskSplit(t *testing.T, loseDisk bool) {
	file := filepath.Join(t.TempDir(), "qdisk.img")
	if err := os.WriteFile(file, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	devs := loopDevices(t, file, 2)
	if out, err := exec.Command(binPath(t, "palisade"), append([]string{"disk", "-d", devs[0], "create", "--cluster", "demo", "--nodes", "n1,n2"}, qdDiskFlags...)...).CombinedOutput(); err != nil {
		t.Fatalf("palisade disk create: %v: %s", err, out)
	}
	dogs := make([]*standIn, 2)
	h := quorumLab(t, qdResources(""), func(h *failover.Harness) func(int, string) string {
		return func(i int, cfg string) string {
			wd := filepath.Join(h.Dir, fmt.Sprintf("n%d-watchdog.log", i+1))
			dogs[i] = &standIn{path: wd, timeout: qdWatchdog}
			pills := fmt.Sprintf("  devices:\n    - {name: pill-n1, plugin: quorum_disk, params: {devices: %s, plug: n1}}\n    - {name: pill-n2, plugin: quorum_disk, params: {devices: %s, plug: n2}}\n", devs[i], devs[i])
			cfg = strings.Replace(cfg, "  devices:\n", pills, 1)
			cfg = strings.Replace(cfg, "    n1: [[bmc-n1]]\n    n2: [[bmc-n2]]\n", "    n1: [[pill-n1]]\n    n2: [[pill-n2]]\n", 1)
			q := fmt.Sprintf("  device:\n    model: disk\n    disk: {paths: [%s]}\n  watchdog: {device: \"stand-in:%s\", timeout: %s}\n", devs[i], wd, qdWatchdog)
			if !loseDisk {
				q += heuristics(h)
			}
			return withQuorum(cfg, q)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() }) // before the lab closes
	for i, d := range dogs {
		wg.Add(1)
		go func() { defer wg.Done(); d.watch(ctx, h, i) }()
	}
	if holder := waitStarted(t, h); holder != 1 {
		t.Fatalf("the group started on n%d, want n2 (its preference)", holder+1)
	}
	for i := range 2 {
		q := waitQuorum(t, h, i, "quorate with the disk's votes", 15*time.Second, func(q *api.QuorumStatus) bool {
			return q.State == "quorate" && q.Device != nil && q.Device.Voting && q.Watchdog != nil && q.Watchdog.Feeding &&
				(loseDisk || q.Heuristics != nil && q.Heuristics.Score == 100)
		})
		t.Logf("n%d: %s, votes %d/%d, disk %v voting, master %s, watchdog %s fed", i+1, q.State, q.Votes, q.Expected, q.Device.Paths, q.Device.Master, q.Watchdog.Device)
	}
	if out, err := h.Palisade(1, "status"); err == nil {
		t.Logf("palisade status on n2:\n%s", out)
	}
	if loseDisk {
		if out, err := exec.Command("blockdev", "--setro", devs[1]).CombinedOutput(); err != nil {
			t.Fatalf("blockdev --setro %s: %v %s", devs[1], err, out)
		}
		q := waitQuorum(t, h, 1, "the disk's loss shown while quorate", 10*time.Second, func(q *api.QuorumStatus) bool {
			return q.State == "quorate" && q.Device.Problem != "" && q.Device.Reached == 0
		})
		t.Logf("n2 without its disk: %s (votes %d/%d), problem: %s", q.State, q.Votes, q.Expected, q.Device.Problem)
		before, _ := dogs[1].lastFeed()
		time.Sleep(2 * qdWatchdog)
		if after, armed := dogs[1].lastFeed(); !armed || !after.After(before) {
			t.Fatal("n2 stopped feeding its watchdog while its partition is quorate")
		}
	} else {
		cutUplink(t, h, 1)
		waitQuorum(t, h, 1, "pingd 0 after losing the uplink", 10*time.Second, func(q *api.QuorumStatus) bool { return q.Heuristics.Score == 0 })
	}

	fault, err := h.Partition([]int{0}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	tl := waitTakeover(t, h, 1, fault, 40*time.Second)
	checkRule(t, h, 1, fault)
	checkLoser(t, h, 1, fault)
	fired, reset := dogs[1].firedAt()
	if fired.IsZero() {
		t.Fatal("n2's watchdog never fired")
	}
	if f, _ := dogs[0].firedAt(); !f.IsZero() {
		t.Error("the winner's watchdog fired")
	}
	conf := h.FenceConfirmedAt("n2", fault)
	if conf == 0 {
		t.Fatal("n2 was never confirmed fenced")
	}
	if m := monoOf(fired); m >= conf {
		t.Errorf("n2's watchdog fired %s after n1 counted it fenced", ms(m-conf))
	}
	quorate := quorateAfter(t, h, fault)
	var self string
	for _, e := range entries(t, h, fault, eventSelfFence, "n2") {
		self = fmt.Sprintf("%s (%s)", ms(time.Duration(e.MonoNS)-fault), e.Detail)
		break
	}
	t.Logf("figures: link cut -> n1 quorate with the disk's votes %s; n2 self-fence %s; n2 watchdog fired %s (reset %s); n2 confirmed fenced (msgwait %s) %s; VIP answered by n1 %s",
		ms(quorate[0]-fault), self, ms(monoOf(fired)-fault), ms(reset-fault), qdMsgwait, ms(conf-fault), ms(tl.FirstNew-fault))
}

// eventSelfFence is what palisaded logs when it fences itself.
const eventSelfFence = "self_fence"
