package hwtests

// Failover scenarios of issue 5, each against real daemons in a netns lab
// with ipmi_sim BMCs (package failover). Every test checks, from the
// merged event logs, that no resource of a lost node started before that
// node was confirmed fenced (recovery.Verify), and from the client
// namespace that after the fence only one node answers for the VIP.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
	"palisade/resources/model"
)

var failoverSeq int

// labPrefix names the namespaces of the next lab: kind, this process and
// a sequence written in letters (a..z, ba, bb...). The sequence used to be
// one character past 'a', which after the 26th lab of a full run became
// '|': the BMC power-off hook (a shell command naming the namespace) then
// cut nothing, and a "fenced" node kept its VIP.
func labPrefix(kind string) string {
	failoverSeq++
	var seq []byte
	for n := failoverSeq; ; n /= 26 {
		seq = append([]byte{byte('a' + n%26)}, seq...)
		if n < 26 {
			break
		}
	}
	return fmt.Sprintf("%s%d%s", kind, os.Getpid()%100000, seq)
}

func startFailover(t *testing.T, o failover.Options) *failover.Harness {
	t.Helper()
	if err := failover.Available(); err != nil {
		t.Skip(err)
	}
	o.Prefix = labPrefix("pe")
	// PALISADE_FAILOVER_BIN points at prebuilt binaries (development).
	if o.BinDir = os.Getenv("PALISADE_FAILOVER_BIN"); o.BinDir == "" {
		o.BinDir = palisadeBins(t)
	}
	o.WorkDir = t.TempDir()
	// Generous timing: these tests check behaviour, not speed (that is
	// bench-failover's job), and CI machines stall.
	if o.Deadtime == 0 {
		o.Keepalive, o.Deadtime = 100*time.Millisecond, time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := failover.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, h)
		}
		h.Close()
	})
	ok, err := h.DCAttached(0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatal("palisaded did not attach the DC layer (cmd/palisaded must attach the DC runtime)")
	}
	return h
}

func dumpLogs(t *testing.T, h *failover.Harness) {
	es, _ := h.Entries()
	for _, e := range es {
		t.Logf("event %d %s %s target=%s rsc=%s node=%s action=%s %s", e.MonoNS/1e6, e.Writer, e.Event, e.Target, e.Resource, e.Node, e.Action, e.Detail)
	}
	logs, _ := filepath.Glob(filepath.Join(h.Lab.LogDir, "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		t.Logf("---- %s (tail)\n%s", filepath.Base(l), b)
	}
}

func waitStarted(t *testing.T, h *failover.Harness) int {
	t.Helper()
	active, err := h.WaitStarted(context.Background(), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	return active
}

// checkRule asserts the one rule and the single VIP owner after the fence
// of lost (0-based).
func checkRule(t *testing.T, h *failover.Harness, lost int, since time.Duration) {
	t.Helper()
	vs, err := h.Violations()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("one rule violated: %s", v)
	}
	// Every node runs the same quorum and fencing settings.
	for _, a := range entries(t, h, 0, eventlog.Alert, "") {
		if strings.Contains(a.Detail, "settings that differ") {
			t.Errorf("safety settings alert: %s", a.Detail)
		}
	}
	conf := h.FenceConfirmedAt(fmt.Sprintf("n%d", lost+1), since)
	if conf == 0 {
		t.Fatalf("n%d was never confirmed fenced", lost+1)
	}
	if owners := h.OwnersAfter(conf); len(owners) > 1 {
		t.Errorf("after the fence of n%d the VIP was answered by %v", lost+1, owners)
	}
	// Nothing of the lost node may have started anywhere before the
	// confirmation: no VIP answer from another node before conf.
	for _, r := range h.Replies() {
		if r.Mono > since && r.Mono < conf && r.MAC != h.MACs[lost] {
			t.Errorf("VIP answered by %s %.1f ms before n%d was confirmed fenced", r.MAC, float64(conf-r.Mono)/1e6, lost+1)
			break
		}
	}
}

func entries(t *testing.T, h *failover.Harness, since time.Duration, event, target string) []eventlog.Entry {
	es, err := h.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var out []eventlog.Entry
	for _, e := range es {
		if time.Duration(e.MonoNS) > since && e.Event == event && (target == "" || e.Target == target) {
			out = append(out, e)
		}
	}
	return out
}

// waitTakeover waits until another node answers for the VIP after the
// fault on node lost and logs the measured timeline.
func waitTakeover(t *testing.T, h *failover.Harness, lost int, fault, timeout time.Duration) failover.Timeline {
	t.Helper()
	tl, err := h.WaitTakeover(context.Background(), lost, fault, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("timeline:\n%s", tl)
	return tl
}

// 1. Power loss of the active node.
func TestFailoverPowerLoss(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	fault, err := h.PowerCut(active)
	if err != nil {
		t.Fatal(err)
	}
	waitTakeover(t, h, active, fault, 20*time.Second)
	checkRule(t, h, active, fault)
}

// 2. kill -9 of palisaded on the active node, which stays up with the VIP:
// it must be fenced (really powered off) before the takeover.
func TestFailoverDaemonKilled(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	fault, err := h.KillDaemon(active)
	if err != nil {
		t.Fatal(err)
	}
	waitTakeover(t, h, active, fault, 20*time.Second)
	if on, _ := h.Sims[active].Power(); on {
		t.Errorf("n%d is still powered on after the takeover", active+1)
	}
	checkRule(t, h, active, fault)
}

// 3. The fence device fails: no takeover, retries and alerts are logged,
// and recovery follows as soon as the BMC works again.
func TestFailoverFenceDeviceFails(t *testing.T) {
	alerts := filepath.Join(t.TempDir(), "alerts")
	h := startFailover(t, failover.Options{Nodes: 3, FenceTuning: "retry: {initial: 200ms, max: 800ms}\nattempt_timeout: 10s\n" +
		"alert_command: 'echo \"$PALISADE_ALERT_TARGET\" >> " + alerts + "'"})
	active := waitStarted(t, h)
	lost := fmt.Sprintf("n%d", active+1)
	if err := h.Sims[active].FailPower(true); err != nil {
		t.Fatal(err)
	}
	fault, err := h.Isolate(active) // dead machine, BMC still says ON and refuses power commands
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(entries(t, h, fault, eventlog.FenceFailed, lost)) < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(entries(t, h, fault, eventlog.FenceFailed, lost)); n < 3 {
		t.Fatalf("%d failed fence attempts logged, want retries", n)
	}
	if len(entries(t, h, fault, eventlog.Alert, lost)) == 0 {
		t.Error("no alert logged for the failing fence device")
	}
	if b, err := os.ReadFile(alerts); err != nil || !strings.Contains(string(b), lost) {
		t.Errorf("alert_command did not run for %s: %q, %v", lost, b, err)
	}
	for _, r := range h.Replies() {
		if r.Mono > fault && r.MAC != h.MACs[active] {
			t.Fatalf("VIP taken over while the fence keeps failing (answer from %s)", r.MAC)
		}
	}
	if len(entries(t, h, fault, eventlog.FenceConfirmed, lost)) > 0 {
		t.Fatal("fence confirmed although the BMC fails")
	}
	repaired := eventlog.Mono()
	if err := h.Sims[active].FailPower(false); err != nil {
		t.Fatal(err)
	}
	tl := waitTakeover(t, h, active, fault, 20*time.Second)
	t.Logf("takeover %.0f ms after the BMC was repaired", float64(tl.FirstNew-repaired)/1e6)
	checkRule(t, h, active, fault)
}

// 4. The BMC is unreachable; an operator confirms the node is down.
func TestFailoverOperatorConfirm(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3, FenceTuning: "retry: {initial: 200ms, max: 1s}\nattempt_timeout: 5s"})
	active := waitStarted(t, h)
	lost := fmt.Sprintf("n%d", active+1)
	h.BreakBMC(active)
	fault, err := h.Isolate(active)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(entries(t, h, fault, eventlog.FenceFailed, lost)) < 1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(entries(t, h, fault, eventlog.FenceFailed, lost)) == 0 {
		t.Fatal("the unreachable BMC never produced a failed fence")
	}
	for _, r := range h.Replies() {
		if r.Mono > fault && r.MAC != h.MACs[active] {
			t.Fatalf("VIP taken over before any confirmation (answer from %s)", r.MAC)
		}
	}
	// The DC of the surviving partition is its lowest id.
	dcNode := 0
	if active == 0 {
		dcNode = 1
	}
	out, err := h.Palisade(dcNode, "fence", "confirm", lost, "--yes", "--by", "test-operator")
	if err != nil {
		t.Fatalf("palisade fence confirm: %v: %s", err, out)
	}
	waitTakeover(t, h, active, fault, 20*time.Second)
	conf := entries(t, h, fault, eventlog.FenceConfirmed, lost)
	// Who confirmed: the caller's account (SO_PEERCRED) and the name it gave.
	if len(conf) == 0 || conf[0].By != "operator:root (as test-operator)" {
		t.Fatalf("confirmation not logged as the operator's: %+v", conf)
	}
	hist, err := h.Palisade(dcNode, "fence", "history")
	if err != nil || !strings.Contains(hist, "operator:root (as test-operator)") {
		t.Errorf("fence history does not show the confirmation: %v\n%s", err, hist)
	}
	checkRule(t, h, active, fault)
}

// startedOn maps resource → node from the successful starts after since.
func startedOn(t *testing.T, h *failover.Harness, since time.Duration) map[string][]string {
	out := map[string][]string{}
	for _, e := range entries(t, h, since, eventlog.ActionResult, "") {
		if e.Action == "start" && e.OK != nil && *e.OK && e.Writer == e.Node {
			out[e.Resource] = append(out[e.Resource], e.Node)
		}
	}
	return out
}

// failDummy makes the dummy's next monitor fail on node i (its state file
// disappears, as if the service died).
func failDummy(t *testing.T, h *failover.Harness, i int) {
	t.Helper()
	p := filepath.Join(h.States[i], "run", "rsctmp", "Dummy-dummy.state")
	if err := os.Remove(p); err != nil {
		t.Fatalf("failing dummy on n%d: %v", i+1, err)
	}
}

// 5. A monitor failure restarts the resource in place; after
// migration-threshold (3) failures the group moves.
func TestFailoverMonitorFailure(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3, DummyMonitor: 500 * time.Millisecond})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	for round := 1; round <= 3; round++ {
		since := eventlog.Mono()
		failDummy(t, h, active)
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			on := startedOn(t, h, since)["dummy"]
			if len(on) > 0 {
				if round < 3 && on[0] != node {
					t.Fatalf("failure %d moved dummy to %s, want a restart on %s", round, on[0], node)
				}
				if round == 3 && on[0] == node {
					t.Fatalf("failure 3 (migration-threshold) restarted dummy on %s again, want a move", node)
				}
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(startedOn(t, h, since)["dummy"]) == 0 {
			t.Fatalf("failure %d: dummy was not recovered", round)
		}
		t.Logf("failure %d: dummy started on %v", round, startedOn(t, h, since)["dummy"])
		if round < 3 {
			time.Sleep(700 * time.Millisecond) // the restarted monitor's first run
		}
	}
	holder, err := h.Holder()
	if err != nil {
		t.Fatal(err)
	}
	if holder == active || holder < 0 {
		t.Errorf("VIP on n%d after the move, want another node than %s", holder+1, node)
	}
	// The DC knows the failures on the old node, with their time.
	if fs := dcFailures(t, h, holder); len(fs) == 0 || fs[0].Node != node || fs[0].LastFailure.IsZero() {
		t.Errorf("failures the DC knows after the move: %+v, want dummy on %s with its last-failure time", fs, node)
	}
	// An operator clears them from another node; the group stays where it
	// is (stickiness) and nothing is fenced.
	since := eventlog.Mono()
	if out, err := h.Palisade(holder, "resource", "cleanup", "grp", "--node", node, "--by", "tester"); err != nil || !strings.Contains(out, "cleared on "+node) {
		t.Fatalf("palisade resource cleanup grp --node %s: %v: %s", node, err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(dcFailures(t, h, holder)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if fs := dcFailures(t, h, holder); len(fs) > 0 {
		t.Errorf("failures after the cleanup: %+v", fs)
	}
	if cl := entries(t, h, since, eventlog.FailuresCleared, ""); len(cl) == 0 || cl[0].Writer != node || !strings.Contains(cl[0].Detail, "operator cleanup by root (as tester)") {
		t.Errorf("failures_cleared entries after the cleanup: %+v", cl)
	}
	if h2, _ := h.Holder(); h2 != holder {
		t.Errorf("the cleanup moved the group from n%d to n%d (stickiness should keep it)", holder+1, h2+1)
	}
	if fs := entries(t, h, 0, eventlog.FenceRequested, ""); len(fs) > 0 {
		t.Errorf("a monitor failure fenced %s", fs[0].Target)
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}

// 6. A stop failure fences the node: the group's last member (Delay) takes
// longer to stop than its stop timeout when a monitor failure of dummy
// forces the group to restart.
func TestFailoverStopFailureFences(t *testing.T) {
	res := `  options: {stonith-enabled: true, no-quorum-policy: stop}
  rsc_defaults: {resource-stickiness: 100, migration-threshold: 3}
  resources:
    - id: grp
      kind: group
      members:
        - id: vip
          class: palisade
          type: vip
          params: {ip: "{{VIP}}", cidr_netmask: "25", nic: eth0, arp_count: "5", arp_interval: "200", dad_timeout: "30"}
          ops: [{name: monitor, interval: 1s, timeout: 5s}]
        - id: dummy
          class: ocf
          provider: heartbeat
          type: Dummy
          ops: [{name: monitor, interval: 500ms, timeout: 10s}]
        - id: slow
          class: ocf
          provider: heartbeat
          type: Delay
          params: {startdelay: "0", stopdelay: "30", mondelay: "0"}
          ops: [{name: stop, timeout: 1s}, {name: start, timeout: 5s}]
`
	h := startFailover(t, failover.Options{Nodes: 3, Resources: res})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	deadline := time.Now().Add(20 * time.Second)
	for len(startedOn(t, h, 0)["slow"]) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	fault := eventlog.Mono()
	failDummy(t, h, active)
	waitTakeover(t, h, active, fault, 30*time.Second)
	need := entries(t, h, fault, eventlog.FenceNeeded, node)
	if len(need) == 0 || !strings.Contains(need[0].Detail, "stop of slow failed") {
		t.Fatalf("no fencing for the failed stop on %s: %+v", node, need)
	}
	if on, _ := h.Sims[active].Power(); on {
		t.Errorf("%s still powered on", node)
	}
	checkRule(t, h, active, fault)
}

// 7. Two nodes, the heartbeat link between them cut (the BMC network still
// works): exactly one node fences the other. n1 (lowest id) gets the
// static delay, so n1 shoots first and survives.
func TestFailoverTwoNodeRace(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 2, TwoNode: true})
	waitStarted(t, h)
	fault := eventlog.Mono()
	if err := h.Lab.Nodes[1].CutLink(0); err != nil {
		t.Fatal(err)
	}
	// Longer than the 5s static delay: a second shot would have happened.
	time.Sleep(7 * time.Second)
	confirmed := entries(t, h, fault, eventlog.FenceConfirmed, "")
	requested := entries(t, h, fault, eventlog.FenceRequested, "")
	for _, e := range requested {
		t.Logf("fence requested by %s for %s", e.Writer, e.Target)
	}
	if len(confirmed) != 1 || confirmed[0].Target != "n2" || confirmed[0].Writer != "n1" {
		t.Fatalf("fence confirmations %+v, want exactly one: n1 fencing n2", confirmed)
	}
	for _, e := range requested {
		if e.Target == "n1" {
			t.Errorf("n1 was also shot at (by %s)", e.Writer)
		}
	}
	if on, _ := h.Sims[0].Power(); !on {
		t.Error("n1 is powered off: both nodes died")
	}
	if on, _ := h.Sims[1].Power(); on {
		t.Error("n2 is still powered on")
	}
	if holder, err := h.Holder(); err != nil || holder != 0 {
		t.Errorf("VIP holder n%d (%v), want n1", holder+1, err)
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}

// Clean shutdown (SIGTERM): the node's resources move away first and the
// others do not fence it when it stops.
func TestFailoverCleanShutdown(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	since := eventlog.Mono()
	if err := h.Procs[active].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Procs[active].Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("palisaded on %s did not stop within 30s of SIGTERM", node)
	}
	if len(entries(t, h, since, eventlog.NodeLeaving, node)) == 0 {
		t.Fatalf("palisaded on %s stopped on SIGTERM without leaving cleanly (no %s entry)", node, eventlog.NodeLeaving)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(entries(t, h, since, eventlog.NodeLeft, node)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(entries(t, h, since, eventlog.NodeLeft, node)) == 0 {
		t.Fatalf("%s was not recorded as left cleanly", node)
	}
	time.Sleep(time.Second)
	if fs := entries(t, h, since, eventlog.FenceRequested, node); len(fs) > 0 {
		t.Errorf("%s was fenced after a clean shutdown (by %s)", node, fs[0].Writer)
	}
	holder, err := h.Holder()
	if err != nil || holder == active || holder < 0 {
		t.Errorf("VIP holder after the shutdown: n%d (%v), want another node than %s", holder+1, err, node)
	}
	// The VIP moved with a stop before the start: never two owners at once.
	rs := h.Replies()
	for i := 1; i < len(rs); i++ {
		if rs[i].Mono > since && rs[i].MAC != rs[i-1].MAC && rs[i].MAC == h.MACs[active] {
			t.Errorf("the old owner answered again after the new one")
		}
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}

// Startup fencing: a configured node that is powered on but never heard
// by the time the first quorate view forms may be running anything, so it
// is fenced (its BMC reports OFF) before any resource starts.
func TestFailoverStartupFencing(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3, Absent: []int{2}})
	active := waitStarted(t, h)
	if active == 2 {
		t.Fatalf("the group started on n3, whose daemon never ran")
	}
	conf := h.FenceConfirmedAt("n3", 0)
	if conf == 0 {
		t.Fatal("n3 was never confirmed fenced although nobody heard it at start-up")
	}
	if on, _ := h.Sims[2].Power(); on {
		t.Error("n3 is still powered on after startup fencing")
	}
	for _, e := range entries(t, h, 0, eventlog.StartAllowed, "") {
		if time.Duration(e.MonoNS) < conf {
			t.Errorf("start of %s on %s allowed %.1f ms before n3 was confirmed fenced",
				e.Resource, e.Node, float64(conf-time.Duration(e.MonoNS))/1e6)
		}
	}
	vs, err := h.Violations()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("one rule violated: %s", v)
	}
}

// Fencing with action reboot: the killed node's daemon is gone but the
// machine holds the VIP; the BMC powers it off (verified OFF: the fence
// counts from there), then on again. The node boots, rejoins with a new
// generation, and takes nothing back (stickiness keeps the group where
// it is), with never two owners of the VIP.
func TestFailoverRebootFencing(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3, FenceTuning: "action: reboot\nretry: {initial: 500ms, max: 2s}\nattempt_timeout: 15s"})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	// The generation before the fault: once booted, the node may rejoin
	// before a read taken after Boot.
	other := (active + 1) % 3
	_, before := peerState(t, h, other, node)
	fault, err := h.KillDaemon(active)
	if err != nil {
		t.Fatal(err)
	}
	tl := waitTakeover(t, h, active, fault, 20*time.Second)
	checkRule(t, h, active, fault)
	// The reboot turns the machine back on.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if on, err := h.Sims[active].Power(); err == nil && on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not powered on again by the reboot fence", node)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := h.Boot(active); err != nil {
		t.Fatal(err)
	}
	// Another node sees it up again with a higher generation than before.
	deadline = time.Now().Add(20 * time.Second)
	for {
		if state, g := peerState(t, h, other, node); state == "up" && g > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come back up with a new generation (before: %d)", node, before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	holder, err := h.Holder()
	if err != nil || holder == active || holder < 0 {
		t.Errorf("VIP holder after the rebooted node rejoined: n%d (%v), want it to stay away from %s", holder+1, err, node)
	}
	if d := h.DoubleAnswers(tl.FirstNew, time.Hour); len(d) > 0 {
		t.Errorf("two owners answered for the VIP: %v", d)
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}

// peerState is node's state and generation as palisaded on node i sees it.
func peerState(t *testing.T, h *failover.Harness, i int, node string) (string, uint64) {
	t.Helper()
	out, err := h.Palisade(i, "status", "--json")
	if err != nil {
		t.Fatalf("palisade status on n%d: %v: %s", i+1, err, out)
	}
	var st struct {
		Nodes []struct {
			Name       string `json:"name"`
			State      string `json:"state"`
			Generation uint64 `json:"generation"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("palisade status --json on n%d: %v", i+1, err)
	}
	for _, n := range st.Nodes {
		if n.Name == node {
			return n.State, n.Generation
		}
	}
	return "", 0
}

// dcFailures is the fail counts in the DC section of node i's status.
func dcFailures(t *testing.T, h *failover.Harness, i int) []model.Failure {
	t.Helper()
	out, err := h.Palisade(i, "status", "--json")
	if err != nil {
		t.Fatalf("palisade status on n%d: %v: %s", i+1, err, out)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.DC == nil {
		t.Fatalf("palisade status --json on n%d: %v (DC section present: %v)", i+1, err, st.DC != nil)
	}
	return st.DC.Status.Failures
}

// Operator edits on a running cluster, from any node: standby moves the
// group away (stop before start: never two VIP owners, nobody fenced),
// online lets it stay where it is (stickiness), move brings it back, and
// clear removes the move's constraint without moving anything.
func TestOperatorEdits(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	node := fmt.Sprintf("n%d", active+1)
	other := (active + 1) % 3
	since := eventlog.Mono()
	run := func(args ...string) {
		t.Helper()
		if out, err := h.Palisade(other, append(args, "--by", "tester")...); err != nil {
			t.Fatalf("palisade %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	waitHolder := func(what string, ok func(int) bool) int {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			if hd, err := h.Holder(); err == nil && hd >= 0 && ok(hd) {
				return hd
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for: %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// A copy of the configuration taken now goes stale with the edits.
	shown, err := h.Palisade(other, "config", "show")
	if err != nil {
		t.Fatalf("config show: %v: %s", err, shown)
	}
	stale := filepath.Join(t.TempDir(), "shown.yaml")
	if err := os.WriteFile(stale, []byte(shown), 0o644); err != nil {
		t.Fatal(err)
	}
	run("node", "standby", node)
	moved := waitHolder("the group leaves the standby node", func(i int) bool { return i != active })
	if out, err := h.Palisade(moved, "status"); err != nil || !strings.Contains(out, "standby: "+node) {
		t.Errorf("palisade status on n%d does not show %s in standby (%v):\n%s", moved+1, node, err, out)
	}
	run("node", "online", node)
	time.Sleep(time.Second)
	if hd, _ := h.Holder(); hd != moved {
		t.Errorf("online %s moved the group from n%d to n%d (stickiness should keep it)", node, moved+1, hd+1)
	}
	run("resource", "move", "grp", node)
	waitHolder("the group moves back to "+node, func(i int) bool { return i == active })
	run("resource", "clear", "grp")
	time.Sleep(time.Second)
	if hd, _ := h.Holder(); hd != active {
		t.Errorf("clear moved the group to n%d", hd+1)
	}
	if out, err := h.Palisade(active, "config", "show"); err != nil || strings.Contains(out, "cli-prefer") || strings.Contains(out, "standby: true") {
		t.Errorf("configuration after online + clear still has the edits (%v):\n%s", err, out)
	}
	// Pushing the copy taken before the edits would undo them: refused,
	// unless forced.
	if out, err := h.Palisade(other, "config", "push", stale); err == nil || !strings.Contains(out, "taken from an older version") {
		t.Errorf("push of a stale copy: %v: %s", err, out)
	}
	if out, err := h.Palisade(other, "config", "push", "--force", stale); err != nil {
		t.Errorf("forced push of a stale copy: %v: %s", err, out)
	}
	// Two moves, so the answering MAC changed exactly twice: any
	// interleaving of old and new owner would add changes.
	var switches []string
	rs := h.Replies()
	for i := 1; i < len(rs); i++ {
		if rs[i].Mono > since && rs[i].MAC != rs[i-1].MAC {
			switches = append(switches, rs[i-1].MAC+" -> "+rs[i].MAC)
		}
	}
	if len(switches) != 2 {
		t.Errorf("the VIP owner changed %d times, want 2 (standby, move): %v", len(switches), switches)
	}
	if fs := entries(t, h, 0, eventlog.FenceRequested, ""); len(fs) > 0 {
		t.Errorf("an operator edit fenced %s", fs[0].Target)
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}
