package hwtests

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/hw-tests/ipmisim"
	"palisade/hw-tests/pacemaker"
)

// TestPacemakerSchedulerFences: two Pacemaker nodes, each with an ipmi_sim
// BMC whose power-off really kills that node's processes (and whose power
// on boots it again). The scheduler, not a test, decides to fence: a member
// whose corosync is killed with SIGKILL is fenced by the survivor through
// our agent installed as fence_ipmilan, and the resource it held starts on
// the survivor only after the fence is confirmed (timestamps from
// pacemaker.log); the fenced node rejoins after its power comes back. Then
// with the victim's BMC hung (SIGSTOP) the resource does not start, and
// when the BMC answers again the fence completes and the resource starts
// with no operator action.
func TestPacemakerSchedulerFences(t *testing.T) {
	refAgent(t) // the reference must exist to make "installed as fence_ipmilan" meaningful
	bmcs := map[string]string{"n1": "198.18.0.201", "n2": "198.18.0.202"}
	conn := func(node string) [][2]string {
		return [][2]string{{"ip", bmcs[node]}, {"ipport", "623"}, {"username", "admin"}, {"password", "secret"},
			{"lanplus", "1"}, {"cipher", "3"}, {"power_wait", "0"}, {"pcmk_host_list", node}}
	}
	cib := pacemaker.CIB{
		Resources: []string{
			pacemaker.Stonith("fence-n1", "fence_ipmilan", conn("n1"), "10s"),
			pacemaker.Stonith("fence-n2", "fence_ipmilan", conn("n2"), "10s"),
			`      <primitive id="svc" class="ocf" provider="heartbeat" type="Dummy">
        <operations><op id="svc-monitor" name="monitor" interval="5s"/></operations>
      </primitive>`,
		},
		Constraints: []string{
			pacemaker.Location("fence-n1-not-on-n1", "fence-n1", "n1", "-INFINITY"),
			pacemaker.Location("fence-n2-not-on-n2", "fence-n2", "n2", "-INFINITY"),
			pacemaker.Location("svc-prefers-n2", "svc", "n2", "100"),
		},
	}
	c := pacemakerCluster(t, "pms", 2, cib, true)
	n1, n2 := c.Nodes[0], c.Nodes[1]
	sims := map[string]*ipmisim.Sim{}
	watch := map[string]func(){}
	for _, n := range c.Nodes {
		if err := c.AddBMCAddr(bmcs[n.Name]); err != nil {
			t.Fatal(err)
		}
		// Power off = every process of the node dies at once.
		sims[n.Name] = bmcIn(t, c, bmcs[n.Name], ipmisim.Options{OnPowerOff: n.KillCommand()})
		watch[n.Name] = n.WatchPower(sims[n.Name])
	}
	errs := make(chan error, 2)
	for _, n := range c.Nodes {
		go func(n *pacemaker.Node) { errs <- n.Boot() }(n)
	}
	for range c.Nodes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitDC(t, n1, 60*time.Second)
	waitBMC(t, n1, sims["n2"])
	locate := func(n *pacemaker.Node) string {
		out, _ := n.RunWithin(10*time.Second, "crm_resource", "--resource", "svc", "--locate")
		return out
	}
	waitRunning := func(on string, within time.Duration) {
		t.Helper()
		err := pacemaker.WaitFor(within, "svc running on "+on, func() (bool, string) {
			out := locate(n1)
			return strings.Contains(out, "is running on: "+on), out
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitOnline := func(within time.Duration) {
		t.Helper()
		err := pacemaker.WaitFor(within, "both nodes online", func() (bool, string) {
			out, _ := n1.RunWithin(10*time.Second, "crm_mon", "-1")
			return strings.Contains(out, "Online: [ n1 n2 ]"), out
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitOnline(60 * time.Second)
	waitRunning("n2", 60*time.Second)

	// --- a member killed: the scheduler fences it, then moves svc ---
	fault := time.Now()
	if err := n2.KillCorosync(); err != nil {
		t.Fatal(err)
	}
	fenced, started := fenceThenStart(t, n1, fault, 90*time.Second)
	t.Logf("corosync of n2 killed; fence confirmed +%s, svc start on n1 initiated +%s", fenced.Sub(fault).Round(time.Millisecond),
		started.Sub(fault).Round(time.Millisecond))
	if calls, _ := sims["n2"].Calls(); !strings.Contains(strings.Join(calls, ","), "set power 0") {
		t.Errorf("n2's BMC was never told to power off: %q", calls)
	}
	if l := n1.Log(); len(l.Find("fence_ipmilan", "error output", "device not answering")) > 0 {
		t.Errorf("our agent reported a BMC not answering during a plain fence")
	}
	// The fenced node boots when its power comes back, and rejoins.
	waitOnline(90 * time.Second)
	if n2.Boots() < 2 {
		t.Errorf("n2 booted %d times, want a second boot after the fence", n2.Boots())
	}
	waitRunning("n2", 60*time.Second)

	// --- the same with the victim's BMC hung ---
	// This time n2 stays down after the fence (no power watch), so svc's
	// place after the fence is the survivor, whatever the timing.
	watch["n2"]()
	sim2 := sims["n2"]
	if err := syscall.Kill(sim2.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			syscall.Kill(sim2.PID(), syscall.SIGCONT)
		}
	}()
	fault = time.Now()
	if err := n2.KillCorosync(); err != nil {
		t.Fatal(err)
	}
	const hang = 45 * time.Second
	time.Sleep(hang)
	l := n1.Log()
	if e, err := l.First(fault, "Initiating start operation svc_start_0"); err == nil {
		t.Fatalf("svc started while n2's BMC was hung, before any fence: %s", e.Line)
	}
	if _, err := l.First(fault, "Operation 'reboot' targeting n2 by n1 for pacemaker-controld", "OK (complete)"); err == nil {
		t.Fatal("n2 reported fenced while its BMC was hung")
	}
	failed := 0
	for _, e := range l.Find("using fence-n2") {
		if !e.Time.Before(fault.Truncate(time.Millisecond)) && (strings.Contains(e.Line, "returned 1") || strings.Contains(e.Line, "could not be executed")) {
			failed++
		}
	}
	requests := 0
	for _, e := range l.Find("Requesting fencing (reboot) of node n2") {
		if !e.Time.Before(fault.Truncate(time.Millisecond)) {
			requests++
		}
	}
	if _, err := l.First(fault, "device not answering"); err != nil {
		t.Errorf("our agent's failures do not say the BMC is not answering: %v", err)
	}
	if on, _ := sim2.Power(); !on {
		t.Fatal("power changed while the BMC was hung")
	}
	// The BMC answers again: the fence completes and svc starts, with no
	// operator action.
	resume := time.Now()
	syscall.Kill(sim2.PID(), syscall.SIGCONT)
	resumed = true
	fenced, started = fenceThenStart(t, n1, fault, 120*time.Second)
	t.Logf("BMC hung %s: %d fence requests by the scheduler, %d agent runs (fence or monitor) failed in that time; after it answered again: fence confirmed +%s, svc start initiated +%s",
		hang, requests, failed, fenced.Sub(resume).Round(time.Millisecond), started.Sub(resume).Round(time.Millisecond))
	if requests == 0 || requests > 3 {
		t.Errorf("%d fence requests during a %s hang; with the reference's budget per attempt there are at most 3", requests, hang)
	}
	if on, _ := sim2.Power(); !on {
		t.Error("n2's power is off after a reboot fence")
	}
	// n2 was powered on by the reboot; it boots and rejoins.
	if err := n2.Boot(); err != nil {
		t.Fatal(err)
	}
	waitOnline(90 * time.Second)
}

// fenceThenStart waits (on survivor's log, from since) for n2's fence to be
// confirmed by the fencer and for svc to be started on the survivor, and
// checks the order: the start is initiated only after the confirmation.
func fenceThenStart(t *testing.T, survivor *pacemaker.Node, since time.Time, within time.Duration) (fenced, started time.Time) {
	t.Helper()
	var fe pacemaker.Event
	err := pacemaker.WaitFor(within, "n2 fenced and svc started on n1", func() (bool, string) {
		l := survivor.Log()
		var err1, err2 error
		// The fencer's own confirmation: the controller hears of it through
		// its callback (and may start things at once), and logs the
		// broadcast "Peer n2 was terminated" a few ms later.
		fe, err1 = l.First(since, "Operation 'reboot' targeting n2 by n1 for pacemaker-controld", "OK (complete)")
		_, err2 = l.First(since, "Result of start operation for svc on n1: ok")
		return err1 == nil && err2 == nil, fmt.Sprint(err1, "; ", err2)
	})
	if err != nil {
		t.Fatal(err)
	}
	ini, err := survivor.Log().First(since, "Initiating start operation svc_start_0 locally on n1")
	if err != nil {
		t.Fatal(err)
	}
	if ini.Time.Before(fe.Time) {
		t.Fatalf("svc start initiated before the fence was confirmed:\n%s\n%s", ini.Line, fe.Line)
	}
	return fe.Time, ini.Time
}
