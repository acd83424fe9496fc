package hwtests

// A fence topology that mixes device kinds inside the daemon, in a netns
// lab of three palisaded nodes (package failover): the node holding the
// VIP hangs (SIGSTOP: its kernel still answers ARP for the VIP) and its
// BMC is dead, so the DC fences it through level 2, two outlets of an
// APC PDU simulated by snmpd (pdusim) on the management network, whose
// power-off hook cuts the node; and the same with a manual (meatware)
// last level that an operator confirms with `palisade fence confirm`.
// Each test checks from the event logs that the VIP started elsewhere
// only after the fence was confirmed, and that every node shows the same
// fence history, also after a daemon restart.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/dcrun"
	"palisade/cluster/eventlog"
	"palisade/fence/topology"
	"palisade/hw-tests/failover"
	"palisade/hw-tests/pdusim"
	"palisade/plugins/meatware"
)

// fenceHistory is `palisade fence history --json` on node i.
func fenceHistory(t *testing.T, h *failover.Harness, i int) api.History {
	t.Helper()
	out, err := h.Palisade(i, "fence", "history", "--json")
	if err != nil {
		t.Fatalf("palisade fence history on n%d: %v: %s", i+1, err, out)
	}
	var hist api.History
	if err := json.Unmarshal([]byte(out), &hist); err != nil {
		t.Fatalf("fence history on n%d: %v: %s", i+1, err, out)
	}
	return hist
}

// attemptsOn summarizes the history entries about target.
func attemptsOn(hist api.History, target string) []string {
	var out []string
	for _, a := range hist.Attempts {
		if a.Target != target {
			continue
		}
		s := fmt.Sprintf("%s %s %s level=%d devices=%s by=%s on=%s", a.ID, a.Action, a.Result, a.Level, a.Devices, a.Origin, a.Executor)
		for _, st := range a.Steps {
			s += fmt.Sprintf(" [%d %s %s]", st.Level, st.Device, st.Result)
		}
		out = append(out, s)
	}
	return out
}

// sameHistoryEverywhere waits until every node in nodes shows the same
// history about target, with a successful entry, and returns it.
func sameHistoryEverywhere(t *testing.T, h *failover.Harness, nodes []int, target string) []api.FenceAttempt {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var first []string
		same, fenced := true, false
		var attempts []api.FenceAttempt
		for k, i := range nodes {
			hist := fenceHistory(t, h, i)
			got := attemptsOn(hist, target)
			if k == 0 {
				first = got
				for _, a := range hist.Attempts {
					if a.Target == target {
						attempts = append(attempts, a)
						fenced = fenced || a.Fenced()
					}
				}
			} else if !slices.Equal(got, first) {
				same = false
			}
		}
		if same && fenced {
			return attempts
		}
		if time.Now().After(deadline) {
			for _, i := range nodes {
				t.Logf("n%d: %v", i+1, attemptsOn(fenceHistory(t, h, i), target))
			}
			t.Fatalf("the nodes do not show the same fence history of %s with a successful fence", target)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// vipStartAfter is the first successful start of the VIP on another node
// than lost after since (0 if none).
func vipStartAfter(t *testing.T, h *failover.Harness, lost string, since time.Duration) eventlog.Entry {
	for _, e := range entries(t, h, since, eventlog.ActionResult, "") {
		if e.Resource == "vip" && e.Action == "start" && e.OK != nil && *e.OK && e.Node != lost && e.Writer == e.Node {
			return e
		}
	}
	return eventlog.Entry{}
}

// survivingDC asks the given nodes (not a hung one, whose socket does not
// answer) who the DC of their quorate view is, once it is one of them.
func survivingDC(t *testing.T, h *failover.Harness, nodes []int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, i := range nodes {
			if dc, q, a := dcSection(h, i); q && a && dc != "" && slices.Contains(nodes, int(dc[1]-'1')) {
				return int(dc[1] - '1')
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no surviving node knows the DC of a quorate view")
	return -1
}

func survivorsOf(n, lost int) []int {
	var out []int
	for i := range n {
		if i != lost {
			out = append(out, i)
		}
	}
	return out
}

// TestFenceTopologyPDUAfterDeadBMC: level 1 (IPMI) of the hung VIP holder
// fails, level 2 (two PDU outlets over SNMP) cuts its power, and the VIP
// moves only after that fence was confirmed. The dead BMC is also found
// by the device monitor, which alerts; the history shows the BMC's
// failure for what it was, the same on every node and after a restart.
func TestFenceTopologyPDUAfterDeadBMC(t *testing.T) {
	if err := pdusim.Available(); err != nil {
		t.Skip(err)
	}
	var pdu *pdusim.Sim
	h := startFailover(t, failover.Options{Nodes: 3,
		FenceTuning: "retry: {initial: 200ms, max: 1s}\nattempt_timeout: 20s\nmonitor: {interval: 2s, timeout: 2s, failures: 2}",
		FenceExtra: func(h *failover.Harness) (string, map[int]string, error) {
			addr, err := h.MgmtAddr()
			if err != nil {
				return "", nil, err
			}
			// Node i is powered by outlets 2i+1 and 2i+2 (two power
			// supplies): it loses power only when both are off.
			o := pdusim.Options{Kind: pdusim.RackPDU, Host: addr.String(), Port: 161, Netns: h.Lab.Switch}
			for i := range h.Lab.Nodes {
				o.Feeds = append(o.Feeds, pdusim.Feed{Outlets: []int{2*i + 1, 2*i + 2}, OnPowerOff: h.CutCommand(i)})
			}
			if pdu, err = pdusim.Start(o); err != nil {
				return "", nil, err
			}
			t.Cleanup(pdu.Stop)
			var dev strings.Builder
			topo := map[int]string{}
			for i := range h.Lab.Nodes {
				fmt.Fprintf(&dev, "- name: pdu-n%d\n  plugin: fence_apc_snmp\n  params: {ip: %s, ipport: \"161\", snmp_version: \"2c\", community: %s, plug: \"%d,%d\", login_timeout: \"2\", power_timeout: \"5\", stonith_status_sleep: \"0.1\"}\n",
					i+1, addr, pdu.Community, 2*i+1, 2*i+2)
				topo[i] = fmt.Sprintf("[[bmc-n%d], [pdu-n%d]]", i+1, i+1)
			}
			return dev.String(), topo, nil
		}})
	holder := waitStarted(t, h)
	lost := fmt.Sprintf("n%d", holder+1)
	h.BreakBMC(holder)
	fault, err := h.Pause(holder) // hung: its VIP stays up, its power too
	if err != nil {
		t.Fatal(err)
	}
	tl := waitTakeover(t, h, holder, fault, 40*time.Second)
	checkRule(t, h, holder, fault)

	// The fence was confirmed through the PDU level, after the PDU cut
	// the node's power, and before the VIP started anywhere else.
	conf := entries(t, h, fault, eventlog.FenceConfirmed, lost)
	if len(conf) == 0 || conf[0].By != "device:pdu-"+lost {
		t.Fatalf("fence of %s not confirmed by its PDU level: %+v", lost, conf)
	}
	start := vipStartAfter(t, h, lost, fault)
	if start.MonoNS == 0 || start.MonoNS < conf[0].MonoNS {
		t.Fatalf("VIP start %+v is not after the fence confirmation %+v", start, conf[0])
	}
	cut, cutAt, err := pdu.FeedCut(holder)
	if err != nil || !cut {
		t.Fatalf("the PDU never cut %s's power: %v", lost, err)
	}
	confWall, err := time.Parse(time.RFC3339Nano, conf[0].Wall)
	if err != nil || cutAt.After(confWall) {
		t.Fatalf("power cut at %v, fence confirmed at %s (%v)", cutAt, conf[0].Wall, err)
	}
	select {
	case <-h.Procs[holder].Done():
	case <-time.After(5 * time.Second):
		t.Errorf("the hung palisaded of %s survived its power cut", lost)
	}
	t.Logf("power cut by the PDU %.0f ms before the confirmation; VIP started on %s %.0f ms after it; first answer from the new owner %.0f ms after the fault",
		float64(confWall.Sub(cutAt))/1e6, start.Node, float64(start.MonoNS-conf[0].MonoNS)/1e6, tl.FailoverMS())
	// The level 1 failure is in the log as what it was.
	for _, e := range entries(t, h, fault, eventlog.FenceDevice, lost) {
		if e.Device == "bmc-"+lost && (e.OK == nil || *e.OK || strings.Contains(e.Detail, " timeout ")) {
			t.Errorf("level 1 step logged as %+v", e)
		}
	}

	// Every survivor shows the same history: the attempt fenced at level
	// 2 by the PDU, after level 1 failed (not as "timed out" at level 0).
	survivors := survivorsOf(3, holder)
	attempts := sameHistoryEverywhere(t, h, survivors, lost)
	ok := attempts[len(attempts)-1]
	if ok.Result != "ok" || ok.Level != 2 || ok.Devices != "pdu-"+lost || len(ok.Steps) != 2 ||
		ok.Steps[0].Device != "bmc-"+lost || ok.Steps[0].Result == "ok" || ok.Steps[0].Result == "timeout" || ok.Steps[1].Result != "ok" {
		t.Errorf("history entry %+v", ok)
	}
	dc := survivingDC(t, h, survivors)
	if ok.Origin != fmt.Sprintf("n%d", dc+1) || ok.Executor != ok.Origin {
		t.Errorf("history entry asked by %q, ran on %q; the DC is n%d", ok.Origin, ok.Executor, dc+1)
	}
	t.Logf("history entry: %+v", ok)

	// The device monitor found the dead BMC and alerted.
	deadline := time.Now().Add(15 * time.Second)
	for len(entries(t, h, fault, eventlog.Alert, "bmc-"+lost)) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if len(entries(t, h, fault, eventlog.Alert, "bmc-"+lost)) == 0 {
		t.Error("no device monitor alert for the dead BMC")
	}
	out, err := h.Palisade(survivors[0], "fence", "devices", "--json")
	if err != nil {
		t.Fatalf("palisade fence devices: %v: %s", err, out)
	}
	var devs api.Devices
	if err := json.Unmarshal([]byte(out), &devs); err != nil {
		t.Fatal(err)
	}
	for _, d := range devs.Devices {
		switch {
		case d.Name == "bmc-"+lost && (d.OK || d.Failures < 2 || !d.Alerted):
			t.Errorf("dead BMC shown as %+v", d)
		case strings.HasPrefix(d.Name, "pdu-") && (!d.OK || d.Latency <= 0 || !d.Checked):
			t.Errorf("PDU device shown as %+v", d)
		case strings.HasPrefix(d.Name, "pdu-"):
			t.Logf("monitor of %s: %s in %v (session kept: %v), %d checks", d.Name, d.Result, d.Latency, d.Reused, d.Checks)
		}
	}
	if text, err := h.Palisade(survivors[0], "fence", "devices"); err != nil || !strings.Contains(text, "bmc-"+lost) {
		t.Errorf("fence devices table: %v\n%s", err, text)
	} else {
		t.Logf("palisade fence devices:\n%s", text)
	}
	if text, err := h.Palisade(survivors[0], "fence", "history"); err == nil {
		t.Logf("palisade fence history:\n%s", text)
	}

	// The history survives a restart: persisted by every member, and a
	// restarted daemon shows it again.
	for _, i := range survivors {
		p, err := dcrun.LoadPersisted(h.States[i])
		if err != nil || p == nil || !slices.ContainsFunc(p.History, func(e topology.HistoryEntry) bool { return e.Target == lost && e.Fenced() }) {
			t.Errorf("n%d did not persist the fence of %s in its history: %v", i+1, lost, err)
		}
	}
	other := survivors[0]
	if other == dc {
		other = survivors[1]
	}
	if _, err := h.KillDaemon(other); err != nil {
		t.Fatal(err)
	}
	<-h.Procs[other].Done()
	if err := h.StartDaemon(other); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DCAttached(other, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	sameHistoryEverywhere(t, h, survivors, lost)
}

// TestFenceTopologyMeatwareConfirmedByCLI: the BMC of the hung VIP holder
// is dead and its last level is manual: the DC alerts that an operator
// must power it off and waits; the VIP does not move. The operator cuts
// the node and types `palisade fence confirm` on the DC, which releases
// the waiting manual level: the fence is confirmed by that device, and
// only then does the VIP move.
func TestFenceTopologyMeatwareConfirmedByCLI(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3,
		FenceTuning: "retry: {initial: 200ms, max: 1s}\nmonitor: {interval: 0s}",
		FenceExtra: func(h *failover.Harness) (string, map[int]string, error) {
			var dev strings.Builder
			topo := map[int]string{}
			for i := range h.Lab.Nodes {
				fmt.Fprintf(&dev, "- name: manual-n%d\n  plugin: fence_manual\n  params: {plug: n%d, power_timeout: \"120\", stonith_status_sleep: \"0.1\"}\n", i+1, i+1)
				topo[i] = fmt.Sprintf("[[bmc-n%d], [manual-n%d]]", i+1, i+1)
			}
			return dev.String(), topo, nil
		}})
	holder := waitStarted(t, h)
	lost := fmt.Sprintf("n%d", holder+1)
	h.BreakBMC(holder)
	fault, err := h.Pause(holder)
	if err != nil {
		t.Fatal(err)
	}
	dc := survivingDC(t, h, survivorsOf(3, holder))
	dir := h.States[dc] + "/run/meatware" // run_dir/meatware on the DC
	deadline := time.Now().Add(30 * time.Second)
	for {
		if p, _ := meatware.Pending(dir); slices.Contains(p, lost) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no manual fence of %s waits in %s", lost, dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := entries(t, h, fault, eventlog.Alert, lost); !slices.ContainsFunc(a, func(e eventlog.Entry) bool {
		return strings.Contains(e.Detail, "operator intervention required: power off "+lost)
	}) {
		t.Errorf("no operator alert for %s: %+v", lost, a)
	}
	time.Sleep(time.Second) // it keeps waiting, and nothing moves
	if s := vipStartAfter(t, h, lost, fault); s.MonoNS != 0 {
		t.Fatalf("VIP started on %s while the manual fence of %s waited", s.Node, lost)
	}
	// The operator powers the node off, then confirms on the DC.
	if _, err := h.Isolate(holder); err != nil {
		t.Fatal(err)
	}
	out, err := h.Palisade(dc, "fence", "confirm", lost, "--yes", "--by", "test-operator")
	if err != nil || !strings.Contains(out, "released the manual fence level") {
		t.Fatalf("palisade fence confirm: %v: %s", err, out)
	}
	t.Logf("palisade fence confirm: %s", strings.TrimSpace(out))
	waitTakeover(t, h, holder, fault, 20*time.Second)
	checkRule(t, h, holder, fault)
	conf := entries(t, h, fault, eventlog.FenceConfirmed, lost)
	if len(conf) == 0 || conf[0].By != "device:manual-"+lost {
		t.Fatalf("fence not confirmed through the manual device: %+v", conf)
	}
	if start := vipStartAfter(t, h, lost, fault); start.MonoNS < conf[0].MonoNS {
		t.Fatalf("VIP start %+v before the confirmation %+v", start, conf[0])
	}
	attempts := sameHistoryEverywhere(t, h, survivorsOf(3, holder), lost)
	ok := attempts[len(attempts)-1]
	if ok.Result != "ok" || ok.Level != 2 || ok.Devices != "manual-"+lost || len(ok.Steps) != 2 || ok.Steps[0].Result == "ok" ||
		!strings.Contains(ok.Steps[1].Note, "(as test-operator)") {
		t.Errorf("history entry %+v", ok)
	}
	if text, err := h.Palisade(dc, "fence", "history"); err == nil {
		t.Logf("palisade fence history:\n%s", text)
	}
	if p, _ := meatware.Pending(dir); len(p) != 0 {
		t.Errorf("manual fences still waiting: %v", p)
	}
}

// TestFenceWatchdogSelfFence: the VIP holder is cut off the cluster (it
// keeps running, alone and without quorum) and its BMC is dead; level 2
// of its topology is fence_watchdog. The holder stops feeding its
// watchdog (a stand-in here: this machine has none, see watchdog_test.go)
// once it lost quorum, and the survivors count it fenced only after
// watchdog_fence_timeout, later than a real watchdog would have reset it.
func TestFenceWatchdogSelfFence(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3, HeartbeatLink: true,
		FenceTuning: "retry: {initial: 200ms, max: 1s}\nattempt_timeout: 20s\nmonitor: {interval: 0s}\nwatchdog: {device: \"stand-in:watchdog.log\", timeout: 2s}",
		FenceExtra: func(h *failover.Harness) (string, map[int]string, error) {
			var dev strings.Builder
			topo := map[int]string{}
			for i := range h.Lab.Nodes {
				fmt.Fprintf(&dev, "- name: wd-n%d\n  plugin: fence_watchdog\n  params: {plug: n%d, watchdog_fence_timeout: \"5\"}\n", i+1, i+1)
				topo[i] = fmt.Sprintf("[[bmc-n%d], [wd-n%d]]", i+1, i+1)
			}
			return dev.String(), topo, nil
		}})
	holder := waitStarted(t, h)
	lost := fmt.Sprintf("n%d", holder+1)
	feeds := func(i int) []time.Time {
		b, err := os.ReadFile(filepath.Join(h.States[i], "watchdog.log"))
		if err != nil {
			t.Fatalf("n%d's watchdog stand-in: %v", i+1, err)
		}
		var out []time.Time
		for _, l := range strings.Split(string(b), "\n") {
			if at, op, ok := strings.Cut(l, " "); ok && op == "keepalive" {
				ts, err := time.Parse(time.RFC3339Nano, at)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, ts)
			}
		}
		return out
	}
	if len(feeds(holder)) == 0 {
		t.Fatalf("%s never fed its watchdog", lost)
	}
	h.BreakBMC(holder)
	fault, err := h.CutCluster(holder)
	if err != nil {
		t.Fatal(err)
	}
	waitTakeover(t, h, holder, fault, 30*time.Second)
	checkRule(t, h, holder, fault)
	conf := entries(t, h, fault, eventlog.FenceConfirmed, lost)
	if len(conf) == 0 || conf[0].By != "device:wd-"+lost {
		t.Fatalf("fence not confirmed through fence_watchdog: %+v", conf)
	}
	confWall, err := time.Parse(time.RFC3339Nano, conf[0].Wall)
	if err != nil {
		t.Fatal(err)
	}
	f := feeds(holder)
	last := f[len(f)-1]
	// A real watchdog fires one timeout (2 s) after the last feed: the
	// survivors must not count the node fenced before that.
	if fired := last.Add(2 * time.Second); confWall.Before(fired) {
		t.Fatalf("fenced at %s, before %s's watchdog would have fired (last feed %s)", conf[0].Wall, lost, last.Format(time.RFC3339Nano))
	}
	t.Logf("%s: last watchdog feed %.0f ms after the cut, would reset at +%.0f ms; counted fenced %.0f ms after that",
		lost, float64(last.Sub(confWall.Add(-time.Duration(conf[0].MonoNS-int64(fault)))))/1e6,
		float64(last.Add(2*time.Second).Sub(confWall.Add(-time.Duration(conf[0].MonoNS-int64(fault)))))/1e6,
		float64(confWall.Sub(last.Add(2*time.Second)))/1e6)
	// The survivors keep feeding theirs (every timeout/3).
	time.Sleep(time.Second)
	for _, i := range survivorsOf(3, holder) {
		if g := feeds(i); g[len(g)-1].Before(confWall) {
			t.Errorf("n%d stopped feeding its watchdog (last %s)", i+1, g[len(g)-1])
		}
	}
}
