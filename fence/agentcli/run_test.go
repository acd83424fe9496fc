package agentcli

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"palisade/fence"
	"palisade/plugins/ipmi"
)

// box is the fake machine behind fence_testbox, a copy of the IPMI plugin's
// declarations with an in-memory device, so the protocol layer is tested
// without a BMC.
var box = struct {
	sync.Mutex
	on, ignore bool
	lastPass   string
	opens      int
}{on: true}

type boxDev struct{}

func (boxDev) Status(context.Context, string) (fence.PowerState, error) {
	box.Lock()
	defer box.Unlock()
	if box.on {
		return fence.PowerOn, nil
	}
	return fence.PowerOff, nil
}

func (boxDev) SetPower(_ context.Context, _ string, on bool) error {
	box.Lock()
	defer box.Unlock()
	if !box.ignore {
		box.on = on
	}
	return nil
}

func (boxDev) Close() error { return nil }

func init() {
	p := *ipmi.Plugin
	p.Name, p.Aliases = "fence_testbox", nil
	p.Open = func(o fence.Options) (fence.Opener, error) {
		if _, err := ipmi.ConfigFromOptions(o); err != nil {
			return nil, err
		}
		box.Lock()
		box.lastPass = o[fence.OptPassword]
		box.Unlock()
		return func(context.Context) (fence.Device, error) {
			box.Lock()
			box.opens++
			box.Unlock()
			return boxDev{}, nil
		}, nil
	}
	fence.Register(&p)
}

func runBox(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"/usr/sbin/fence_testbox"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func setBox(on, ignore bool) {
	box.Lock()
	box.on, box.ignore = on, ignore
	box.Unlock()
}

func TestMainActions(t *testing.T) {
	base := []string{"-a", "bmc", "-l", "admin", "-p", "pw", "--power-wait=0", "--power-timeout=0.2"}
	tests := []struct {
		name   string
		on     bool
		ignore bool
		args   []string
		stdin  string
		code   int
		out    string
		errSub string
		after  bool // machine on afterwards
	}{
		{name: "status on", on: true, args: []string{"-o", "status"}, code: 0, out: "Status: ON\n", after: true},
		{name: "status off exits 2", on: false, args: []string{"-o", "status"}, code: 2, out: "Status: OFF\n"},
		{name: "off", on: true, args: []string{"-o", "off"}, code: 0, out: "Success: Powered OFF\n"},
		{name: "off already", on: false, args: []string{"-o", "off"}, code: 0, out: "Success: Already OFF\n"},
		{name: "on", on: false, args: []string{"-o", "on"}, code: 0, out: "Success: Powered ON\n", after: true},
		{name: "on already", on: true, args: []string{"-o", "on"}, code: 0, out: "Success: Already ON\n", after: true},
		{name: "reboot is the default action", on: true, args: nil, code: 0, out: "Success: Rebooted\n", after: true},
		{name: "monitor prints nothing", on: true, args: []string{"-o", "monitor"}, code: 0, out: "", after: true},
		{name: "list on a BMC", on: true, args: []string{"-o", "list"}, code: 0, out: "NOTICE: List option is not working on this device yet\n", after: true},
		{name: "validate-all", on: true, args: []string{"-o", "validate-all"}, code: 0, out: "", after: true},
		{name: "off never performed", on: true, ignore: true, args: []string{"-o", "off"}, code: 1, errSub: "Failed: Timed out waiting to power OFF", after: true},
		{name: "unknown action", on: true, args: []string{"-o", "explode"}, code: 1, errSub: "Failed: Unrecognised action 'explode'", after: true},
		{name: "meta-data alias", on: true, args: []string{"-o", "meta-data"}, code: 0, out: "<?xml", after: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setBox(tc.on, tc.ignore)
			code, out, errs := runBox(t, tc.stdin, append(append([]string{}, base...), tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errs)
			}
			if tc.out == "<?xml" {
				if !strings.HasPrefix(out, tc.out) {
					t.Errorf("stdout = %q", out)
				}
			} else if out != tc.out {
				t.Errorf("stdout = %q, want %q", out, tc.out)
			}
			if tc.errSub != "" && !strings.Contains(errs, tc.errSub) {
				t.Errorf("stderr = %q, want it to contain %q", errs, tc.errSub)
			}
			box.Lock()
			on := box.on
			box.Unlock()
			if on != tc.after {
				t.Errorf("machine on = %v afterwards, want %v", on, tc.after)
			}
		})
	}
}

func TestMainBadInput(t *testing.T) {
	setBox(true, false)
	tests := []struct {
		name   string
		args   []string
		stdin  string
		errSub string
	}{
		{name: "missing ip", args: []string{"-o", "status"}, errSub: "You have to enter fence address"},
		{name: "missing ip validate-all", args: []string{"-o", "validate-all"}, errSub: "validate-all failed"},
		{name: "unknown option", args: []string{"-a", "h", "--bogus"}, errSub: "option --bogus not recognized"},
		{name: "stdin option=status refused", stdin: "ipaddr=h\noption=status\n", errSub: `no action= line on stdin (ignored: 'option=status')`},
		{name: "stdin without action refused", stdin: "ipaddr=h\n", errSub: `no action= line on stdin`},
		{name: "unsupported Kg", args: []string{"-a", "h", "--hexadecimal-kg=00ff", "-o", "status"}, errSub: "cannot use a BMC key (K_g)"},
		{name: "target refused with why", stdin: "action=off\nipaddr=h\ntarget=0x20\n", errSub: "ignoring it would power the BMC's own machine"},
		{name: "unknown option stays strict on argv", args: []string{"-a", "h", "--no-such-param=1", "-o", "status"}, errSub: "option --no-such-param not recognized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runBox(t, tc.stdin, tc.args...)
			if code != ExitFailed {
				t.Errorf("exit %d, want 1", code)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errs, tc.errSub) {
				t.Errorf("stderr = %q, want it to contain %q", errs, tc.errSub)
			}
			if box.on != true {
				t.Error("bad input changed the power state")
			}
		})
	}
}

// TestMainStdin: the stdin form is read only when there are no arguments.
func TestMainStdin(t *testing.T) {
	setBox(true, false)
	code, out, errs := runBox(t, "action=off\nipaddr=bmc\nlogin=admin\npasswd=pw\npower_wait=0\nnodename=n1\nport=n1\n")
	if code != 0 || out != "Success: Powered OFF\n" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	// With arguments, stdin is not read: the action comes from -o.
	code, out, _ = runBox(t, "action=on\n", "-a", "bmc", "-o", "status")
	if code != 2 || out != "Status: OFF\n" {
		t.Fatalf("exit %d stdout %q", code, out)
	}
}

// TestPasswordSources: script output, file (0600 enforced) and environment.
func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose")
	if err := os.WriteFile(loose, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_BMC_PW", "from-env")
	cases := []struct {
		args []string
		want string
		fail bool
	}{
		{args: []string{"-S", "echo from-script"}, want: "from-script"},
		{args: []string{"--password-file=" + pwFile}, want: "from-file"},
		{args: []string{"--password-env=TEST_BMC_PW"}, want: "from-env"},
		{args: []string{"--password-file=" + loose}, fail: true},
	}
	for _, c := range cases {
		box.lastPass = ""
		code, _, errs := runBox(t, "", append([]string{"-a", "bmc", "-o", "status"}, c.args...)...)
		if c.fail {
			if code != ExitFailed || !strings.Contains(errs, "chmod 600") {
				t.Errorf("%v: exit %d stderr %q, want refusal", c.args, code, errs)
			}
			continue
		}
		if code == ExitFailed || box.lastPass != c.want {
			t.Errorf("%v: exit %d, password %q, want %q (stderr %q)", c.args, code, box.lastPass, c.want, errs)
		}
	}
}

// TestMetadata: well-formed XML listing the reference agent's parameters
// that apply to us, with the alias name and its defaults.
func TestMetadata(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"fence_ilo3", "-o", "metadata"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var md struct {
		Name   string `xml:"name,attr"`
		Params []struct {
			Name    string `xml:"name,attr"`
			Content struct {
				Type    string `xml:"type,attr"`
				Default string `xml:"default,attr"`
			} `xml:"content"`
		} `xml:"parameters>parameter"`
		Actions []struct {
			Name string `xml:"name,attr"`
		} `xml:"actions>action"`
	}
	if err := xml.Unmarshal(out.Bytes(), &md); err != nil {
		t.Fatalf("metadata is not well-formed XML: %v\n%s", err, out.String())
	}
	if md.Name != "fence_ilo3" {
		t.Errorf("name = %q", md.Name)
	}
	got := map[string]string{}
	for _, p := range md.Params {
		got[p.Name] = p.Content.Default
	}
	// Every parameter of the reference fence_ipmilan, including those we
	// accept and ignore (ipmitool_path, sudo) or refuse (target, Kg).
	for _, n := range []string{"hexadecimal_kg", "target", "ipmitool_path", "ipmitool_timeout", "sudo", "use_sudo", "sudo_path",
		"action", "auth", "cipher", "ip", "ipaddr", "ipport", "lanplus", "login",
		"method", "passwd", "passwd_script", "password", "password_script", "plug", "port", "privlvl",
		"username", "quiet", "verbose", "verbose_level", "debug", "debug_file", "version", "help",
		"plug_separator", "delay", "disable_timeout", "login_timeout", "port_as_ip", "power_timeout",
		"power_wait", "shell_timeout", "stonith_status_sleep", "retry_on"} {
		if _, ok := got[n]; !ok {
			t.Errorf("metadata lacks parameter %q", n)
		}
	}
	if got["lanplus"] != "1" || got["power_wait"] != "4" || got["ipport"] != "623" {
		t.Errorf("fence_ilo3 defaults: lanplus=%q power_wait=%q ipport=%q", got["lanplus"], got["power_wait"], got["ipport"])
	}
	var acts []string
	for _, a := range md.Actions {
		acts = append(acts, a.Name)
	}
	if want := "on off reboot status monitor metadata manpage validate-all diag"; strings.Join(acts, " ") != want {
		t.Errorf("actions = %q, want %q", acts, want)
	}
}

// TestMainUnknownStdinKey: an unknown stdin key is warned about with the
// reference's text and the call goes on (Pacemaker passes every attribute
// of the stonith resource); validate-all warns too and exits 0.
func TestMainUnknownStdinKey(t *testing.T) {
	const warn = "WARNING: Parse error: Ignoring unknown option 'no_such_param=1'\n"
	setBox(true, false)
	code, out, errs := runBox(t, "action=off\nipaddr=bmc\nno_such_param=1\npower_wait=0\nnodename=n1\n")
	if code != 0 || out != "Success: Powered OFF\n" || !strings.Contains(errs, warn) {
		t.Fatalf("off: exit %d stdout %q stderr %q", code, out, errs)
	}
	if box.on {
		t.Fatal("machine still on after a successful off")
	}
	code, out, errs = runBox(t, "action=validate-all\nipaddr=bmc\nno_such_param=1\n")
	if code != 0 || out != "" || !strings.Contains(errs, warn) {
		t.Fatalf("validate-all: exit %d stdout %q stderr %q", code, out, errs)
	}
	_, _, errs = runBox(t, "action=status\nipaddr=bmc\npasswd_typo=hunter22\n")
	if strings.Contains(errs, "hunter22") || !strings.Contains(errs, "Ignoring unknown option 'passwd_typo=[hidden]'") {
		t.Fatalf("a possibly secret value was repeated or not warned about: %q", errs)
	}
}

// TestMainListNoContact: list on a one-machine device prints the notice and
// succeeds without opening a session (stonith_admin --query relies on it).
func TestMainListNoContact(t *testing.T) {
	box.Lock()
	box.opens = 0
	box.Unlock()
	for _, a := range []string{"list", "list-status"} {
		code, out, errs := runBox(t, "", "-a", "bmc", "-o", a)
		if code != 0 || out != "NOTICE: List option is not working on this device yet\n" {
			t.Errorf("%s: exit %d stdout %q stderr %q", a, code, out, errs)
		}
	}
	if box.opens != 0 {
		t.Errorf("list opened %d sessions, want none", box.opens)
	}
	if code, _, _ := runBox(t, "", "-o", "list"); code != ExitFailed {
		t.Errorf("list without an address: exit %d, want 1 (as the reference)", code)
	}
}

// TestMainPalisadeNames: every personality also answers as
// fence_palisade_<name>, reports that name in its metadata, and keeps the
// defaults of the name it stands for.
func TestMainPalisadeNames(t *testing.T) {
	setBox(true, false)
	var out, errb bytes.Buffer
	code := Main([]string{"/usr/sbin/fence_palisade_testbox", "-a", "bmc", "-o", "status"}, nil, &out, &errb)
	if code != 0 || out.String() != "Status: ON\n" {
		t.Fatalf("fence_palisade_testbox status: exit %d stdout %q stderr %q", code, out.String(), errb.String())
	}
	for _, name := range []string{"fence_palisade_ilo3", "fence_palisade_testbox"} {
		out.Reset()
		if code := Main([]string{name, "-o", "metadata"}, nil, &out, &errb); code != 0 {
			t.Fatalf("%s metadata: exit %d", name, code)
		}
		var md struct {
			Name     string `xml:"name,attr"`
			Symlinks []struct {
				Name string `xml:"name,attr"`
			} `xml:"symlink"`
			Params []struct {
				Name    string `xml:"name,attr"`
				Content struct {
					Default string `xml:"default,attr"`
				} `xml:"content"`
			} `xml:"parameters>parameter"`
		}
		if err := xml.Unmarshal(out.Bytes(), &md); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if md.Name != name {
			t.Errorf("metadata of %s names itself %q", name, md.Name)
		}
		for _, s := range md.Symlinks {
			if !strings.HasPrefix(s.Name, fence.PalisadePrefix) {
				t.Errorf("%s lists the symlink %q, not a fence_palisade_* name", name, s.Name)
			}
		}
		if name == "fence_palisade_ilo3" {
			for _, p := range md.Params {
				if p.Name == "power_wait" && p.Content.Default != "4" {
					t.Errorf("fence_palisade_ilo3 power_wait default %q, want fence_ilo3's 4", p.Content.Default)
				}
			}
		}
	}
	if _, err := fence.Lookup("fence_palisade_nosuch"); err == nil {
		t.Error("fence_palisade_nosuch was found")
	}
}

func TestMainHelpVersion(t *testing.T) {
	code, out, _ := runBox(t, "", "-h")
	if code != 0 || !strings.Contains(out, "-a, --ip=[ip]") || !strings.Contains(out, "reboot (default)") {
		t.Errorf("-h: exit %d stdout %q", code, out)
	}
	code, out, _ = runBox(t, "", "--version")
	if code != 0 || out != Version+"\n" {
		t.Errorf("--version: exit %d stdout %q", code, out)
	}
}
