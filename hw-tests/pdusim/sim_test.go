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
