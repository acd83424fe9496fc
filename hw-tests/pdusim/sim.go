// Package pdusim runs an APC switched PDU for tests: Debian's snmpd (a
// real SNMP agent, v1, v2c and v3 with USM) on a loopback UDP port, with
// the PowerNet-MIB outlet tables served by a pass_persist program from a
// state file the test reads and changes.
//
//	if err := pdusim.Available(); err != nil { t.Skip(err) }
//	sim, err := pdusim.Start(pdusim.Options{Kind: pdusim.RackPDU})
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(sim.Stop)
//	// SNMP at sim.Host:sim.Port: community sim.Community (read-write),
//	// v3 users sim.AuthUser (authNoPriv, SHA), sim.PrivUser (authPriv,
//	// SHA + AES), sim.MD5User (authNoPriv, MD5)
//
// Kinds: RackPDU (sysObjectID masterSwitchrPDU; rPDUOutletControl to
// switch, rPDUOutletStatus to read, and the old table too) and
// MasterSwitch (any other APC sysObjectID; only the old sPDUOutletCtl
// table, read and written at one OID). Outlets switch after
// Options.Transition; FailSets makes SETs fail, IgnoreSets makes them do
// nothing; Sets lists what was written.
//
// The pass_persist program is hw-tests/pdusim/passpersist, built with the
// go tool into the simulator's directory (or Options.Helper, built once
// with BuildHelper).
package pdusim

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Options configure a simulator. The zero value is a RackPDU with 8
// outlets named node1..node8, all on.
type Options struct {
	Kind    Kind
	Outlets []string
	// Off lists outlets (1-based) that start off.
	Off []int
	// Transition delays every power change.
	Transition time.Duration
	// Host (default 127.0.0.1) and Port (default a free one).
	Host string
	Port int
	// Helper is a pass_persist binary built by BuildHelper; default: build
	// one into the simulator's directory.
	Helper string
	// Dir holds the generated files; default a temporary directory that
	// Stop removes.
	Dir string
	// Netns runs snmpd in this network namespace (ip netns exec).
	Netns string
	// Feeds are machines the outlets power: when all outlets of a feed
	// are off, its OnPowerOff command runs (sh -c, as snmpd's user), as
	// the power-off hook of ipmi_sim does: a test makes it kill the node.
	Feeds []Feed
}

// Feed is one machine powered by Outlets (1-based; two for a machine with
// two power supplies).
type Feed struct {
	Outlets    []int
	OnPowerOff string
}

// Sim is a running simulator.
type Sim struct {
	Host string
	Port int
	Kind Kind
	// Community is the read-write v1/v2c community ("private");
	// ReadCommunity is read-only ("public").
	Community, ReadCommunity string
	// v3 users: AuthUser/AuthPass (SHA, authNoPriv), PrivUser/PrivAuthPass/
	// PrivPass (SHA + AES, authPriv), MD5User/MD5Pass (MD5, authNoPriv).
	AuthUser, AuthPass               string
	PrivUser, PrivAuthPass, PrivPass string
	MD5User, MD5Pass                 string
	Dir                              string

	st     store
	ownDir bool
	cmd    *exec.Cmd
	done   chan struct{}
}

// Available reports why the simulator cannot run here (nil if it can).
func Available() error {
	for _, p := range []string{"/usr/sbin/snmpd"} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("snmpd not installed (Debian package snmpd): %w", err)
		}
	}
	if _, err := exec.LookPath("go"); err != nil {
		return fmt.Errorf("the go tool is needed to build the pass_persist helper: %w", err)
	}
	return nil
}

// BuildHelper compiles the pass_persist program into dir and returns its
// path.
func BuildHelper(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", fmt.Errorf("pdusim: finding the module root: %v", err)
	}
	bin := filepath.Join(dir, "pdu-passpersist")
	cmd := exec.Command("go", "build", "-o", bin, "palisade/hw-tests/pdusim/passpersist")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pdusim: building the pass_persist helper: %w\n%s", err, b)
	}
	return bin, nil
}

// Start writes the configuration and state, starts snmpd and returns once
// it answers.
func Start(o Options) (*Sim, error) {
	if o.Kind == "" {
		o.Kind = RackPDU
	}
	if o.Kind != RackPDU && o.Kind != MasterSwitch {
		return nil, fmt.Errorf("pdusim: unknown kind %q", o.Kind)
	}
	if o.Outlets == nil {
		for i := 1; i <= 8; i++ {
			o.Outlets = append(o.Outlets, fmt.Sprintf("node%d", i))
		}
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	s := &Sim{
		Host: o.Host, Port: o.Port, Kind: o.Kind, Dir: o.Dir, done: make(chan struct{}),
		Community: "private", ReadCommunity: "public",
		AuthUser: "fence-auth", AuthPass: "auth-pass-1",
		PrivUser: "fence-priv", PrivAuthPass: "auth-pass-2", PrivPass: "priv-pass-2",
		MD5User: "fence-md5", MD5Pass: "md5-pass-3",
	}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "pdusim-")
		if err != nil {
			return nil, fmt.Errorf("pdusim: %w", err)
		}
		s.Dir, s.ownDir = d, true
	}
	s.st = store{dir: s.Dir}
	fail := func(err error) (*Sim, error) { s.cleanup(); return nil, err }
	helper := o.Helper
	if helper == "" {
		var err error
		if helper, err = BuildHelper(s.Dir); err != nil {
			return fail(err)
		}
	}
	if s.Port == 0 {
		c, err := net.ListenPacket("udp4", net.JoinHostPort(o.Host, "0"))
		if err != nil {
			return fail(fmt.Errorf("pdusim: finding a free UDP port: %w", err))
		}
		s.Port = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	}
	st := &state{Kind: o.Kind, Transition: int64(o.Transition)}
	for _, f := range o.Feeds {
		st.Feeds = append(st.Feeds, feed{Outlets: f.Outlets, OnPowerOff: f.OnPowerOff})
	}
	for i, name := range o.Outlets {
		st.Outlets = append(st.Outlets, outlet{Name: name, On: !slices.Contains(o.Off, i+1)})
	}
	if err := s.st.write(st); err != nil {
		return fail(err)
	}
	persist := filepath.Join(s.Dir, "persist")
	if err := os.MkdirAll(persist, 0o700); err != nil {
		return fail(fmt.Errorf("pdusim: %w", err))
	}
	conf := fmt.Sprintf(`# generated by palisade hw-tests/pdusim
agentaddress udp:%s
sysObjectID %s
sysDescr APC Switched PDU (palisade hw-tests pdusim, %s)
sysName pdusim
rwcommunity %s
rocommunity %s
createUser %s SHA "%s"
createUser %s SHA "%s" AES "%s"
createUser %s MD5 "%s"
rwuser %s auth
rwuser %s priv
rwuser %s auth
pass_persist %s %s %s
`, net.JoinHostPort(o.Host, strconv.Itoa(s.Port)), o.Kind.sysObjectID(), o.Kind, s.Community, s.ReadCommunity,
		s.AuthUser, s.AuthPass, s.PrivUser, s.PrivAuthPass, s.PrivPass, s.MD5User, s.MD5Pass,
		s.AuthUser, s.PrivUser, s.MD5User, apc, helper, s.Dir)
	confPath := filepath.Join(s.Dir, "snmpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return fail(fmt.Errorf("pdusim: %w", err))
	}
	argv := []string{"/usr/sbin/snmpd", "-f", "-C", "-c", confPath, "-Lf", filepath.Join(s.Dir, "snmpd.log"),
		"-p", filepath.Join(s.Dir, "snmpd.pid"), "-I", "-smux,mteTrigger,mteTriggerConf"}
	if o.Netns != "" {
		argv = append([]string{"ip", "netns", "exec", o.Netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	// Only our configuration: no /etc/snmp, no /var/lib/snmp, no MIB files.
	cmd.Env = append(os.Environ(), "SNMPCONFPATH="+s.Dir, "SNMP_PERSISTENT_DIR="+persist, "MIBS=", "MIBDIRS="+s.Dir)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("pdusim: starting snmpd: %w", err))
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); close(s.done) }()
	if o.Netns == "" {
		if err := s.waitReady(30 * time.Second); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *Sim) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "snmpd.log"))
			return fmt.Errorf("pdusim: snmpd exited at start-up: %s", strings.TrimSpace(string(log)))
		default:
		}
		g := &gosnmp.GoSNMP{Target: s.Host, Port: uint16(s.Port), Community: s.ReadCommunity, Version: gosnmp.Version2c,
			Timeout: 200 * time.Millisecond, Retries: 0, Context: context.Background()}
		if err := g.Connect(); err == nil {
			p, err := g.Get([]string{".1.3.6.1.2.1.1.2.0", apc + ".1.1.4.4.2.1.3.1"})
			g.Conn.Close()
			if err == nil && len(p.Variables) == 2 && p.Variables[1].Type == gosnmp.Integer {
				return nil
			}
			last = err
		} else {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.Dir, "snmpd.log"))
	return fmt.Errorf("pdusim: snmpd did not answer within %s (last error %v): %s", timeout, last, strings.TrimSpace(string(log)))
}

// Stop ends snmpd (and its pass_persist child) and removes the directory
// if Start made it. Safe to call twice.
func (s *Sim) Stop() {
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
}

func (s *Sim) cleanup() {
	if s.ownDir && s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}

// PID is snmpd's process id.
func (s *Sim) PID() int { return s.cmd.Process.Pid }

// Outlet reports whether outlet n (1-based) is on now.
func (s *Sim) Outlet(n int) (bool, error) {
	var on bool
	err := s.st.update(func(st *state) bool {
		if n < 1 || n > len(st.Outlets) {
			return false
		}
		on = st.Outlets[n-1].on(st.now())
		return false
	})
	return on, err
}

// Outlets reports every outlet's power, on = true.
func (s *Sim) Outlets() ([]bool, error) {
	var out []bool
	err := s.st.update(func(st *state) bool {
		for _, o := range st.Outlets {
			out = append(out, o.on(st.now()))
		}
		return false
	})
	return out, err
}

// Settled reports whether no outlet is in a transition.
func (s *Sim) Settled() bool {
	settled := true
	_ = s.st.update(func(st *state) bool {
		for _, o := range st.Outlets {
			if st.now() < o.At {
				settled = false
			}
		}
		return false
	})
	return settled
}

// SetOutlets switches the listed outlets (1-based) at once, behind the
// PDU's back; no list means every outlet.
func (s *Sim) SetOutlets(on bool, outlets ...int) error {
	return s.st.update(func(st *state) bool {
		for i := range st.Outlets {
			if len(outlets) == 0 || slices.Contains(outlets, i+1) {
				st.Outlets[i].On, st.Outlets[i].At = on, 0
			}
		}
		st.rearm()
		return true
	})
}

// FeedCut reports whether feed i (0-based, Options.Feeds) lost power and
// when (its hook ran).
func (s *Sim) FeedCut(i int) (bool, time.Time, error) {
	var cut bool
	var at int64
	err := s.st.update(func(st *state) bool {
		if i >= 0 && i < len(st.Feeds) {
			cut, at = st.Feeds[i].Cut, st.Feeds[i].CutAt
		}
		return false
	})
	return cut, time.Unix(0, at), err
}

// FailSets makes every SET fail with a pass_persist error word
// (not-writable, wrong-value, inconsistent-value, ...; "" = succeed).
func (s *Sim) FailSets(word string) error {
	return s.st.update(func(st *state) bool { st.FailSet = word; return true })
}

// IgnoreSets makes SETs succeed without switching anything.
func (s *Sim) IgnoreSets(ignore bool) error {
	return s.st.update(func(st *state) bool { st.IgnoreSet = ignore; return true })
}

// Sets returns the SETs so far as "OID=VALUE" and forgets them.
func (s *Sim) Sets() ([]string, error) {
	var out []string
	err := s.st.update(func(st *state) bool {
		out, st.Sets = st.Sets, nil
		return true
	})
	return out, err
}

// Reset clears faults and the SET log and switches every outlet on or off.
func (s *Sim) Reset(on bool) error {
	return s.st.update(func(st *state) bool {
		st.FailSet, st.IgnoreSet, st.Sets = "", false, nil
		for i := range st.Outlets {
			st.Outlets[i].On, st.Outlets[i].At = on, 0
		}
		st.rearm()
		return true
	})
}
