package hwtests

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/hw-tests/ipmisim"
	"palisade/hw-tests/pacemaker"
)

// fencerStep is what one step of the fencer test observed, compared
// between the reference agent and ours.
type fencerStep struct {
	rc int
	on bool
}

// TestPacemakerFencer drives fence agents through the real fencer
// (pacemaker-fenced of Pacemaker 2.1.5 on corosync 3, one node in its own
// namespaces) against ipmi_sim: metadata, validate with an unknown
// parameter, a stonith resource (with an extra unknown attribute) that
// starts and monitors, reboot/off/on through stonith_admin with the power
// state checked, history, and the failure paths (wrong password, BMC hung,
// BMC stopped). It runs the Debian reference fence_ipmilan, ours as
// fence_palisade_ipmilan, and ours installed as fence_ipmilan, and
// compares exit codes and power states with the reference.
//
// The fence targets are names that are not cluster nodes ("victim-..."),
// so fencing them never takes the test's own node down.
func TestPacemakerFencer(t *testing.T) {
	refAgent(t)
	top := t
	hostRef, err := os.ReadFile(refIPMILan)
	if err != nil {
		t.Skip(err)
	}
	c := pacemakerCluster(t, "pmf", 1, pacemaker.CIB{Options: map[string]string{"no-quorum-policy": "ignore"}}, false)
	n1 := c.Nodes[0]
	const bmcAddr = "198.18.0.201"
	if err := c.AddBMCAddr(bmcAddr); err != nil {
		t.Fatal(err)
	}
	sim := bmcIn(t, c, bmcAddr, ipmisim.Options{})
	if err := n1.Boot(); err != nil {
		t.Fatal(err)
	}
	waitDC(t, n1, 60*time.Second)
	waitBMC(t, n1, sim)
	ours := c.AgentPath("fence_palisade_ipmilan")

	conn := [][2]string{{"ip", bmcAddr}, {"ipport", "623"}, {"username", sim.User}, {"password", sim.Password},
		{"lanplus", "1"}, {"cipher", "3"}, {"power_wait", "0"}}
	opts := func(kv [][2]string) []string {
		var out []string
		for _, p := range kv {
			out = append(out, "--option", p[0]+"="+p[1])
		}
		return out
	}
	setPower := func(on bool) {
		t.Helper()
		if err := sim.SetPower(on); err != nil {
			t.Fatal(err)
		}
	}
	power := func() bool {
		t.Helper()
		on, err := sim.Power()
		if err != nil {
			t.Fatal(err)
		}
		return on
	}

	variants := []struct {
		name, agent string
		ours        bool
		setup       func()
	}{
		{name: "reference", agent: "fence_ipmilan"},
		{name: "palisade-name", agent: "fence_palisade_ipmilan", ours: true},
		{name: "reference-name", agent: "fence_ipmilan", ours: true, setup: func() {
			// Ours in place of the reference, inside the node's /usr/sbin
			// overlay only.
			if _, err := n1.Run("ln", "-sfn", ours, "/usr/sbin/fence_ipmilan"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	results := map[string]map[string]fencerStep{}
	for _, v := range variants {
		ok := t.Run(v.name, func(t *testing.T) {
			if v.setup != nil {
				v.setup()
			}
			steps := map[string]fencerStep{}
			results[v.name] = steps
			victim := "victim-" + v.name
			rsc := "fence-" + v.name

			// Metadata, as the fencer reads it.
			rc, out := runRC(n1, "stonith_admin", "--metadata", "--agent", v.agent)
			if rc != 0 || !strings.Contains(out, `<resource-agent name="`+v.agent+`"`) || !strings.Contains(out, `name="hexadecimal_kg"`) {
				t.Fatalf("metadata: rc %d\n%s", rc, out)
			}
			if v.ours && !strings.Contains(out, "accepted and ignored") {
				t.Errorf("metadata does not say which parameters are accepted and ignored")
			}

			// validate-all with an unknown parameter: a warning, rc 0.
			rc, out = runRC(n1, append([]string{"stonith_admin", "--validate", "--agent", v.agent},
				opts(append(conn, [2]string{"no_such_param", "1"}))...)...)
			steps["validate"] = fencerStep{rc: rc}
			if rc != 0 {
				t.Errorf("validate with an unknown parameter: rc %d\n%s", rc, out)
			}
			if v.ours && !strings.Contains(out, "Ignoring unknown option 'no_such_param=1'") {
				t.Errorf("validate: no warning about the unknown parameter:\n%s", out)
			}

			// A stonith resource with an extra unknown attribute starts
			// and monitors.
			attrs := append(append([][2]string{}, conn...), [2]string{"pcmk_host_list", victim}, [2]string{"no_such_param", "1"})
			since := time.Now()
			if _, err := n1.Run("cibadmin", "--create", "-o", "resources", "--xml-text", pacemaker.Stonith(rsc, v.agent, attrs, "3s")); err != nil {
				t.Fatal(err)
			}
			err := pacemaker.WaitFor(30*time.Second, rsc+" started and monitored", func() (bool, string) {
				l := n1.Log()
				_, err1 := l.First(since, "Result of start operation for "+rsc+" on n1: ok")
				_, err2 := l.First(since, "Result of monitor operation for "+rsc+" on n1: ok")
				return err1 == nil && err2 == nil, fmt.Sprint(err1, err2)
			})
			if err != nil {
				t.Fatal(err)
			}
			steps["monitor"] = fencerStep{rc: 0}

			// reboot, off, on through the fencer, power checked.
			for _, s := range []struct {
				name   string
				argv   []string
				before bool
				want   bool
			}{
				{"reboot", []string{"--reboot", victim}, true, true},
				{"off", []string{"--fence", victim}, true, false},
				{"on", []string{"--unfence", victim}, false, true},
			} {
				setPower(s.before)
				sets := sim.SetCount()
				rc, out := runRC(n1, append([]string{"stonith_admin", "--timeout", "60"}, s.argv...)...)
				on := power()
				steps[s.name] = fencerStep{rc: rc, on: on}
				if rc != 0 || on != s.want {
					t.Errorf("%s: rc %d, machine on=%v (want rc 0, on=%v)\n%s", s.name, rc, on, s.want, out)
				}
				if s.name == "reboot" {
					calls, _ := sim.Calls()
					if sim.SetCount()-sets < 2 || !strings.Contains(strings.Join(calls, ","), "set power 0") {
						t.Errorf("reboot did not go through OFF: hook calls %q", calls)
					}
				}
			}
			rc, out = runRC(n1, "stonith_admin", "--history", victim, "--verbose")
			if rc != 0 || strings.Count(out, "successful") < 3 {
				t.Errorf("history: rc %d\n%s", rc, out)
			}
			for _, a := range []string{"reboot", "turning off", "unfencing"} {
				if !strings.Contains(out, a+" of "+victim+" successful") {
					t.Errorf("history lacks the %s of %s:\n%s", a, victim, out)
				}
			}
			if _, err := n1.Run("cibadmin", "--delete", "--xml-text", `<primitive id="`+rsc+`"/>`); err != nil {
				t.Fatal(err)
			}

			// Failure paths, through devices registered with the fencer
			// directly (no monitor, one try per request). Short explicit
			// timeouts keep the hung cases quick for both agents; the
			// default budgets are measured by make bench.
			failure := func(step string, extra [][2]string, prepare, restore func(), wantOurs ...string) {
				dev := "dev-" + step + "-" + v.name
				target := "victim-" + step + "-" + v.name
				kv := append(override(conn, extra), [2]string{"pcmk_host_list", target}, [2]string{"pcmk_off_retries", "1"},
					[2]string{"pcmk_reboot_retries", "1"})
				if _, err := n1.Run(append([]string{"stonith_admin", "--register", dev, "--agent", v.agent}, opts(kv)...)...); err != nil {
					t.Fatal(err)
				}
				defer n1.Run("stonith_admin", "--deregister", dev)
				setPower(true)
				prepare()
				since := time.Now()
				rc, out := runRC(n1, "stonith_admin", "--timeout", "60", "--fence", target)
				if step == "stopped" {
					// --query, the fencer's check of a device: the same exit
					// code as the reference's, BMC down or not.
					qrc, qout := runRC(n1, "stonith_admin", "--timeout", "60", "--query", dev)
					steps["query-stopped"] = fencerStep{rc: qrc, on: true}
					t.Logf("stonith_admin --query %s with the BMC stopped: rc %d %s", dev, qrc, strings.TrimSpace(qout))
				}
				restore()
				on := power()
				steps[step] = fencerStep{rc: rc, on: on}
				if rc == 0 || !on {
					t.Errorf("%s: rc %d, machine on=%v: a failed fence must fail and leave the machine alone\n%s", step, rc, on, out)
				}
				if !v.ours {
					return
				}
				time.Sleep(200 * time.Millisecond) // the fencer logs the agent's output after replying
				l := n1.Log()
				for _, w := range wantOurs {
					if _, err := l.First(since, w); err != nil {
						t.Errorf("%s: %v", step, err)
					}
				}
				if _, err := l.First(since, "Fence action did not complete"); err == nil {
					t.Errorf("%s: vague message: the cause is known", step)
				}
			}
			failure("wrong-password", [][2]string{{"password", "wrong"}}, func() {}, func() {},
				"Unable to connect/login to fencing device: login denied")
			quick := [][2]string{{"disable_timeout", "0"}, {"power_timeout", "4"}, {"login_timeout", "2"}}
			failure("hung", quick,
				func() { syscall.Kill(sim.PID(), syscall.SIGSTOP) },
				func() { syscall.Kill(sim.PID(), syscall.SIGCONT); waitBMC(t, n1, sim) },
				"device not answering", "no answer from "+bmcAddr+":623")
			failure("stopped", quick,
				func() { sim.Stop() },
				// The new simulator belongs to the whole test, not this variant.
				func() { sim = bmcIn(top, c, bmcAddr, ipmisim.Options{}); waitBMC(t, n1, sim) },
				"device not answering", "connection refused")
		})
		if !ok {
			break
		}
	}

	// Ours behaves as the reference did, step by step.
	refSteps := results["reference"]
	for _, v := range variants[1:] {
		for step, want := range refSteps {
			got, ok := results[v.name][step]
			if !ok {
				continue
			}
			if (got.rc == 0) != (want.rc == 0) || got.on != want.on {
				t.Errorf("%s %s: rc %d on=%v, reference rc %d on=%v", v.name, step, got.rc, got.on, want.rc, want.on)
			}
		}
	}
	// Nothing changed on the host.
	if b, err := os.ReadFile(refIPMILan); err != nil || string(b) != string(hostRef) {
		t.Errorf("the host's %s changed (%v)", refIPMILan, err)
	}
	if _, err := os.Lstat("/usr/sbin/fence_palisade_ipmilan"); err == nil {
		t.Errorf("the test left /usr/sbin/fence_palisade_ipmilan on the host")
	}
}

// override returns base with the values of extra replacing those of the
// same name (and extra's other pairs appended).
func override(base, extra [][2]string) [][2]string {
	out := append([][2]string{}, base...)
	for _, e := range extra {
		found := false
		for i := range out {
			if out[i][0] == e[0] {
				out[i][1], found = e[1], true
			}
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}
