package hwtests

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/hw-tests/pdusim"
)

// startPDU starts a simulated APC PDU (snmpd + pass_persist, built into
// the simulator's directory) or skips when snmpd is not installed.
func startPDU(t *testing.T, o pdusim.Options) *pdusim.Sim {
	t.Helper()
	if err := pdusim.Available(); err != nil {
		t.Skip(err)
	}
	s, err := pdusim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// snmpFlavours are the command-line credentials of each SNMP version and
// v3 security level the simulator serves, as an administrator passes
// them to fence_apc_snmp.
func snmpFlavours(s *pdusim.Sim) [][2]string {
	return [][2]string{
		{"v1", "-d 1 -c " + s.Community},
		{"v2c", "-d 2c -c " + s.Community},
		{"v3 authNoPriv SHA", "-d 3 -l " + s.AuthUser + " -p " + s.AuthPass + " -E authNoPriv -b SHA"},
		{"v3 authPriv SHA AES", "-d 3 -l " + s.PrivUser + " -p " + s.PrivAuthPass + " -P " + s.PrivPass + " -b SHA -B AES"},
		{"v3 authNoPriv MD5 default", "-d 3 -l " + s.MD5User + " -p " + s.MD5Pass + " -E authNoPriv"},
	}
}

// TestFenceCompatAPCSNMP runs the ClusterLabs fence_apc_snmp (Python and
// net-snmp's snmpget/snmpset/snmpwalk) and ours against the same snmpd
// PDU, for both outlet tables, every SNMP flavour, every action and the
// failure paths, and requires the same exit code, the same
// Status:/Success: lines (the whole output for list) and the same outlet
// states afterwards.
func TestFenceCompatAPCSNMP(t *testing.T) {
	ref := refScript(t, "fence_apc_snmp")
	if _, err := os.Stat("/usr/bin/snmpget"); err != nil {
		t.Skipf("the reference agent needs net-snmp's tools (Debian package snmp): %v", err)
	}
	ours := pluginAgent(t, "fence_apc_snmp")
	type tc struct {
		name  string
		sim   *pdusim.Sim
		off   []int // outlets off at the start (others on)
		args  string
		stdin string
		setup func(*pdusim.Sim)
		// compareStdout: compare all of stdout, not only the result lines.
		compareStdout bool
		// refuse: a deliberate difference; ours must exit 1, print no
		// result line and leave every outlet as it was.
		refuse bool
	}
	var cases []tc
	for _, kind := range []pdusim.Kind{pdusim.RackPDU, pdusim.MasterSwitch} {
		s := startPDU(t, pdusim.Options{Kind: kind})
		addr := "-a " + s.Host + " -u " + strconv.Itoa(s.Port) + " "
		for _, fl := range snmpFlavours(s) {
			c := addr + fl[1] + " "
			p := string(kind) + " " + fl[0] + " "
			cases = append(cases,
				tc{name: p + "status on", sim: s, args: c + "-n 3 -o status"},
				tc{name: p + "status off", sim: s, off: []int{3}, args: c + "-n 3 -o status"},
				tc{name: p + "off", sim: s, args: c + "-n 3 -o off"},
				tc{name: p + "on", sim: s, off: []int{3}, args: c + "-n 3 -o on"},
				tc{name: p + "reboot by name", sim: s, args: c + "-n node5"},
				tc{name: p + "list", sim: s, args: c + "-o list", compareStdout: true},
			)
		}
		c := addr + "-d 2c -c private "
		p := string(kind) + " "
		cases = append(cases,
			tc{name: p + "off already", sim: s, off: []int{2}, args: c + "-n 2 -o off"},
			tc{name: p + "on already", sim: s, args: c + "-n 2 -o on"},
			tc{name: p + "reboot from off", sim: s, off: []int{2}, args: c + "-n 2 -o reboot"},
			tc{name: p + "monitor", sim: s, args: c + "-o monitor"},
			tc{name: p + "switch:plug notation", sim: s, args: c + "-n 1:6 -o off"},
			tc{name: p + "stdin", sim: s, stdin: "ipaddr=" + s.Host + "\nipport=" + strconv.Itoa(s.Port) +
				"\nsnmp_version=2c\ncommunity=private\nport=node7\naction=off\nnodename=n7\n"},
			tc{name: p + "long options", sim: s, args: "--ip=" + s.Host + " --ipport=" + strconv.Itoa(s.Port) + " --snmp-version=1 --community=private --plug=4 --action=status"},
			// Failure paths.
			tc{name: p + "unknown outlet name", sim: s, args: c + "-n nosuch -o off"},
			tc{name: p + "SET refused", sim: s, args: c + "-n 3 -o off --power-timeout=2", setup: func(s *pdusim.Sim) { s.FailSets("wrong-value") }},
			tc{name: p + "SET ignored", sim: s, args: c + "-n 3 -o off --power-timeout=2", setup: func(s *pdusim.Sim) { s.IgnoreSets(true) }},
			tc{name: p + "read-only community", sim: s, args: addr + "-d 2c -c " + s.ReadCommunity + " -n 3 -o off --power-timeout=2"},
			tc{name: p + "wrong v3 passphrase", sim: s, args: addr + "-d 3 -l " + s.AuthUser + " -p wrong-pass-1 -E authNoPriv -b SHA -n 3 -o off"},
			tc{name: p + "v1 outlet out of range", sim: s, args: addr + "-d 1 -c private -n 42 -o status"},
			tc{name: p + "unknown action", sim: s, args: c + "-n 3 -o explode"},
			tc{name: p + "missing plug", sim: s, args: c + "-o off"},
			// Deliberate differences (safety): the reference reads anything
			// but "on" as OFF, so a missing outlet is "Already OFF"; and it
			// resolves only the first of several outlets.
			tc{name: p + "v2c outlet out of range is not OFF", sim: s, args: c + "-n 42 -o off", refuse: true},
		)
	}
	s := cases[0].sim
	addr := "-a " + s.Host + " -u " + strconv.Itoa(s.Port) + " "
	cases = append(cases,
		tc{name: "wrong community", sim: s, args: addr + "-d 1 -c nope -n 3 -o status"},
		tc{name: "tripplite alias on an APC", sim: s, args: addr + "-d 1 -c private -n 3 -o off"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.sim
			run := func(argv0 []string) (agentRun, []bool, []string) {
				if err := s.Reset(true); err != nil {
					t.Fatal(err)
				}
				if len(c.off) > 0 {
					s.SetOutlets(false, c.off...)
				}
				if c.setup != nil {
					c.setup(s)
				}
				var args []string
				if c.args != "" {
					args = strings.Fields(c.args)
				}
				r := runAgent(t, append(slices.Clone(argv0), args...), c.stdin)
				for !s.Settled() {
					time.Sleep(20 * time.Millisecond)
				}
				outs, err := s.Outlets()
				if err != nil {
					t.Fatal(err)
				}
				sets, _ := s.Sets()
				return r, outs, sets
			}
			refArgv := ref
			oursArgv := []string{ours}
			if strings.HasPrefix(c.name, "tripplite") {
				oursArgv = []string{pluginAgent(t, "fence_tripplite_snmp")}
			}
			want, wantOuts, _ := run(refArgv)
			got, gotOuts, sets := run(oursArgv)
			if c.refuse {
				start := make([]bool, len(gotOuts))
				for i := range start {
					start[i] = !slices.Contains(c.off, i+1)
				}
				if got.code != 1 || len(got.lines()) != 0 || !slices.Equal(gotOuts, start) || len(sets) != 0 {
					t.Errorf("ours: exit %d lines %q outlets %v sets %v, want a refusal that changes nothing; stderr %s", got.code, got.lines(), gotOuts, sets, got.stderr)
				}
				t.Logf("reference: exit %d lines %q (deliberately not matched)", want.code, want.lines())
				return
			}
			if got.code != want.code {
				t.Errorf("exit %d, reference %d\nours stdout: %s\nours stderr: %s\nreference stdout: %s\nreference stderr: %s", got.code, want.code, got.stdout, got.stderr, want.stdout, want.stderr)
			}
			if c.compareStdout {
				if got.stdout != want.stdout {
					t.Errorf("stdout %q, reference %q", got.stdout, want.stdout)
				}
			} else if !slices.Equal(got.lines(), want.lines()) {
				t.Errorf("lines %q, reference %q", got.lines(), want.lines())
			}
			if !slices.Equal(gotOuts, wantOuts) {
				t.Errorf("outlets %v afterwards, reference left %v", gotOuts, wantOuts)
			}
		})
	}
}

// TestFenceAPCSNMPSeveralOutlets: a node fed by outlets 2 and 4 is fenced
// by switching both off (and, for reboot, both back on). A deliberate
// difference: the reference resolves the first outlet only and switches
// it twice, leaving outlet 4 powered.
func TestFenceAPCSNMPSeveralOutlets(t *testing.T) {
	ref := refScript(t, "fence_apc_snmp")
	ours := pluginAgent(t, "fence_apc_snmp")
	s := startPDU(t, pdusim.Options{})
	args := []string{"-a", s.Host, "-u", strconv.Itoa(s.Port), "-d", "2c", "-c", s.Community, "-n", "2,4", "-o", "off"}
	s.Reset(true)
	r := runAgent(t, append(slices.Clone(ref), args...), "")
	outs, _ := s.Outlets()
	t.Logf("reference: exit %d %q, outlets afterwards %v", r.code, r.lines(), outs)
	s.Reset(true)
	r = runAgent(t, append([]string{ours}, args...), "")
	outs, _ = s.Outlets()
	if r.code != 0 || !slices.Equal(r.lines(), []string{"Success: Powered OFF"}) || outs[1] || outs[3] || !outs[0] || !outs[2] {
		t.Fatalf("ours: exit %d %q, outlets %v; want outlets 2 and 4 off, the rest on", r.code, r.lines(), outs)
	}
	r = runAgent(t, append([]string{ours}, append(args[:len(args)-1], "status")...), "")
	if r.code != 2 || !slices.Equal(r.lines(), []string{"Status: OFF"}) {
		t.Errorf("status of 2,4: exit %d %q", r.code, r.lines())
	}
	s.SetOutlets(true, 4)
	r = runAgent(t, append([]string{ours}, append(args[:len(args)-1], "status")...), "")
	if r.code != 0 || !slices.Equal(r.lines(), []string{"Status: ON"}) {
		t.Errorf("status of 2,4 with 4 on: exit %d %q", r.code, r.lines())
	}
}

// TestFenceAPCSNMPListStatus: list-status prints each outlet's real state
// (the reference prints UNKNOWN for every outlet).
func TestFenceAPCSNMPListStatus(t *testing.T) {
	ours := pluginAgent(t, "fence_apc_snmp")
	s := startPDU(t, pdusim.Options{Kind: pdusim.MasterSwitch, Outlets: []string{"a", "b", "c"}, Off: []int{2}})
	r := runAgent(t, []string{ours, "-a", s.Host, "-u", strconv.Itoa(s.Port), "-o", "list-status"}, "")
	if r.code != 0 || r.stdout != "1,a,ON\n2,b,OFF\n3,c,ON\n" {
		t.Errorf("list-status: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
}
