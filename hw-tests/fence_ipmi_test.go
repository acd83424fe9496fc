package hwtests

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/fence"
	"palisade/hw-tests/ipmisim"
	_ "palisade/plugins/ipmi"
)

// TestFenceIPMISimAgent drives bin/fence_ipmilan against ipmi_sim through
// every action and checks the simulated machine's power after each. The
// password comes from the environment (--password-env), never argv.
func TestFenceIPMISimAgent(t *testing.T) {
	sim := startSim(t, ipmisim.Options{})
	agent := fenceAgent(t, "fence_ipmilan")
	pwEnv := "PALISADE_TEST_BMC_PW=" + sim.Password
	steps := []struct {
		action string
		code   int
		lines  []string
		power  bool
	}{
		{"status", 0, []string{"Status: ON"}, true},
		{"off", 0, []string{"Success: Powered OFF"}, false},
		{"status", 2, []string{"Status: OFF"}, false},
		{"off", 0, []string{"Success: Already OFF"}, false},
		{"on", 0, []string{"Success: Powered ON"}, true},
		{"on", 0, []string{"Success: Already ON"}, true},
		{"reboot", 0, []string{"Success: Rebooted"}, true},
		{"monitor", 0, nil, true},
		{"list", 0, []string{"NOTICE: List option is not working on this device yet"}, true},
		{"validate-all", 0, nil, true},
	}
	for _, s := range steps {
		argv := append(append([]string{agent}, simArgs(sim)...), "--password-env=PALISADE_TEST_BMC_PW", "-o", s.action)
		r := runAgent(t, argv, "", pwEnv)
		if r.code != s.code || !slices.Equal(r.lines(), s.lines) {
			t.Fatalf("%s: exit %d lines %q, want %d %q; stderr:\n%s", s.action, r.code, r.lines(), s.code, s.lines, r.stderr)
		}
		if on, err := sim.Power(); err != nil || on != s.power {
			t.Fatalf("%s: machine on = %v (%v), want %v", s.action, on, err, s.power)
		}
	}
	// A reboot must really have gone through OFF.
	calls, _ := sim.Calls()
	if !slices.Contains(calls, "set power 0") || !slices.Contains(calls, "set power 1") {
		t.Errorf("hook calls %q lack set power 0/1", calls)
	}
}

// TestFenceIPMISimStdin: the Pacemaker form, password on stdin.
func TestFenceIPMISimStdin(t *testing.T) {
	sim := startSim(t, ipmisim.Options{})
	agent := fenceAgent(t, "fence_ipmilanplus")
	in := "# pacemaker-fenced\naction=off\nipaddr=" + sim.Host + "\nipport=" + strconv.Itoa(sim.Port) +
		"\nlogin=" + sim.User + "\npasswd=" + sim.Password + "\ncipher=3\npower_wait=0\nnodename=n1\n"
	r := runAgent(t, []string{agent}, in)
	if r.code != 0 || r.stdout != "Success: Powered OFF\n" {
		t.Fatalf("exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	if on, _ := sim.Power(); on {
		t.Fatal("machine still on")
	}
	// Without an action line (here a misspelt one) the call is refused,
	// naming the ignored line, and nothing is done to the machine.
	r = runAgent(t, []string{agent}, strings.Replace(in, "action=off", "option=on", 1))
	if r.code != 1 || !strings.Contains(r.stderr, `no action= line on stdin (ignored: 'option=on')`) {
		t.Fatalf("option=on: exit %d stderr %q", r.code, r.stderr)
	}
	if on, _ := sim.Power(); on {
		t.Fatal("refused call changed the power state")
	}
}

// TestFenceIPMISimFailures covers the failure paths of the issue against a
// real BMC implementation.
func TestFenceIPMISimFailures(t *testing.T) {
	sim := startSim(t, ipmisim.Options{})
	agent := fenceAgent(t, "fence_ipmilan")
	run := func(pw string, extra ...string) agentRun {
		argv := append(append([]string{agent}, simArgs(sim)...), "--password-env=PALISADE_TEST_BMC_PW")
		return runAgent(t, append(argv, extra...), "", "PALISADE_TEST_BMC_PW="+pw)
	}

	r := run("not-the-password", "-o", "status")
	if r.code != 1 || !strings.Contains(r.stderr, "login denied") || strings.Contains(r.stderr, "not-the-password") {
		t.Errorf("wrong password: exit %d stderr %q", r.code, r.stderr)
	}

	if err := sim.IgnorePower(true); err != nil {
		t.Fatal(err)
	}
	r = run(sim.Password, "-o", "off", "--power-timeout=1")
	if r.code != 1 || !strings.Contains(r.stderr, "Failed: Timed out waiting to power OFF") || r.stdout != "" {
		t.Errorf("BMC accepts off but never performs: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	sim.IgnorePower(false)

	if err := sim.FailPower(true); err != nil {
		t.Fatal(err)
	}
	r = run(sim.Password, "-o", "off")
	if r.code != 1 || !strings.Contains(r.stderr, "refused") {
		t.Errorf("BMC refuses off: exit %d stderr %q", r.code, r.stderr)
	}
	sim.FailPower(false)
	if on, _ := sim.Power(); !on {
		t.Error("failed off changed the power state")
	}

	if err := sim.FailStatus(true); err != nil {
		t.Fatal(err)
	}
	r = run(sim.Password, "-o", "status")
	if r.code != 1 || !strings.Contains(r.stderr, "Unable to obtain correct plug status") {
		t.Errorf("status unreadable: exit %d stderr %q", r.code, r.stderr)
	}
	sim.FailStatus(false)

	// A BMC that does not answer: the simulator is gone (port closed)...
	sim.Stop()
	r = run(sim.Password, "-o", "off", "--login-timeout=1")
	if r.code != 1 || !strings.Contains(r.stderr, "device not answering\nERROR: ") || !strings.Contains(r.stderr, "connection refused") ||
		strings.Contains(r.stderr, "trying again") {
		t.Errorf("BMC down: exit %d stderr %q, want a refusal reported at once with its cause", r.code, r.stderr)
	}
	// ...or something holds the port and never answers (a hung BMC).
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	argv := []string{agent, "-a", "127.0.0.1", "-u", strconv.Itoa(silent.LocalAddr().(*net.UDPAddr).Port), "-l", "admin",
		"--password-env=PALISADE_TEST_BMC_PW", "-P", "-C", "3", "-o", "off", "--login-timeout=1", "--power-timeout=2"}
	r = runAgent(t, argv, "", "PALISADE_TEST_BMC_PW=x")
	if r.code != 1 || !strings.Contains(r.stderr, "Failed: Unable to connect/login to fencing device: device not answering\nERROR: no answer from 127.0.0.1:") ||
		!strings.Contains(r.stderr, "login attempts") {
		t.Errorf("BMC hung: exit %d stderr %q", r.code, r.stderr)
	}
}

// TestFenceLibraryOff is the daemon's path: fence.NewAgent from a plugin
// name and YAML-style parameters, password from a 0600 file, a verified
// off, and the simulator's extra power-off command run.
func TestFenceLibraryOff(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "node-stopped")
	sim := startSim(t, ipmisim.Options{OnPowerOff: "touch '" + marker + "'"})
	pw := filepath.Join(dir, "bmc.pw")
	if err := os.WriteFile(pw, []byte(sim.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	agent, err := fence.NewAgent("ipmilan", map[string]string{
		"ip": sim.Host, "ipport": strconv.Itoa(sim.Port), "username": sim.User,
		"password_file": pw, "lanplus": "1", "cipher": "3", "power_wait": "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := agent.Off(ctx)
	if !res.Fenced() {
		t.Fatalf("off: %+v", res)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("OnPowerOff command did not run: %v", err)
	}
	if _, err := fence.NewAgent("ipmilan", map[string]string{"ip": sim.Host, "option": "status"}); !errors.Is(err, fence.ErrConfig) || !strings.Contains(err.Error(), `"option"`) {
		t.Errorf("unknown key: err = %v", err)
	}
}
