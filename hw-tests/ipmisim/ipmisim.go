// Package ipmisim starts OpenIPMI's ipmi_sim as a test BMC on a free
// loopback UDP port, with a generated lan.conf and emulation file, and
// stops and cleans it up afterwards.
//
// The simulated machine's power is a file: the generated chassis_control
// hook answers "get power" from it and writes it on "set power 0|1", so a
// test can read and change the power state directly (Power, SetPower), make
// the BMC refuse power commands (FailPower), make it accept them without
// doing anything (IgnorePower, "a BMC that never performs"), and run an extra
// command when the machine is powered off or on (OnPowerOff/OnPowerOn; the
// failover demo uses it to really stop a node).
//
//	if err := ipmisim.Available(); err != nil { t.Skip(err) }
//	sim, err := ipmisim.Start(ipmisim.Options{})
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(func() { sim.Stop() })
//	// connect to sim.Host:sim.Port as sim.User / sim.Password,
//	// lanplus with cipher suite 3 (ipmi_sim supports 0-3 and 6 only)
//
// To put a BMC inside a lab network namespace, set Options.Netns (the
// simulator and its hook then run there, via "ip netns exec"), Host to an
// address of that namespace and Port (e.g. 623). Hook commands (OnPowerOff)
// run in that namespace; kill(1) by PID still reaches any process.
// Keep them quick (under a second) or idempotent: ipmi_sim answers only
// after the hook returns, and a client that times out resends the command.
//
// Facts about ipmi_sim worth knowing: it ignores the cipher-suite query, so
// clients must request suite 3 explicitly; it runs one command at a time
// and blocks on the hook; and a second instance on a busy port starts
// without complaint, so ports are chosen fresh per instance.
package ipmisim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options configure a simulator. The zero value is a powered-on machine
// with user "admin" / password "secret" at administrator privilege.
type Options struct {
	User     string // default "admin"
	Password string // default "secret"
	// PoweredOff starts the machine off instead of on.
	PoweredOff bool
	// OnPowerOff / OnPowerOn are shell commands (sh -c) run by the hook
	// after it records a power change; a non-zero exit makes the IPMI
	// command fail. They can also be set later.
	OnPowerOff string
	OnPowerOn  string
	// Dir holds the generated files; default a new temporary directory
	// that Stop removes.
	Dir string
	// Binary is the ipmi_sim path; default "ipmi_sim" from PATH.
	Binary string
	// StartTimeout bounds waiting for the simulator to answer; default 5s.
	StartTimeout time.Duration
	// Host is the IPv4 address to listen on; default 127.0.0.1. Use an
	// address of a lab namespace together with Netns.
	Host string
	// Port is the UDP port; default a free loopback port (in a fresh
	// namespace every port is free, so set it there, e.g. 623).
	Port int
	// Netns runs the simulator (and so its hook) inside this network
	// namespace, via "ip netns exec". The caller creates and removes it.
	Netns string
}

// Sim is a running ipmi_sim.
type Sim struct {
	Host     string // "127.0.0.1"
	Port     int
	User     string
	Password string
	// Dir holds lan.conf, bmc.emu, the hook, the power file, calls.log and
	// sim.log (the simulator's output, useful when a test fails).
	Dir string

	ownDir bool
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
}

// Available reports why ipmi_sim cannot run here (nil if it can).
func Available() error {
	if _, err := exec.LookPath("ipmi_sim"); err != nil {
		return fmt.Errorf("ipmi_sim not installed (Debian package openipmi): %w", err)
	}
	return nil
}

// Start generates the configuration and starts ipmi_sim, returning once it
// answers an RMCP ping.
func Start(o Options) (*Sim, error) {
	if o.User == "" {
		o.User = "admin"
	}
	if o.Password == "" {
		o.Password = "secret"
	}
	if o.Binary == "" {
		o.Binary = "ipmi_sim"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 5 * time.Second
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	s := &Sim{Host: o.Host, User: o.User, Password: o.Password, Dir: o.Dir, done: make(chan struct{})}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "ipmisim-")
		if err != nil {
			return nil, fmt.Errorf("ipmisim: creating work directory: %w", err)
		}
		s.Dir, s.ownDir = d, true
	}
	s.Port = o.Port
	if s.Port == 0 {
		port, err := freeUDPPort()
		if err != nil {
			s.cleanup()
			return nil, err
		}
		s.Port = port
	}
	if err := s.writeFiles(o); err != nil {
		s.cleanup()
		return nil, err
	}
	logf, err := os.Create(filepath.Join(s.Dir, "sim.log"))
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("ipmisim: %w", err)
	}
	argv := []string{o.Binary, "-n", "-p", "-s", filepath.Join(s.Dir, "state"),
		"-c", filepath.Join(s.Dir, "lan.conf"), "-f", filepath.Join(s.Dir, "bmc.emu")}
	if o.Netns != "" {
		// ip netns exec execs the simulator, so the PID stays the same.
		argv = append([]string{"ip", "netns", "exec", o.Netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, so Stop also ends a hook the simulator is blocked on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.cleanup()
		return nil, fmt.Errorf("ipmisim: starting %s: %w", o.Binary, err)
	}
	s.cmd = cmd
	go func() {
		s.err = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitReady(o.StartTimeout, o.Netns == ""); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Addr is "host:port".
func (s *Sim) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// PID is the simulator's process id.
func (s *Sim) PID() int { return s.cmd.Process.Pid }

// Stop ends the simulator (SIGTERM, then SIGKILL after 2 s) and removes the
// work directory if Start created it. Safe to call twice.
func (s *Sim) Stop() error {
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.done:
		default:
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(2 * time.Second):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.done
			}
		}
	}
	s.cleanup()
	return nil
}

func (s *Sim) cleanup() {
	if s.ownDir && s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}

// Power reports the simulated machine's power (true = on).
func (s *Sim) Power() (bool, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "power"))
	if err != nil {
		return false, fmt.Errorf("ipmisim: reading power state: %w", err)
	}
	return strings.TrimSpace(string(b)) == "1", nil
}

// SetPower changes the power state behind the BMC's back (a machine that
// was switched on or off by hand).
func (s *Sim) SetPower(on bool) error {
	v := "0\n"
	if on {
		v = "1\n"
	}
	return writeAtomic(filepath.Join(s.Dir, "power"), v, 0o644)
}

// FailPower makes every power command fail (the hook exits 1, which
// ipmi_sim turns into an IPMI error completion code) until called with false.
func (s *Sim) FailPower(fail bool) error { return s.flag("fail-set", fail) }

// FailStatus makes "get power" fail, so status reads return an error.
func (s *Sim) FailStatus(fail bool) error { return s.flag("fail-get", fail) }

// IgnorePower makes the BMC accept power commands but not change the power
// state: the case fencing must report as "Timed out waiting to power OFF".
func (s *Sim) IgnorePower(ignore bool) error { return s.flag("ignore-set", ignore) }

// OnPowerOff sets the shell command run after each power off ("" = none).
func (s *Sim) OnPowerOff(cmd string) error { return s.setHook("on-off", cmd) }

// OnPowerOn sets the shell command run after each power on ("" = none).
func (s *Sim) OnPowerOn(cmd string) error { return s.setHook("on-on", cmd) }

// Calls returns the hook invocations so far ("get power", "set power 0", ...).
func (s *Sim) Calls() ([]string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "calls.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ipmisim: reading calls: %w", err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n"), nil
}

// SetCount counts "set power" calls so far (a power command that ran twice
// shows here).
func (s *Sim) SetCount() int {
	calls, _ := s.Calls()
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "set power") {
			n++
		}
	}
	return n
}

func (s *Sim) flag(name string, on bool) error {
	p := filepath.Join(s.Dir, name)
	if on {
		return writeAtomic(p, "1\n", 0o644)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ipmisim: clearing %s: %w", name, err)
	}
	return nil
}

func (s *Sim) setHook(name, cmd string) error {
	p := filepath.Join(s.Dir, name)
	if cmd == "" {
		return s.flag(name, false)
	}
	return writeAtomic(p, "#!/bin/sh\n"+cmd+"\n", 0o755)
}

func (s *Sim) writeFiles(o Options) error {
	guid := make([]byte, 16)
	if _, err := rand.Read(guid); err != nil {
		return fmt.Errorf("ipmisim: generating guid: %w", err)
	}
	for _, v := range []string{o.User, o.Password} {
		if strings.ContainsAny(v, "\"\n\\ ") || len(v) > 16 {
			return fmt.Errorf("ipmisim: user and password must be at most 16 characters without quotes, spaces or backslashes")
		}
	}
	hook := filepath.Join(s.Dir, "chassis-hook")
	lan := fmt.Sprintf(`# generated by palisade hw-tests/ipmisim
name "sim%d"
set_working_mc 0x20
  startlan 1
    addr %s %d
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid %s
  endlan
  chassis_control "%s"
  user 2 true "%s" "%s" admin 10 none md2 md5 straight
  user 3 true "operator" "operator" operator 10 none md2 md5 straight
`, s.Port, s.Host, s.Port, hex.EncodeToString(guid), hook, o.User, o.Password)
	emu := "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n"
	files := []struct {
		name, body string
		mode       os.FileMode
	}{
		{"lan.conf", lan, 0o600},
		{"bmc.emu", emu, 0o644},
		{"chassis-hook", hookScript(s.Dir), 0o755},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(s.Dir, f.name), []byte(f.body), f.mode); err != nil {
			return fmt.Errorf("ipmisim: writing %s: %w", f.name, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "state"), 0o755); err != nil {
		return fmt.Errorf("ipmisim: %w", err)
	}
	if err := s.SetPower(!o.PoweredOff); err != nil {
		return err
	}
	if err := s.OnPowerOff(o.OnPowerOff); err != nil {
		return err
	}
	return s.OnPowerOn(o.OnPowerOn)
}

// hookScript is the chassis_control program: ipmi_sim runs it as
// "HOOK get power" (expects "power:0|1") and "HOOK set power 0|1",
// "HOOK set reset 1", "HOOK set shutdown 1".
func hookScript(dir string) string {
	q := "'" + strings.ReplaceAll(dir, "'", `'\''`) + "'"
	return `#!/bin/sh
# chassis_control hook generated by palisade hw-tests/ipmisim
d=` + q + `
echo "$*" >> "$d/calls.log"
case "$1" in
get)
	[ -e "$d/fail-get" ] && exit 1
	shift
	for p in "$@"; do
		case "$p" in
		power) printf 'power:%s\n' "$(cat "$d/power")" ;;
		esac
	done
	;;
set)
	[ -e "$d/fail-set" ] && exit 1
	[ -e "$d/ignore-set" ] && exit 0
	case "$2" in
	power)
		echo "$3" > "$d/power.tmp" && mv "$d/power.tmp" "$d/power"
		if [ "$3" = 0 ] && [ -x "$d/on-off" ]; then "$d/on-off" || exit 1; fi
		if [ "$3" = 1 ] && [ -x "$d/on-on" ]; then "$d/on-on" || exit 1; fi
		;;
	esac
	;;
esac
exit 0
`
}

func writeAtomic(path, body string, mode os.FileMode) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(body), mode); err != nil {
		return fmt.Errorf("ipmisim: writing %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("ipmisim: writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("ipmisim: finding a free UDP port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// rmcpPing is an ASF presence ping (RMCP class ASF, IANA 4542, type 0x80).
var rmcpPing = []byte{0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x01, 0x00, 0x00}

// waitReady waits until the simulator's UDP socket is bound (read from
// /proc/PID/net/udp, which shows the process's own network namespace) and,
// when it is reachable from here, until it answers an RMCP ping.
func (s *Sim) waitReady(timeout time.Duration, ping bool) error {
	deadline := time.Now().Add(timeout)
	for !s.bound() {
		select {
		case <-s.done:
			return fmt.Errorf("ipmisim: ipmi_sim exited at start-up (%v); log:\n%s", s.err, s.tailLog())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ipmisim: ipmi_sim did not bind %s within %s; log:\n%s", s.Addr(), timeout, s.tailLog())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !ping {
		return nil
	}
	conn, err := net.Dial("udp4", s.Addr())
	if err != nil {
		return fmt.Errorf("ipmisim: dialing %s: %w", s.Addr(), err)
	}
	defer conn.Close()
	buf := make([]byte, 512)
	for time.Now().Before(deadline) {
		_, _ = conn.Write(rmcpPing)
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := conn.Read(buf)
		if err == nil && n >= 9 && bytes.Equal(buf[:4], rmcpPing[:4]) && buf[8] == 0x40 {
			return nil
		}
		if err != nil && !isTimeout(err) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return fmt.Errorf("ipmisim: ipmi_sim on %s did not answer an RMCP ping within %s; log:\n%s", s.Addr(), timeout, s.tailLog())
}

// bound reports whether the simulator process has a UDP socket on s.Port.
func (s *Sim) bound() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/udp", s.cmd.Process.Pid))
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X ", s.Port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasSuffix(f[1]+" ", want) {
			return true
		}
	}
	return false
}

func (s *Sim) tailLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "sim.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
