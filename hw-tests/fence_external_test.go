package hwtests

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/fence"
	"palisade/hw-tests/ipmisim"
	"palisade/plugins/external"
)

// TestFenceExternalReferenceIPMILan drives the ClusterLabs fence_ipmilan
// (external:fence_ipmilan: the installed agent, not Palisade's plugin of
// the same name) against ipmi_sim through plugins/external, with the
// password in a 0600 file: every action is verified by the fencing core's
// status read-back, and the simulated machine's power agrees.
func TestFenceExternalReferenceIPMILan(t *testing.T) {
	refAgent(t) // skips without fence-agents and ipmitool
	sim := startSim(t, ipmisim.Options{})
	pw := filepath.Join(t.TempDir(), "bmc.pw")
	if err := os.WriteFile(pw, []byte(sim.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := fence.NewAgent("external:fence_ipmilan", map[string]string{
		"ip": sim.Host, "ipport": strconv.Itoa(sim.Port), "username": sim.User, "password_file": pw,
		"lanplus": "1", "cipher": "3", "power_wait": "0", "stonith_status_sleep": "0.2",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, st := range []struct {
		act fence.Action
		on  bool
	}{{fence.ActionStatus, true}, {fence.ActionOff, false}, {fence.ActionStatus, false}, {fence.ActionOn, true}, {fence.ActionReboot, true}} {
		res := a.Do(ctx, st.act)
		if !res.OK {
			t.Fatalf("%s: %v", st.act, res)
		}
		if on, _ := sim.Power(); on != st.on {
			t.Errorf("%s: machine on=%v, want %v", st.act, on, st.on)
		}
		if st.act == fence.ActionOff && !res.Fenced() {
			t.Errorf("off not verified: %v", res)
		}
	}
	// A wrong password is the agent's failure, reported with its message.
	bad, err := fence.NewAgent("external:fence_ipmilan", map[string]string{
		"ip": sim.Host, "ipport": strconv.Itoa(sim.Port), "username": sim.User, "password": "wrong-pw",
		"lanplus": "1", "cipher": "3",
	})
	if err != nil {
		t.Fatal(err)
	}
	res := bad.Do(ctx, fence.ActionOff)
	if res.OK || !strings.Contains(res.Err.Error(), "fence_ipmilan status exited 1: Failed:") || strings.Contains(res.Err.Error(), "wrong-pw") {
		t.Errorf("wrong password: %v", res)
	}
	if on, _ := sim.Power(); !on {
		t.Error("powered off with a wrong password")
	}
}

// TestFenceExternalCommand runs an installed agent through our multi-call
// binary ("fence-agent fence_kdump": Palisade has no plugin of that name),
// which validates against the agent's metadata before running it.
func TestFenceExternalCommand(t *testing.T) {
	refScript(t, "fence_kdump")
	ours := binPath(t, "fence-agent")
	r := runAgent(t, []string{ours, "fence_kdump", "-o", "metadata"}, "")
	if r.code != 0 || !strings.Contains(r.stdout, `<parameter name="nodename"`) || !strings.Contains(r.stdout, `<parameter name="agent_timeout"`) {
		t.Errorf("metadata: exit %d %.300s %s", r.code, r.stdout, r.stderr)
	}
	r = runAgent(t, []string{ours, "fence_kdump", "-o", "status", "-n", "n1"}, "")
	if r.code != 1 || !strings.Contains(r.stderr, "does not advertise the status action") {
		t.Errorf("status of an agent without status: exit %d %s", r.code, r.stderr)
	}
	r = runAgent(t, []string{ours, "fence_kdump", "-n", "n1", "--bogus=1"}, "")
	if r.code != 1 || !strings.Contains(r.stderr, "option --bogus not recognized") {
		t.Errorf("an option the agent's metadata does not have: exit %d %s", r.code, r.stderr)
	}
}

// TestFenceExternalEveryInstalledAgent: the metadata of every installed
// ClusterLabs agent decodes into a plugin (fence_ack_manual is a helper
// script, not an agent).
func TestFenceExternalEveryInstalledAgent(t *testing.T) {
	files, _ := filepath.Glob("/usr/sbin/fence_*")
	if len(files) == 0 {
		t.Skip("no fence agents installed (Debian package fence-agents)")
	}
	n := 0
	for _, f := range files {
		if slices.Contains([]string{"fence_ack_manual"}, filepath.Base(f)) {
			continue
		}
		if fi, err := os.Lstat(f); err != nil || fi.Mode()&os.ModeSymlink != 0 {
			continue // one of our own names
		}
		p, err := external.Load(f)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if _, err := fence.Normalize(p, p.Name, map[string]string{}); err != nil {
			t.Errorf("%s: its own defaults do not validate: %v", p.Name, err)
		}
		n++
	}
	t.Logf("%d installed agents load", n)
}
