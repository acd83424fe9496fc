package hwtests

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/hw-tests/redfishsim"
)

// TestFenceCompatRedfish runs the ClusterLabs fence_redfish and ours
// against the same Redfish simulator, from the same starting state, for
// every action and the failure paths, and requires the same exit code, the
// same Status:/Success:/NOTICE: lines and the same power state afterwards.
// The reference trusts the simulator's certificate through
// REQUESTS_CA_BUNDLE, ours through SSL_CERT_FILE (both read by each
// process at start).
func TestFenceCompatRedfish(t *testing.T) {
	ref := refScript(t, "fence_redfish")
	ours := pluginAgent(t, "fence_redfish")
	sim, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	slow, err := redfishsim.Start(redfishsim.Options{Transition: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Stop()
	two, err := redfishsim.Start(redfishsim.Options{Systems: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer two.Stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	conn := func(s *redfishsim.Sim) []string {
		return []string{"-a", s.Host, "-u", strconv.Itoa(s.Port), "-l", s.User, "-p", s.Password}
	}
	with := func(s *redfishsim.Sim, more ...string) []string { return append(conn(s), more...) }
	stdin := func(s *redfishsim.Sim, more string) string {
		return "ipaddr=" + s.Host + "\nipport=" + strconv.Itoa(s.Port) + "\nlogin=" + s.User + "\npasswd=" + s.Password + "\n" + more
	}
	trust := func(s *redfishsim.Sim) []string {
		return []string{"REQUESTS_CA_BUNDLE=" + s.CAFile, "SSL_CERT_FILE=" + s.CAFile}
	}
	refusedReset := redfishsim.Fault{Method: "POST", Path: "/Actions/ComputerSystem.Reset", Status: 500,
		Body: redfishsim.ErrorBody("iDRAC.2.8.SYS446", "Unable to perform the operation because the server is in lockdown mode.", "Disable lockdown mode.")}

	cases := []struct {
		name  string
		sim   *redfishsim.Sim
		on    bool
		args  []string
		stdin string
		env   []string // default: trust the simulator
		fault *redfishsim.Fault
		// ignore: the BMC accepts resets and does nothing.
		ignore bool
		// refuse: ours must fail without touching the machine, whatever the
		// reference does (a deliberate difference).
		refuse bool
	}{
		{name: "status on", sim: sim, on: true, args: with(sim, "-o", "status")},
		{name: "status off", sim: sim, on: false, args: with(sim, "-o", "status")},
		{name: "off", sim: sim, on: true, args: with(sim, "-o", "off")},
		{name: "off already", sim: sim, on: false, args: with(sim, "-o", "off")},
		{name: "on", sim: sim, on: false, args: with(sim, "-o", "on")},
		{name: "on already", sim: sim, on: true, args: with(sim, "-o", "on")},
		{name: "reboot", sim: sim, on: true, args: with(sim, "-o", "reboot")},
		{name: "reboot from off", sim: sim, on: false, args: with(sim, "-o", "reboot")},
		{name: "reboot by default", sim: sim, on: true, args: conn(sim)},
		{name: "diag", sim: sim, on: true, args: with(sim, "-o", "diag")},
		{name: "monitor", sim: sim, on: true, args: with(sim, "-o", "monitor")},
		{name: "list", sim: sim, on: true, args: with(sim, "-o", "list")},
		{name: "validate-all", sim: sim, on: true, args: with(sim, "-o", "validate-all")},
		{name: "systems-uri", sim: sim, on: true, args: with(sim, "--systems-uri="+sim.SystemURI(0), "-o", "off")},
		{name: "ip:port", sim: sim, on: true, args: []string{"-a", sim.Host + ":" + strconv.Itoa(sim.Port), "-l", sim.User, "-p", sim.Password, "-o", "status"}},
		{name: "long options", sim: sim, on: false, args: []string{"--ip=" + sim.Host, "--ipport=" + strconv.Itoa(sim.Port), "--username=" + sim.User, "--password=" + sim.Password, "--action=status"}},
		{name: "stdin status", sim: sim, on: false, stdin: stdin(sim, "action=status\n")},
		{name: "stdin off", sim: sim, on: true, stdin: stdin(sim, "action=off\nnodename=n1\n")},
		{name: "stdin reboot with systems_uri", sim: sim, on: true, stdin: stdin(sim, "action=reboot\nsystems_uri="+sim.SystemURI(0)+"\n")},
		{name: "slow off", sim: slow, on: true, args: with(slow, "-o", "off")},
		{name: "slow on", sim: slow, on: false, args: with(slow, "-o", "on")},
		{name: "ssl-insecure without trust", sim: sim, on: true, args: with(sim, "--ssl-insecure", "-o", "status"), env: []string{"SSL_CERT_FILE=/nonexistent"}},
		// Failure paths.
		{name: "untrusted certificate", sim: sim, on: true, args: with(sim, "-o", "off"), env: []string{"SSL_CERT_FILE=/nonexistent", "REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"}},
		{name: "wrong password", sim: sim, on: true, args: []string{"-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-l", sim.User, "-p", "nope", "-o", "off"}},
		{name: "nothing listening", sim: sim, on: true, args: []string{"-a", "127.0.0.1", "-u", deadPort, "-l", "admin", "-p", "x", "-o", "status"}},
		{name: "reset refused with an error body", sim: sim, on: true, args: with(sim, "--power-timeout=2", "-o", "off"), fault: &refusedReset},
		{name: "BMC ignores resets", sim: sim, on: true, args: with(sim, "--power-timeout=2", "-o", "off"), ignore: true},
		{name: "system read fails", sim: sim, on: true, args: with(sim, "-o", "status"),
			fault: &redfishsim.Fault{Method: "GET", Path: "/Systems/1", Status: 500, Body: redfishsim.ErrorBody("Base.1.8.InternalError", "internal error", "")}},
		{name: "unknown action", sim: sim, on: true, args: with(sim, "-o", "explode")},
		{name: "missing ip", sim: sim, on: true, args: []string{"-l", "admin", "-p", "x", "-o", "status"}},
		{name: "missing username", sim: sim, on: true, args: []string{"-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-p", "x", "-o", "status"}},
		{name: "unknown option", sim: sim, on: true, args: with(sim, "--frobnicate")},
		// Deliberate differences.
		// The reference fences the last of several systems; we refuse to guess.
		{name: "two systems without systems-uri", sim: two, on: true, args: with(two, "-o", "off"), refuse: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.sim
			env := tc.env
			if env == nil {
				env = trust(s)
			}
			run := func(argv0 []string) (agentRun, bool) {
				s.Clear()
				s.SetPower(tc.on)
				if tc.fault != nil {
					s.Inject(*tc.fault)
				}
				s.IgnoreResets(tc.ignore)
				s.ResetLog()
				r := runAgent(t, append(slices.Clone(argv0), tc.args...), tc.stdin, env...)
				// Wait out a transition the agent left behind.
				deadline := time.Now().Add(3 * time.Second)
				for strings.HasPrefix(s.PowerState(), "Powering") && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				return r, s.Power()
			}
			want, wantOn := run(ref)
			got, gotOn := run([]string{ours})
			resets := s.Resets()
			defer s.Clear()
			if tc.refuse {
				if got.code != 1 || len(got.lines()) != 0 || gotOn != tc.on || len(resets) != 0 {
					t.Errorf("ours: exit %d lines %q on=%v resets %v, want a refusal that changes nothing; stderr %s", got.code, got.lines(), gotOn, resets, got.stderr)
				}
				t.Logf("reference: exit %d lines %q (deliberately not matched)", want.code, want.lines())
				return
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
			if open, _ := s.Sessions(); open != 0 {
				t.Errorf("%d Redfish sessions left open", open)
			}
			if tc.fault == &refusedReset && !strings.Contains(got.stderr, "lockdown mode") {
				t.Errorf("our error does not carry the BMC's message: %s", got.stderr)
			}
		})
	}
}

// TestFenceRedfishStatusDuringTransition: a deliberate difference. While
// the system reports PoweringOff, the reference answers "Status: ON" (it
// only knows Off and not-Off); ours waits until the state is final.
func TestFenceRedfishStatusDuringTransition(t *testing.T) {
	ours := pluginAgent(t, "fence_redfish")
	sim, err := redfishsim.Start(redfishsim.Options{Transition: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	env := []string{"SSL_CERT_FILE=" + sim.CAFile}
	args := []string{ours, "-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-l", sim.User, "-p", sim.Password}
	if r := runAgent(t, append(slices.Clone(args), "-o", "off"), "", env...); r.code != 0 {
		t.Fatalf("off: %d %s", r.code, r.stderr)
	}
	sim.SetPower(true)
	// Start a power-off behind the agent's back, then ask for status.
	if r := runAgent(t, append(slices.Clone(args), "-o", "off", "--power-timeout=0.1"), "", env...); r.code != 1 {
		t.Fatalf("off with power_timeout shorter than the transition: exit %d, want 1", r.code)
	}
	if got := sim.PowerState(); got != "PoweringOff" {
		t.Fatalf("simulator %s, want PoweringOff", got)
	}
	r := runAgent(t, append(slices.Clone(args), "-o", "status"), "", env...)
	if r.code != 2 || !slices.Equal(r.lines(), []string{"Status: OFF"}) {
		t.Errorf("status during PoweringOff: exit %d lines %q, want 2 [Status: OFF] after waiting", r.code, r.lines())
	}
}

// TestFenceRedfishSystemTrust: with no ssl_ca_file, the BMC's certificate
// is verified against the system's roots exactly as Go's system pool has
// them: the CA bundle first, then the certificate directories
// (SSL_CERT_DIR here); a certificate in neither is refused.
func TestFenceRedfishSystemTrust(t *testing.T) {
	ours := pluginAgent(t, "fence_redfish")
	sim, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	args := []string{ours, "-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-l", sim.User, "-p", sim.Password, "-o", "status"}
	empty := t.TempDir()
	certDir := t.TempDir()
	pem, err := os.ReadFile(sim.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "bmc.pem"), pem, 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(empty, "bundle.pem") // a bundle without the BMC's CA
	if err := os.WriteFile(bundle, []byte{}, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		code int
	}{
		{"in the bundle", []string{"SSL_CERT_FILE=" + sim.CAFile, "SSL_CERT_DIR=" + empty}, 0},
		{"only in a certificate directory", []string{"SSL_CERT_FILE=" + bundle, "SSL_CERT_DIR=" + certDir}, 0},
		{"nowhere", []string{"SSL_CERT_FILE=" + bundle, "SSL_CERT_DIR=" + empty}, 1},
	} {
		r := runAgent(t, args, "", tc.env...)
		if r.code != tc.code {
			t.Errorf("%s: exit %d, want %d; %s", tc.name, r.code, tc.code, r.stderr)
		}
		if tc.code == 1 && !strings.Contains(r.stderr, "certificate is not trusted") {
			t.Errorf("%s: %s", tc.name, r.stderr)
		}
	}
}
