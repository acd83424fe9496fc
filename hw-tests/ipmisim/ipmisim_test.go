package ipmisim

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestStartStop checks the simulator answers ipmitool, that the hook reads
// and records power in the state file, and that Stop cleans up.
func TestStartStop(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	sim, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Stop() })
	if on, err := sim.Power(); err != nil || !on {
		t.Fatalf("initial power = %v, %v; want on", on, err)
	}
	if err := sim.SetPower(false); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("ipmitool"); err == nil {
		// -E: password from IPMI_PASSWORD, never in argv.
		cmd := exec.Command("ipmitool", "-I", "lanplus", "-C", "3", "-H", sim.Host, "-p", strconv.Itoa(sim.Port),
			"-U", sim.User, "-E", "chassis", "power", "status")
		cmd.Env = append(os.Environ(), "IPMI_PASSWORD="+sim.Password)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Chassis Power is off") {
			t.Fatalf("ipmitool status: %v: %s", err, out)
		}
		if calls, _ := sim.Calls(); len(calls) == 0 || calls[len(calls)-1] != "get power" {
			t.Fatalf("hook calls = %q, want a trailing \"get power\"", calls)
		}
	}
	dir := sim.Dir
	sim.Stop()
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("Stop left %s behind", dir)
	}
}

// TestNetns runs the simulator inside a network namespace, as the failover
// demo does for a node's BMC, and queries it from inside that namespace.
func TestNetns(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	if _, err := exec.LookPath("ipmitool"); err != nil {
		t.Skip("ipmitool not installed")
	}
	ns := "pa-a-" + strconv.Itoa(os.Getpid()) + "-bmc"
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	sim, err := Start(Options{Netns: ns, Port: 623, PoweredOff: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Stop() })
	cmd := exec.Command("ip", "netns", "exec", ns, "ipmitool", "-I", "lanplus", "-C", "3", "-H", sim.Host,
		"-p", "623", "-U", sim.User, "-E", "chassis", "power", "on")
	cmd.Env = append(os.Environ(), "IPMI_PASSWORD="+sim.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ipmitool in %s: %v: %s", ns, err, out)
	}
	if on, err := sim.Power(); err != nil || !on {
		t.Fatalf("power = %v, %v after power on", on, err)
	}
}
