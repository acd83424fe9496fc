package hwtests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/fence/topology"
	"palisade/hw-tests/ipmisim"
	"palisade/hw-tests/pdusim"
	"palisade/hw-tests/redfishsim"
	_ "palisade/plugins/apcsnmp"
	_ "palisade/plugins/ipmi"
	"palisade/plugins/meatware"
	_ "palisade/plugins/redfish"
)

// fencerFrom decodes a fencing section and builds its devices.
func fencerFrom(t *testing.T, section string) *topology.Fencer {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(section), &n); err != nil {
		t.Fatal(err)
	}
	cfg, err := topology.Decode("cluster.yaml", &n)
	if err != nil {
		t.Fatalf("%v\n%s", err, section)
	}
	f, err := topology.NewFencer(cfg, topology.FenceAgents)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func writePassword(t *testing.T, pw string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTopologyAcrossKinds fences one node through levels of different
// device kinds, each against its real simulator: a BMC (IPMI, then
// Redfish) that fails, a PDU level of two outlets on two PDUs, and
// meatware as the last level, confirmed with meatclient.
func TestTopologyAcrossKinds(t *testing.T) {
	if err := ipmisim.Available(); err != nil {
		t.Skip(err)
	}
	bmc := startSim(t, ipmisim.Options{})
	rf, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Stop()
	pduA := startPDU(t, pdusim.Options{Kind: pdusim.RackPDU})
	pduB := startPDU(t, pdusim.Options{Kind: pdusim.MasterSwitch})
	meatDir := filepath.Join(t.TempDir(), "meatware")
	section := fmt.Sprintf(`
attempt_timeout: 60s
devices:
  - name: bmc-n1
    plugin: fence_ipmilan
    params: {ip: %s, ipport: "%d", username: %s, password_file: %s, lanplus: "1", cipher: "3", power_wait: "0", power_timeout: "2", login_timeout: "2"}
  - name: redfish-n1
    plugin: fence_redfish
    params: {ip: %s, ipport: "%d", username: %s, password_file: %s, ssl_ca_file: %s, power_timeout: "2"}
  - name: pdu-a-n1
    plugin: fence_apc_snmp
    params: {ip: %s, ipport: "%d", snmp_version: "2c", community: private, plug: "2", power_timeout: "3", stonith_status_sleep: "0.1"}
  - name: pdu-b-n1
    plugin: fence_apc_snmp
    params: {ip: %s, ipport: "%d", snmp_version: "3", username: %s, password_file: %s, snmp_sec_level: authNoPriv, snmp_auth_prot: SHA, plug: node2, power_timeout: "3", stonith_status_sleep: "0.1"}
  - name: manual-n1
    plugin: fence_manual
    params: {plug: n1, meatware_dir: %s, power_timeout: "30", stonith_status_sleep: "0.1"}
topology:
  n1: [[bmc-n1], [redfish-n1], [pdu-a-n1, pdu-b-n1], [manual-n1]]
`, bmc.Host, bmc.Port, bmc.User, writePassword(t, bmc.Password),
		rf.Host, rf.Port, rf.User, writePassword(t, rf.Password), rf.CAFile,
		pduA.Host, pduA.Port,
		pduB.Host, pduB.Port, pduB.AuthUser, writePassword(t, pduB.AuthPass),
		meatDir)
	f := fencerFrom(t, section)
	reset := func() {
		bmc.FailPower(false)
		bmc.SetPower(true)
		rf.Clear()
		rf.SetPower(true)
		pduA.Reset(true)
		pduB.Reset(true)
	}
	fence := func() topology.Outcome {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return f.Fence(ctx, "n1")
	}

	t.Run("level 1 IPMI", func(t *testing.T) {
		reset()
		out := fence()
		if !out.Confirmed() || out.Level != 1 {
			t.Fatalf("outcome %+v", out)
		}
		if on, _ := bmc.Power(); on {
			t.Error("BMC machine still on")
		}
	})
	t.Run("IPMI and Redfish fail, the PDU level fences", func(t *testing.T) {
		reset()
		bmc.FailPower(true)
		rf.Inject(redfishsim.Fault{Method: "POST", Path: "/Actions/ComputerSystem.Reset", Status: 503,
			Body: redfishsim.ErrorBody("Base.1.8.ServiceTemporarilyUnavailable", "The service is temporarily unavailable.", "Retry later.")})
		out := fence()
		if !out.Confirmed() || out.Level != 3 || out.Devices != "pdu-a-n1,pdu-b-n1" {
			t.Fatalf("outcome %+v (%v)", out, out.Err)
		}
		if len(out.Steps) != 4 || out.Steps[0].OK || out.Steps[1].OK || !strings.Contains(out.Steps[1].Err, "ServiceTemporarilyUnavailable") {
			t.Errorf("steps %+v", out.Steps)
		}
		a2, _ := pduA.Outlet(2)
		b2, _ := pduB.Outlet(2)
		if a2 || b2 {
			t.Errorf("outlets still on: PDU A outlet 2 %v, PDU B outlet 2 %v", a2, b2)
		}
		if on, _ := bmc.Power(); !on {
			t.Error("the failing BMC powered off after all")
		}
	})
	t.Run("every device fails, meatware confirmed by meatclient", func(t *testing.T) {
		reset()
		bmc.FailPower(true)
		rf.IgnoreResets(true)
		pduA.FailSets("wrong-value")
		done := make(chan topology.Outcome, 1)
		go func() { done <- fence() }()
		deadline := time.Now().Add(60 * time.Second)
		for {
			if p, _ := meatware.Pending(meatDir); len(p) == 1 && p[0] == "n1" {
				break
			}
			select {
			case out := <-done:
				t.Fatalf("the attempt ended before asking an operator: %+v", out)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("meatware never started waiting")
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := runAgent(t, []string{pluginAgent(t, "meatclient"), "-c", "n1", "-d", meatDir}, "y\n")
		if r.code != 0 {
			t.Fatalf("meatclient: exit %d %s %s", r.code, r.stdout, r.stderr)
		}
		out := <-done
		if !out.Confirmed() || out.Level != 4 || out.Devices != "manual-n1" {
			t.Fatalf("outcome %+v (%v)", out, out.Err)
		}
		// The PDU level stopped at its first (failing) device.
		if on, _ := pduB.Outlet(2); !on {
			t.Error("PDU B switched although its level had already failed")
		}
	})
}

// TestFenceManualCommand: fence_manual and meatclient as commands, the way
// an operator and Pacemaker run them.
func TestFenceManualCommand(t *testing.T) {
	fm := pluginAgent(t, "fence_manual")
	mc := pluginAgent(t, "meatclient")
	dir := filepath.Join(t.TempDir(), "meatware")
	done := make(chan agentRun, 1)
	go func() {
		done <- runAgent(t, []string{fm}, "action=off\nport=db-2\nnodename=db-2\nmeatware_dir="+dir+"\npower_timeout=30\n")
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p, _ := meatware.Pending(dir); len(p) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fence_manual never waited")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := runAgent(t, []string{mc, "-c", "db-1", "-d", dir, "-y"}, ""); r.code != 1 {
		t.Errorf("confirming the wrong node: exit %d", r.code)
	}
	if r := runAgent(t, []string{mc, "-c", "db-2", "-d", dir}, "y\n"); r.code != 0 {
		t.Fatalf("meatclient: exit %d %s", r.code, r.stderr)
	}
	r := <-done
	if r.code != 0 || strings.TrimSpace(r.stdout) != "Success: Powered OFF" || !strings.Contains(r.stderr, "operator intervention required: power off db-2 and confirm") {
		t.Errorf("fence_manual: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runAgent(t, []string{fm, "-n", "db-2", "--meatware-dir=" + dir, "--power-timeout=0.5"}, "")
	if r.code != 1 {
		t.Errorf("unconfirmed: exit %d %s", r.code, r.stdout)
	}
}
