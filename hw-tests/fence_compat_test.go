package hwtests

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"palisade/hw-tests/ipmisim"
)

const refIPMILan = "/usr/sbin/fence_ipmilan"

// refAgent returns the argv prefix of the ClusterLabs fence_ipmilan, or
// skips when fence-agents is not installed.
func refAgent(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(refIPMILan); err != nil {
		t.Skipf("reference agent missing (Debian package fence-agents): %v", err)
	}
	if _, err := exec.LookPath("ipmitool"); err != nil {
		t.Skipf("reference agent needs ipmitool: %v", err)
	}
	return []string{"/usr/bin/python3", refIPMILan}
}

// TestFenceCompatIPMILan runs the reference fence_ipmilan and ours against
// the same ipmi_sim, from the same starting power state, and requires the
// same exit code, the same Status:/Success:/NOTICE: lines and the same
// power state afterwards.
func TestFenceCompatIPMILan(t *testing.T) {
	ref := refAgent(t)
	sim := startSim(t, ipmisim.Options{})
	ours := fenceAgent(t, "fence_ipmilan")
	port := strconv.Itoa(sim.Port)
	conn := []string{"-a", sim.Host, "-u", port, "-l", sim.User, "-p", sim.Password, "--power-wait=0"}
	lanplus := append(slices.Clone(conn), "-P", "-C", "3")
	stdinBase := "ipaddr=" + sim.Host + "\nipport=" + port + "\nlogin=" + sim.User + "\npasswd=" + sim.Password +
		"\nlanplus=1\ncipher=3\npower_wait=0\n"

	cases := []struct {
		name  string
		on    bool
		args  []string
		stdin string
		// refuse: ours must fail without touching the machine, whatever
		// the reference does.
		refuse bool
	}{
		{name: "status on", on: true, args: append(slices.Clone(lanplus), "-o", "status")},
		{name: "status off", on: false, args: append(slices.Clone(lanplus), "-o", "status")},
		{name: "off", on: true, args: append(slices.Clone(lanplus), "-o", "off")},
		{name: "off already", on: false, args: append(slices.Clone(lanplus), "-o", "off")},
		{name: "on", on: false, args: append(slices.Clone(lanplus), "-o", "on")},
		{name: "on already", on: true, args: append(slices.Clone(lanplus), "-o", "on")},
		{name: "reboot", on: true, args: append(slices.Clone(lanplus), "-o", "reboot")},
		{name: "reboot from off", on: false, args: append(slices.Clone(lanplus), "-o", "reboot")},
		{name: "reboot by default", on: true, args: slices.Clone(lanplus)},
		{name: "monitor", on: true, args: append(slices.Clone(lanplus), "-o", "monitor")},
		{name: "list", on: true, args: append(slices.Clone(lanplus), "-o", "list")},
		{name: "validate-all", on: true, args: append(slices.Clone(lanplus), "-o", "validate-all")},
		{name: "ipmi 1.5 status", on: true, args: append(slices.Clone(conn), "-o", "status")},
		{name: "ipmi 1.5 off", on: true, args: append(slices.Clone(conn), "-o", "off")},
		{name: "long options", on: true, args: []string{"--ip=" + sim.Host, "--ipport=" + port, "--username=" + sim.User,
			"--password=" + sim.Password, "--lanplus", "--cipher=3", "--power-wait=0", "--action=status"}},
		{name: "stdin status", on: false, stdin: stdinBase + "action=status\n"},
		{name: "stdin off", on: true, stdin: stdinBase + "action=off\n"},
		{name: "stdin reboot", on: true, stdin: stdinBase + "action=reboot\nnodename=n1\n"},
		{name: "wrong password", on: true, args: []string{"-a", sim.Host, "-u", port, "-l", sim.User, "-p", "nope", "-P", "-C", "3", "-o", "status"}},
		{name: "unknown action", on: true, args: append(slices.Clone(lanplus), "-o", "explode")},
		{name: "missing ip", on: true, args: []string{"-l", sim.User, "-p", sim.Password, "-o", "status"}},
		{name: "unknown option", on: true, args: append(slices.Clone(lanplus), "--frobnicate")},
		{name: "plug without port-as-ip", on: true, args: append(slices.Clone(lanplus), "-n", "node1", "-o", "off")},
		{name: "port-as-ip", on: true, args: []string{"--port-as-ip", "-n", sim.Host, "-u", port, "-l", sim.User,
			"-p", sim.Password, "-P", "-C", "3", "--power-wait=0", "-o", "off"}},
		{name: "verbose quiet clustered", on: false, args: append(slices.Clone(lanplus), "-vqo", "status")},
		{name: "bad privlvl", on: true, args: append(slices.Clone(lanplus), "-L", "root", "-o", "off")},
		// An unknown key is ignored with a warning, as fence-agents does.
		{name: "stdin unknown key", on: true, stdin: stdinBase + "action=status\nfrobnicate=1\n"},
		{name: "stdin unknown key off", on: true, stdin: stdinBase + "action=off\nno_such_param=1\n"},
		// Deliberate difference: with no action line fence-agents runs the
		// default reboot (option=status is not an action key); we refuse
		// the call and touch nothing.
		{name: "stdin option=status", on: true, stdin: stdinBase + "option=status\n", refuse: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(argv0 []string) (agentRun, bool) {
				if err := sim.SetPower(tc.on); err != nil {
					t.Fatal(err)
				}
				r := runAgent(t, append(slices.Clone(argv0), tc.args...), tc.stdin)
				on, err := sim.Power()
				if err != nil {
					t.Fatal(err)
				}
				return r, on
			}
			want, wantOn := run(ref)
			sets := sim.SetCount()
			got, gotOn := run([]string{ours})
			if tc.refuse {
				if got.code != 1 || len(got.lines()) != 0 || gotOn != tc.on || sim.SetCount() != sets {
					t.Errorf("ours: exit %d lines %q on=%v, want a refusal that changes nothing; stderr %s", got.code, got.lines(), gotOn, got.stderr)
				}
				t.Logf("reference: exit %d lines %q (deliberately not matched)", want.code, want.lines())
				return
			}
			if strings.Contains(tc.stdin, "no_such_param") || strings.Contains(tc.stdin, "frobnicate") {
				for _, r := range []agentRun{want, got} {
					if !strings.Contains(r.stderr, "Parse error: Ignoring unknown option '") {
						t.Errorf("no unknown-option warning on stderr: %s", r.stderr)
					}
				}
			}
			if got.code != want.code {
				t.Errorf("exit %d, reference %d\nours stderr: %s\nreference stderr: %s", got.code, want.code, got.stderr, want.stderr)
			}
			if !slices.Equal(got.lines(), want.lines()) {
				t.Errorf("lines %q, reference %q", got.lines(), want.lines())
			}
			if gotOn != wantOn {
				t.Errorf("machine on = %v afterwards, reference left it %v", gotOn, wantOn)
			}
		})
	}
}

// TestFenceCompatMetadata: our metadata lists every parameter of the
// reference agent (those about its ipmitool child are accepted and ignored,
// Kg and bridging refused when set; their descriptions say so), under the
// reference name and under fence_palisade_ipmilan.
func TestFenceCompatMetadata(t *testing.T) {
	ref := refAgent(t)
	names := func(xml string) map[string]bool {
		m := map[string]bool{}
		for _, part := range strings.Split(xml, "<parameter name=\"")[1:] {
			m[part[:strings.IndexByte(part, '"')]] = true
		}
		return m
	}
	want := names(runAgent(t, append(ref, "-o", "metadata"), "").stdout)
	if len(want) == 0 {
		t.Fatal("reference metadata has no parameters")
	}
	for _, name := range []string{"fence_ipmilan", "fence_palisade_ipmilan"} {
		md := runAgent(t, []string{fenceAgent(t, name), "-o", "metadata"}, "").stdout
		got := names(md)
		for n := range want {
			if !got[n] {
				t.Errorf("%s: our metadata lacks the reference parameter %q", name, n)
			}
		}
		if !strings.Contains(md, `<resource-agent name="`+name+`"`) {
			t.Errorf("%s: metadata does not name itself %s", name, name)
		}
		if !strings.Contains(md, "Path to ipmitool binary (accepted and ignored") {
			t.Errorf("%s: ipmitool_path is not described as accepted and ignored", name)
		}
	}
}

// TestFenceMetadataReference: for every personality that fence-agents
// also ships (installed here in /usr/sbin), under both of our names, our
// metadata lists every parameter the installed reference's metadata lists.
// cmd/fence-agent's unit test checks the same against the lists in its
// testdata; a difference between those and the installed agents is logged.
func TestFenceMetadataReference(t *testing.T) {
	out, err := exec.Command(filepath.Join(palisadeBins(t), "fence-agent"), "--names").Output()
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, name := range strings.Fields(string(out)) {
		if _, err := os.Stat("/usr/sbin/" + name); err != nil {
			continue
		}
		want := metadataParams(runAgent(t, []string{"/usr/bin/python3", "/usr/sbin/" + name, "-o", "metadata"}, "").stdout)
		if len(want) == 0 {
			t.Errorf("%s: the reference's metadata lists no parameters", name)
			continue
		}
		compared++
		for _, as := range []string{name, "fence_palisade_" + strings.TrimPrefix(name, "fence_")} {
			got := metadataParams(runAgent(t, []string{pluginAgent(t, as), "-o", "metadata"}, "").stdout)
			for n := range want {
				if !got[n] {
					t.Errorf("%s: our metadata lacks the reference parameter %q", as, n)
				}
			}
		}
		stored, err := os.ReadFile(filepath.Join("..", "cmd", "fence-agent", "testdata", "reference-params", name+".txt"))
		if err != nil {
			t.Logf("%s: no stored reference list: %v", name, err)
			continue
		}
		for n := range want {
			if !slices.Contains(strings.Split(string(stored), "\n"), n) {
				t.Logf("%s: the installed reference lists %q, cmd/fence-agent/testdata does not (another fence-agents version?)", name, n)
			}
		}
	}
	if compared == 0 {
		t.Skip("no reference agent installed (Debian package fence-agents)")
	}
}
