package pdusim

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func snmp(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command("/usr/bin/"+tool, append([]string{"-m", "", "-Oeqn"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestSimWithNetSNMPTools drives each kind with net-snmp's own tools (what
// the reference agent runs), over v1, v2c and v3.
func TestSimWithNetSNMPTools(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("/usr/bin/snmpget"); err != nil {
		t.Skipf("net-snmp tools missing (Debian package snmp): %v", err)
	}
	for _, kind := range []Kind{RackPDU, MasterSwitch} {
		t.Run(string(kind), func(t *testing.T) {
			s, err := Start(Options{Kind: kind, Off: []int{2}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			addr := s.Host + ":" + strconv.Itoa(s.Port)
			v1 := []string{"-v", "1", "-c", s.Community, addr}
			if got := snmp(t, "snmpget", append(v1, ".1.3.6.1.2.1.1.2.0")...); !strings.HasSuffix(got, kind.sysObjectID()) {
				t.Errorf("sysObjectID: %s", got)
			}
			status, control := sPDUOutletCtl, sPDUOutletCtl
			if kind == RackPDU {
				status, control = rPDUOutletStatusState, rPDUOutletControlCommand
			}
			if got := snmp(t, "snmpget", append(v1, status+".2")...); got != status+".2 2" {
				t.Errorf("outlet 2: %q", got)
			}
			snmp(t, "snmpset", append([]string{"-v", "2c", "-c", s.Community, addr}, control+".3", "i", "2")...)
			if on, _ := s.Outlet(3); on {
				t.Error("outlet 3 still on after SET off")
			}
			v3 := []string{"-v", "3", "-l", "authPriv", "-u", s.PrivUser, "-a", "SHA", "-A", s.PrivAuthPass, "-x", "AES", "-X", s.PrivPass, addr}
			snmp(t, "snmpset", append(v3, control+".3", "i", "1")...)
			if on, _ := s.Outlet(3); !on {
				t.Error("outlet 3 still off after SET on (v3 authPriv)")
			}
			walk := snmp(t, "snmpwalk", append([]string{"-v", "3", "-l", "authNoPriv", "-u", s.MD5User, "-A", s.MD5Pass, addr}, sPDUOutletCtlName)...)
			if !strings.Contains(walk, sPDUOutletCtlName+".8 \"node8\"") {
				t.Errorf("walk of the names (v3 MD5 authNoPriv):\n%s", walk)
			}
			if sets, _ := s.Sets(); len(sets) != 2 {
				t.Errorf("sets %v", sets)
			}
		})
	}
}

// TestFeedPowerOff: a machine on two outlets loses power (its hook runs)
// only when both are off, once, and again after it had power back.
func TestFeedPowerOff(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("/usr/bin/snmpset"); err != nil {
		t.Skipf("net-snmp tools missing (Debian package snmp): %v", err)
	}
	marks := t.TempDir() + "/cuts"
	s, err := Start(Options{Kind: RackPDU, Feeds: []Feed{{Outlets: []int{3, 4}, OnPowerOff: "echo cut >> " + marks}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	addr := s.Host + ":" + strconv.Itoa(s.Port)
	set := func(outlet, value string) {
		snmp(t, "snmpset", "-v", "2c", "-c", s.Community, addr, rPDUOutletControlCommand+"."+outlet, "i", value)
	}
	cuts := func() int {
		b, _ := exec.Command("cat", marks).Output()
		return strings.Count(string(b), "cut")
	}
	set("3", "2")
	if cut, _, _ := s.FeedCut(0); cut || cuts() != 0 {
		t.Fatal("the machine lost power with one of its two outlets still on")
	}
	set("4", "2")
	if cut, _, _ := s.FeedCut(0); !cut || cuts() != 1 {
		t.Fatalf("both outlets off: cut=%v, hook ran %d times", cut, cuts())
	}
	set("4", "2") // already off: nothing new
	if cuts() != 1 {
		t.Fatalf("hook ran %d times", cuts())
	}
	set("3", "1")
	set("3", "2")
	if cuts() != 2 {
		t.Fatalf("power back then off again: hook ran %d times, want 2", cuts())
	}
}
