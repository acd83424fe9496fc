// Command bench-fence compares the ClusterLabs fence agents with
// Palisade's against the same simulators, one family at a time:
//
//   - fence_ipmilan (Python + one ipmitool child per step) vs ours (native
//     go-ipmi, one RMCP+ session per action) on ipmi_sim;
//   - fence_redfish (Python requests, basic auth on every request) vs ours
//     (gofish, one TLS connection and one Redfish session per action) on the
//     Go Redfish BMC of hw-tests/redfishsim;
//   - fence_apc_snmp (Python + one snmpget/snmpset/snmpwalk child per step)
//     vs ours (gosnmp, one UDP socket per action) on snmpd with the PDU of
//     hw-tests/pdusim (SNMP v2c and v3 authPriv).
//
// For each action it alternates reference and ours N times from the same
// starting power state, checks the exit code, the output line and the
// power state afterwards, and prints the median wall time and the ratio.
// For Redfish and the PDU it also measures what the daemon pays for a
// status check on a kept-alive session or socket (median of many reads).
//
//	go run ./hw-tests/cmd/bench-fence [-n 15] [-only ipmi,redfish,apc] [-agent bin/fence-agent]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"palisade/fence"
	"palisade/hw-tests/ipmisim"
	"palisade/hw-tests/pdusim"
	"palisade/hw-tests/redfishsim"
	"palisade/plugins/apcsnmp"
	"palisade/plugins/redfish"
)

type action struct {
	name    string
	startOn bool
	code    int // expected exit code
	line    string
	wantOn  bool
}

var actions = []action{
	{"status", true, 0, "Status: ON", true},
	{"off", true, 0, "Success: Powered OFF", false},
	{"on", false, 0, "Success: Powered ON", true},
	{"reboot", true, 0, "Success: Rebooted", true},
}

// machine is what a family's simulator offers the benchmark.
type machine struct {
	setPower func(on bool) error
	power    func() (bool, error)
}

type agent struct {
	name string
	argv []string
	env  []string
}

func main() {
	n := flag.Int("n", 15, "runs per action and agent")
	only := flag.String("only", "ipmi,redfish,apc", "families to run (comma-separated)")
	agentPath := flag.String("agent", "", "our multi-call fence-agent binary (default: build cmd/fence-agent into a temporary directory)")
	flag.Parse()
	if err := run(*n, strings.Split(*only, ","), *agentPath); err != nil {
		fmt.Fprintln(os.Stderr, "bench-fence:", err)
		os.Exit(1)
	}
}

func run(n int, only []string, bin string) error {
	dir, err := os.MkdirTemp("", "bench-fence-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "fence-agent")
		build := exec.Command("go", "build", "-o", bin, "./cmd/fence-agent")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building cmd/fence-agent: %w\n%s", err, out)
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	ours := func(name string) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.Symlink(bin, p)
	}
	for _, fam := range only {
		var err error
		switch strings.TrimSpace(fam) {
		case "ipmi":
			err = benchIPMI(n, ours)
		case "redfish":
			err = benchRedfish(n, ours)
		case "apc":
			err = benchAPC(n, ours)
		default:
			err = fmt.Errorf("unknown family %q (ipmi, redfish, apc)", fam)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func reference(name string) ([]string, error) {
	p := "/usr/sbin/" + name
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("reference agent missing (Debian package fence-agents): %w", err)
	}
	return []string{"/usr/bin/python3", p}, nil
}

func benchIPMI(n int, ours func(string) (string, error)) error {
	if err := ipmisim.Available(); err != nil {
		return err
	}
	ref, err := reference("fence_ipmilan")
	if err != nil {
		return err
	}
	our, err := ours("fence_ipmilan")
	if err != nil {
		return err
	}
	sim, err := ipmisim.Start(ipmisim.Options{})
	if err != nil {
		return err
	}
	defer sim.Stop()
	common := []string{"-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-l", sim.User, "-p", sim.Password,
		"--lanplus", "--cipher=3", "--power-wait=0"}
	fmt.Printf("fence_ipmilan against ipmi_sim (lanplus, cipher suite 3, --power-wait=0), %d runs each, alternating\n\n", n)
	return table(n, actions, machine{setPower: sim.SetPower, power: sim.Power}, common,
		[]agent{{"reference", ref, nil}, {"palisade", []string{our}, nil}})
}

func benchRedfish(n int, ours func(string) (string, error)) error {
	ref, err := reference("fence_redfish")
	if err != nil {
		return err
	}
	our, err := ours("fence_redfish")
	if err != nil {
		return err
	}
	sim, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		return err
	}
	defer sim.Stop()
	m := machine{setPower: func(on bool) error { sim.SetPower(on); return nil }, power: func() (bool, error) { return sim.Power(), nil }}
	common := []string{"-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-l", sim.User, "-p", sim.Password}
	fmt.Printf("\nfence_redfish against the Go Redfish BMC (HTTPS, verified certificate), %d runs each, alternating\n\n", n)
	if err := table(n, actions, m, common, []agent{
		{"reference", ref, []string{"REQUESTS_CA_BUNDLE=" + sim.CAFile}},
		{"palisade", []string{our}, []string{"SSL_CERT_FILE=" + sim.CAFile}},
	}); err != nil {
		return err
	}
	if open, _ := sim.Sessions(); open != 0 {
		return fmt.Errorf("fence_redfish left %d Redfish sessions open", open)
	}
	cfg, err := redfish.ConfigFromOptions(fence.Options{"ip": sim.Host, "ipport": strconv.Itoa(sim.Port),
		"username": sim.User, "password": sim.Password, "ssl_ca_file": sim.CAFile})
	if err != nil {
		return err
	}
	d, err := cfg.Open(context.Background())
	if err != nil {
		return err
	}
	defer d.Close()
	return kept("Redfish session", func() error {
		st, err := d.Status(context.Background(), "")
		if err == nil && st != fence.PowerOn {
			err = fmt.Errorf("status %s", st)
		}
		return err
	})
}

func benchAPC(n int, ours func(string) (string, error)) error {
	if err := pdusim.Available(); err != nil {
		return err
	}
	if _, err := os.Stat("/usr/bin/snmpget"); err != nil {
		return fmt.Errorf("the reference fence_apc_snmp needs net-snmp's tools (Debian package snmp): %w", err)
	}
	ref, err := reference("fence_apc_snmp")
	if err != nil {
		return err
	}
	our, err := ours("fence_apc_snmp")
	if err != nil {
		return err
	}
	sim, err := pdusim.Start(pdusim.Options{Kind: pdusim.RackPDU})
	if err != nil {
		return err
	}
	defer sim.Stop()
	const outlet = 3
	m := machine{
		setPower: func(on bool) error { return sim.Reset(on) },
		power:    func() (bool, error) { return sim.Outlet(outlet) },
	}
	flavours := []struct {
		name string
		args []string
		opts fence.Options
	}{
		{"SNMP v2c", []string{"-d", "2c", "-c", sim.Community},
			fence.Options{"snmp_version": "2c", "community": sim.Community}},
		{"SNMP v3 authPriv SHA/AES", []string{"-d", "3", "-l", sim.PrivUser, "-p", sim.PrivAuthPass, "-P", sim.PrivPass, "-b", "SHA", "-B", "AES"},
			fence.Options{"snmp_version": "3", "username": sim.PrivUser, "password": sim.PrivAuthPass, "snmp_priv_passwd": sim.PrivPass,
				"snmp_auth_prot": "SHA", "snmp_priv_prot": "AES"}},
	}
	for _, fl := range flavours {
		common := append([]string{"-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-n", strconv.Itoa(outlet)}, fl.args...)
		fmt.Printf("\nfence_apc_snmp against snmpd as an APC rack PDU (%s, outlet %d), %d runs each, alternating\n\n", fl.name, outlet, n)
		if err := table(n, actions, m, common, []agent{{"reference", ref, nil}, {"palisade", []string{our}, nil}}); err != nil {
			return err
		}
		o := fence.Options{"ip": sim.Host, "ipport": strconv.Itoa(sim.Port)}
		for k, v := range fl.opts {
			o[k] = v
		}
		cfg, err := apcsnmp.ConfigFromOptions(o)
		if err != nil {
			return err
		}
		d, err := cfg.Open(context.Background())
		if err != nil {
			return err
		}
		err = kept("SNMP socket, "+fl.name, func() error {
			st, err := d.Status(context.Background(), strconv.Itoa(outlet))
			if err == nil && st != fence.PowerOn {
				err = fmt.Errorf("status %s", st)
			}
			return err
		})
		d.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// table alternates the agents over every action and prints medians.
func table(n int, acts []action, m machine, common []string, agents []agent) error {
	fmt.Printf("%-8s %14s %14s %8s\n", "action", "reference", "palisade", "ratio")
	for _, a := range acts {
		times := make([][]time.Duration, len(agents))
		for i := 0; i < n; i++ {
			for j, ag := range agents {
				if err := m.setPower(a.startOn); err != nil {
					return err
				}
				argv := append(slices.Clone(ag.argv), append(slices.Clone(common), "-o", a.name)...)
				d, err := timeRun(argv, ag.env, a)
				if err != nil {
					return fmt.Errorf("%s %s: %w", ag.name, a.name, err)
				}
				if on, _ := m.power(); on != a.wantOn {
					return fmt.Errorf("%s %s: machine on=%v afterwards, want %v", ag.name, a.name, on, a.wantOn)
				}
				times[j] = append(times[j], d)
			}
		}
		ref, pal := median(times[0]), median(times[1])
		fmt.Printf("%-8s %11.1f ms %11.1f ms %7.1fx\n", a.name, ms(ref), ms(pal), float64(ref)/float64(pal))
	}
	return nil
}

// kept measures status checks on one open session/socket, as the
// daemon's monitor makes them.
func kept(what string, status func() error) error {
	const reads = 200
	var ds []time.Duration
	for i := 0; i < reads; i++ {
		start := time.Now()
		if err := status(); err != nil {
			return fmt.Errorf("status on a kept-alive %s: %w", what, err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	fmt.Printf("%-8s %14s %11.2f ms   (in the daemon, kept-alive %s; p90 %.2f ms, %d reads)\n",
		"status", "", ms(median(ds)), what, ms(ds[len(ds)*9/10]), reads)
	return nil
}

func timeRun(argv, env []string, a action) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return 0, err
	}
	if code != a.code || !strings.Contains(string(out), a.line) {
		stderr := ""
		if ee != nil {
			stderr = string(ee.Stderr)
		}
		return 0, fmt.Errorf("exit %d output %q, want %d %q; stderr %s", code, out, a.code, a.line, stderr)
	}
	return d, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
