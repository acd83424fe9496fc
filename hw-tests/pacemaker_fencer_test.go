package hwtests

import (
	"fmt"
	"os"
	"path/filepath"
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

// fencerDevice is one personality of the fencer test: a simulated device
// in the cluster's client namespace, reachable from the Pacemaker node,
// and what the test needs to drive and observe it.
type fencerDevice struct {
	// agent is the fence-agents name (fence_ipmilan); ours is installed
	// beside it as fence_palisade_*.
	agent string
	// metaParam is a parameter only this agent's metadata has.
	metaParam string
	// conn are the stonith attributes that reach the device.
	conn [][2]string
	// hostAttrs are the attributes that make target the device's only
	// target (pcmk_host_list, and pcmk_host_map to a plug if it has plugs).
	hostAttrs func(target string) [][2]string
	// power and setPower read and set the simulated machine's power.
	power    func() (bool, error)
	setPower func(on bool) error
	// offs counts the power-off commands the device received so far (a
	// reboot must go through OFF).
	offs func() int
	// secret are the failure paths of wrong credentials.
	secret []fencerFailure
	// hang makes the device answer nothing; the returned func makes it
	// answer again and waits until it does.
	hang func() (resume func())
	// stop closes the device's port; the returned func opens it again and
	// waits until it answers.
	stop func() (restart func())
	// hungWant and stoppedWant are what ours must log for those paths.
	hungWant, stoppedWant []string
	// differs are steps where ours deliberately does not do what the
	// reference does, with the reason: both results are logged, not
	// compared.
	differs map[string]string
}

// fencerFailure is one failure path: extra attributes, and what ours
// must log (the fencer copies the agent's stderr to pacemaker.log).
type fencerFailure struct {
	step  string
	extra [][2]string
	want  []string
}

// fencerQuick are short explicit timeouts for the silent-device paths:
// they keep the hung cases quick for both agents (the default budgets are
// measured by make bench).
var fencerQuick = [][2]string{{"disable_timeout", "0"}, {"power_timeout", "4"}, {"login_timeout", "2"}}

// TestPacemakerFencer drives fence agents through the real fencer
// (pacemaker-fenced of Pacemaker 2.1.5 on corosync 3, one node in its own
// namespaces), for each personality with a simulator: IPMI (ipmi_sim),
// Redfish (redfishsim) and an APC PDU over SNMP (snmpd with pdusim), each
// in the cluster's client namespace. For each: metadata, validate with an
// unknown parameter, a stonith resource (with an extra unknown attribute)
// that starts and monitors, reboot/off/on through stonith_admin with the
// simulated power checked, history, and the failure paths (wrong
// credentials, device hung, device stopped) with ours' message checked.
// It runs the Debian reference agent, ours as fence_palisade_*, and ours
// installed under the reference name, and compares exit codes and power
// states with the reference, step by step.
//
// The fence targets are names that are not cluster nodes ("victim-..."),
// so fencing them never takes the test's own node down.
func TestPacemakerFencer(t *testing.T) {
	refAgent(t)
	c := pacemakerCluster(t, "pmf", 1, pacemaker.CIB{Options: map[string]string{"no-quorum-policy": "ignore"}}, false)
	n1 := c.Nodes[0]
	if err := n1.Boot(); err != nil {
		t.Fatal(err)
	}
	waitDC(t, n1, 60*time.Second)
	for _, p := range []struct {
		name string
		dev  func(t *testing.T, c *pacemaker.Cluster) *fencerDevice
	}{
		{"ipmi", ipmiFencerDevice},
		{"redfish", redfishFencerDevice},
		{"apc_snmp", apcFencerDevice},
	} {
		t.Run(p.name, func(t *testing.T) {
			runFencerPersonality(t, c, p.name, p.dev(t, c))
		})
	}
}

// ipmiFencerDevice is ipmi_sim at 198.18.0.201:623 (lanplus, cipher 3).
func ipmiFencerDevice(t *testing.T, c *pacemaker.Cluster) *fencerDevice {
	const addr = "198.18.0.201"
	if err := c.AddBMCAddr(addr); err != nil {
		t.Fatal(err)
	}
	n1 := c.Nodes[0]
	start := func() *ipmisim.Sim {
		// Its own directory, kept after Stop, so a stopped BMC's machine
		// can still be read.
		sim := bmcIn(t, c, addr, ipmisim.Options{Dir: t.TempDir()})
		waitBMC(t, n1, sim)
		return sim
	}
	sim := start()
	return &fencerDevice{
		agent:     "fence_ipmilan",
		metaParam: "hexadecimal_kg",
		conn: [][2]string{{"ip", addr}, {"ipport", "623"}, {"username", sim.User}, {"password", sim.Password},
			{"lanplus", "1"}, {"cipher", "3"}, {"power_wait", "0"}},
		hostAttrs: func(target string) [][2]string { return [][2]string{{"pcmk_host_list", target}} },
		power:     func() (bool, error) { return sim.Power() },
		setPower:  func(on bool) error { return sim.SetPower(on) },
		offs: func() int {
			calls, _ := sim.Calls()
			k := 0
			for _, c := range calls {
				if c == "set power 0" {
					k++
				}
			}
			return k
		},
		secret: []fencerFailure{{step: "wrong-password", extra: [][2]string{{"password", "wrong"}},
			want: []string{"Unable to connect/login to fencing device: login denied"}}},
		hang: func() func() {
			syscall.Kill(sim.PID(), syscall.SIGSTOP)
			return func() { syscall.Kill(sim.PID(), syscall.SIGCONT); waitBMC(t, n1, sim) }
		},
		stop: func() func() {
			sim.Stop()
			return func() { sim = start() }
		},
		hungWant:    []string{"device not answering", "no answer from " + addr + ":623"},
		stoppedWant: []string{"device not answering", "connection refused"},
	}
}

// runFencerPersonality runs the reference agent and ours (under both
// names) through the fencer against dev, then compares them.
func runFencerPersonality(t *testing.T, c *pacemaker.Cluster, pers string, dev *fencerDevice) {
	n1 := c.Nodes[0]
	refPath := "/usr/sbin/" + dev.agent
	hostRef, err := os.ReadFile(refPath)
	if err != nil {
		t.Skipf("reference agent missing (Debian package fence-agents): %v", err)
	}
	palisadeName := "fence_palisade_" + strings.TrimPrefix(dev.agent, "fence_")
	ours := c.AgentPath(palisadeName)
	if ours == "" {
		t.Fatalf("%s is not installed in the cluster's nodes", palisadeName)
	}
	opts := func(kv [][2]string) []string {
		var out []string
		for _, p := range kv {
			out = append(out, "--option", p[0]+"="+p[1])
		}
		return out
	}
	setPower := func(on bool) {
		t.Helper()
		if err := dev.setPower(on); err != nil {
			t.Fatal(err)
		}
	}
	power := func() bool {
		t.Helper()
		on, err := dev.power()
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
		{name: "reference", agent: dev.agent},
		{name: "palisade-name", agent: palisadeName, ours: true},
		{name: "reference-name", agent: dev.agent, ours: true, setup: func() {
			// Ours in place of the reference, inside the node's /usr/sbin
			// overlay only.
			if _, err := n1.Run("ln", "-sfn", ours, refPath); err != nil {
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
			tag := pers + "-" + v.name
			victim := "victim-" + tag
			rsc := "fence-" + tag

			// Metadata, as the fencer reads it.
			rc, out := runRC(n1, "stonith_admin", "--metadata", "--agent", v.agent)
			if rc != 0 || !strings.Contains(out, `<resource-agent name="`+v.agent+`"`) || !strings.Contains(out, `name="`+dev.metaParam+`"`) {
				t.Fatalf("metadata: rc %d\n%s", rc, out)
			}
			if v.ours && !strings.Contains(out, "accepted and ignored") {
				t.Errorf("metadata does not say which parameters are accepted and ignored")
			}

			// validate-all with an unknown parameter: a warning, rc 0.
			rc, out = runRC(n1, append([]string{"stonith_admin", "--validate", "--agent", v.agent},
				opts(append(append([][2]string{}, dev.conn...), [2]string{"no_such_param", "1"}))...)...)
			steps["validate"] = fencerStep{rc: rc}
			if rc != 0 {
				t.Errorf("validate with an unknown parameter: rc %d\n%s", rc, out)
			}
			if v.ours && !strings.Contains(out, "Ignoring unknown option 'no_such_param=1'") {
				t.Errorf("validate: no warning about the unknown parameter:\n%s", out)
			}

			// A stonith resource with an extra unknown attribute starts
			// and monitors.
			attrs := append(append(append([][2]string{}, dev.conn...), dev.hostAttrs(victim)...), [2]string{"no_such_param", "1"})
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
			t.Logf("stonith resource started and monitored in %s", time.Since(since).Round(100*time.Millisecond))
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
				offs := dev.offs()
				start := time.Now()
				rc, out := runRC(n1, append([]string{"stonith_admin", "--timeout", "60"}, s.argv...)...)
				t.Logf("%s: rc %d in %s", s.name, rc, time.Since(start).Round(10*time.Millisecond))
				on := power()
				steps[s.name] = fencerStep{rc: rc, on: on}
				if rc != 0 || on != s.want {
					t.Errorf("%s: rc %d, machine on=%v (want rc 0, on=%v)\n%s", s.name, rc, on, s.want, out)
				}
				if s.name == "reboot" && dev.offs() == offs {
					t.Errorf("reboot did not go through OFF: the device received no power-off command")
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
			// directly (no monitor, one try per request). The machine's
			// power is read before the device is restored.
			failure := func(f fencerFailure, prepare func() (restore func())) {
				devID := "dev-" + f.step + "-" + tag
				target := "victim-" + f.step + "-" + tag
				kv := append(append(override(dev.conn, f.extra), dev.hostAttrs(target)...),
					[2]string{"pcmk_off_retries", "1"}, [2]string{"pcmk_reboot_retries", "1"})
				if _, err := n1.Run(append([]string{"stonith_admin", "--register", devID, "--agent", v.agent}, opts(kv)...)...); err != nil {
					t.Fatal(err)
				}
				defer n1.Run("stonith_admin", "--deregister", devID)
				setPower(true)
				restore := prepare()
				since := time.Now()
				start := time.Now()
				// 20 s bounds an agent that ignores its own timeouts (the
				// fencer kills it then): ours ends within its budget.
				rc, out := runRC(n1, "stonith_admin", "--timeout", "20", "--fence", target)
				took := time.Since(start)
				if f.step == "stopped" {
					// --query, the fencer's check of a device: the same exit
					// code as the reference's, device down or not.
					qstart := time.Now()
					qrc, qout := runRC(n1, "stonith_admin", "--timeout", "60", "--query", devID)
					steps["query-stopped"] = fencerStep{rc: qrc, on: true}
					t.Logf("stonith_admin --query %s with the device stopped: rc %d in %s %s", devID, qrc,
						time.Since(qstart).Round(100*time.Millisecond), strings.TrimSpace(qout))
				}
				on := power()
				restore()
				steps[f.step] = fencerStep{rc: rc, on: on}
				if rc == 0 || !on {
					t.Errorf("%s: rc %d, machine on=%v: a failed fence must fail and leave the machine alone\n%s", f.step, rc, on, out)
				}
				time.Sleep(200 * time.Millisecond) // the fencer logs the agent's output after replying
				l := n1.Log()
				if !v.ours {
					// The reference's wording is its own: logged, not checked.
					t.Logf("%s: reference failed in %s: %s", f.step, took.Round(100*time.Millisecond), agentLines(l, since, v.agent))
					return
				}
				t.Logf("%s: failed in %s", f.step, took.Round(100*time.Millisecond))
				for _, w := range f.want {
					if _, err := l.First(since, w); err != nil {
						t.Errorf("%s: %v", f.step, err)
					}
				}
				if _, err := l.First(since, "Fence action did not complete"); err == nil {
					t.Errorf("%s: vague message: the cause is known", f.step)
				}
			}
			for _, f := range dev.secret {
				failure(f, func() func() { return func() {} })
			}
			failure(fencerFailure{step: "hung", extra: fencerQuick, want: dev.hungWant}, dev.hang)
			failure(fencerFailure{step: "stopped", extra: fencerQuick, want: dev.stoppedWant}, dev.stop)
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
			if why, ok := dev.differs[step]; ok {
				t.Logf("%s %s: rc %d on=%v, reference rc %d on=%v (a deliberate difference: %s)", v.name, step, got.rc, got.on, want.rc, want.on, why)
				continue
			}
			if (got.rc == 0) != (want.rc == 0) || got.on != want.on {
				t.Errorf("%s %s: rc %d on=%v, reference rc %d on=%v", v.name, step, got.rc, got.on, want.rc, want.on)
			}
		}
	}
	// Nothing changed on the host.
	if b, err := os.ReadFile(refPath); err != nil || string(b) != string(hostRef) {
		t.Errorf("the host's %s changed (%v)", refPath, err)
	}
	if _, err := os.Lstat(filepath.Join("/usr/sbin", palisadeName)); err == nil {
		t.Errorf("the test left /usr/sbin/%s on the host", palisadeName)
	}
}

// agentLines are the lines pacemaker.log has from agent's output since a
// time (what the fencer copied from its stderr), for logging.
func agentLines(l pacemaker.Log, since time.Time, agent string) string {
	var out []string
	for _, e := range l.Find(agent + "[") {
		if !e.Time.Before(since.Truncate(time.Millisecond)) {
			out = append(out, strings.TrimSpace(e.Line))
		}
	}
	if len(out) > 4 {
		out = out[len(out)-4:]
	}
	return strings.Join(out, "\n")
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
