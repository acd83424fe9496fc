// Command bench-pacemaker compares the ClusterLabs fence_ipmilan with ours
// (installed as fence_palisade_ipmilan) under the real fencer: one
// Pacemaker 2.1 + corosync 3 node in its own namespaces
// (hw-tests/pacemaker), one ipmi_sim BMC, one stonith resource per agent
// with the agent's defaults (power_wait, timeouts disabled by the fencer,
// pcmk_*_retries). Every figure is the wall time of one stonith_admin
// request through the fencer (--query runs the agent's monitor action),
// alternating reference and ours from the same starting power state;
// medians and ratios are printed. Then the time to a
// failed fence with the BMC hung (ipmi_sim stopped with SIGSTOP) and with
// it stopped (port closed).
//
//	go run ./hw-tests/cmd/bench-pacemaker [-n 7] [-failures 1]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"palisade/hw-tests/ipmisim"
	"palisade/hw-tests/pacemaker"
)

func main() {
	n := flag.Int("n", 7, "runs per action and agent")
	failures := flag.Int("failures", 1, "runs per agent of each failure case (each takes up to a minute)")
	flag.Parse()
	if err := run(*n, *failures); err != nil {
		fmt.Fprintln(os.Stderr, "bench-pacemaker:", err)
		os.Exit(1)
	}
}

type agent struct {
	name, program, device, target string
}

func run(n, failures int) error {
	if err := pacemaker.Available(); err != nil {
		return err
	}
	if err := ipmisim.Available(); err != nil {
		return err
	}
	if _, err := os.Stat("/usr/sbin/fence_ipmilan"); err != nil {
		return fmt.Errorf("reference agent missing (Debian package fence-agents): %w", err)
	}
	dir, err := os.MkdirTemp("", "bench-pacemaker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "fence-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/fence-agent").CombinedOutput(); err != nil {
		return fmt.Errorf("building cmd/fence-agent: %w\n%s", err, out)
	}
	c, err := pacemaker.New(pacemaker.Options{Prefix: fmt.Sprintf("pa-bpm-%d", os.Getpid()), Nodes: 1,
		Agents: map[string]string{"fence_palisade_ipmilan": bin},
		CIB:    pacemaker.CIB{Options: map[string]string{"no-quorum-policy": "ignore"}}.XML()})
	if err != nil {
		return err
	}
	defer c.Close()
	const addr = "198.18.0.201"
	if err := c.AddBMCAddr(addr); err != nil {
		return err
	}
	startSim := func() (*ipmisim.Sim, error) {
		return ipmisim.Start(ipmisim.Options{Netns: c.Lab.Client.Name, Host: addr, Port: 623})
	}
	sim, err := startSim()
	if err != nil {
		return err
	}
	defer func() { sim.Stop() }()
	node := c.Nodes[0]
	if err := node.Boot(); err != nil {
		return err
	}
	if err := pacemaker.WaitFor(60*time.Second, "DC elected", func() (bool, string) {
		out, err := node.RunWithin(5*time.Second, "crmadmin", "-D", "-t", "2000")
		return err == nil && strings.Contains(out, "Designated Controller"), out
	}); err != nil {
		return err
	}
	agents := []agent{
		{"reference", "fence_ipmilan", "dev-ref", "victim-ref"},
		{"palisade", "fence_palisade_ipmilan", "dev-ours", "victim-ours"},
	}
	// Stonith resources, as a cluster has them; the recurring monitor is
	// hourly so it does not run into the measurements.
	for _, a := range agents {
		prim := pacemaker.Stonith(a.device, a.program, [][2]string{{"ip", addr}, {"username", sim.User}, {"password", sim.Password},
			{"lanplus", "1"}, {"cipher", "3"}, {"pcmk_host_list", a.target}}, "3600s")
		if out, err := node.Run("cibadmin", "--create", "-o", "resources", "--xml-text", prim); err != nil {
			return fmt.Errorf("creating %s: %w\n%s", a.device, err, out)
		}
	}
	if err := pacemaker.WaitFor(60*time.Second, "devices started", func() (bool, string) {
		for _, a := range agents {
			out, _ := node.RunWithin(10*time.Second, "crm_resource", "--resource", a.device, "--locate")
			if !strings.Contains(out, "is running on") {
				return false, out
			}
		}
		return true, ""
	}); err != nil {
		return err
	}
	waitAnswering := func() error {
		return pacemaker.WaitFor(20*time.Second, "BMC answering", func() (bool, string) {
			out, err := node.RunWithin(5*time.Second, "ipmitool", "-I", "lanplus", "-C", "3", "-H", addr, "-U", sim.User, "-P", sim.Password,
				"-N", "1", "-R", "1", "chassis", "power", "status")
			return err == nil, out
		})
	}
	if err := waitAnswering(); err != nil {
		return err
	}

	fmt.Printf("fence_ipmilan under pacemaker-fenced (Pacemaker 2.1.5, corosync 3) against one ipmi_sim, lanplus cipher 3,\n")
	fmt.Printf("agent defaults (power_wait 2 s, timeouts disabled by the fencer); %d stonith_admin requests each, alternating\n(monitor = stonith_admin --query DEVICE, reboot/off/on = --reboot/--fence/--unfence TARGET)\n\n", n)
	fmt.Printf("%-10s %12s %12s %8s\n", "request", "reference", "palisade", "ratio")
	steps := []struct {
		name    string
		args    func(a agent) []string
		startOn bool
		wantOn  bool
	}{
		{"monitor", func(a agent) []string { return []string{"--query", a.device} }, true, true},
		{"reboot", func(a agent) []string { return []string{"--reboot", a.target} }, true, true},
		{"off", func(a agent) []string { return []string{"--fence", a.target} }, true, false},
		{"on", func(a agent) []string { return []string{"--unfence", a.target} }, false, true},
	}
	for _, s := range steps {
		times := make([][]time.Duration, len(agents))
		for i := 0; i < n; i++ {
			for j, a := range agents {
				if err := sim.SetPower(s.startOn); err != nil {
					return err
				}
				var d time.Duration
				var rc int
				var out string
				d, rc, out = timeRun(node, append([]string{"stonith_admin", "--timeout", "120"}, s.args(a)...)...)
				if rc != 0 {
					return fmt.Errorf("%s %s: rc %d\n%s", a.name, s.name, rc, out)
				}
				if on, _ := sim.Power(); on != s.wantOn {
					return fmt.Errorf("%s %s: machine on=%v afterwards, want %v", a.name, s.name, on, s.wantOn)
				}
				times[j] = append(times[j], d)
			}
		}
		ref, pal := median(times[0]), median(times[1])
		fmt.Printf("%-10s %9.0f ms %9.0f ms %7.2fx\n", s.name, ms(ref), ms(pal), float64(ref)/float64(pal))
	}

	fmt.Printf("\ntime to a failed fence (stonith_admin --fence, fencer defaults: stonith-timeout 60 s, pcmk_off_retries 2), %d run(s) each\n\n", failures)
	fmt.Printf("%-10s %12s %12s\n", "BMC", "reference", "palisade")
	cases := []struct {
		name           string
		break_, repair func() error
	}{
		{"hung", func() error { return syscall.Kill(sim.PID(), syscall.SIGSTOP) }, func() error {
			if err := syscall.Kill(sim.PID(), syscall.SIGCONT); err != nil {
				return err
			}
			return waitAnswering()
		}},
		{"stopped", func() error { return sim.Stop() }, func() error {
			s, err := startSim()
			if err != nil {
				return err
			}
			sim = s
			return waitAnswering()
		}},
	}
	for _, fc := range cases {
		times := make([][]time.Duration, len(agents))
		msgs := make([]string, len(agents))
		for i := 0; i < failures; i++ {
			for j, a := range agents {
				if err := sim.SetPower(true); err != nil {
					return err
				}
				if err := fc.break_(); err != nil {
					return err
				}
				d, rc, out := timeRun(node, "stonith_admin", "--timeout", "120", "--fence", a.target)
				if err := fc.repair(); err != nil {
					return err
				}
				if rc == 0 {
					return fmt.Errorf("%s with the BMC %s: the fence succeeded\n%s", a.name, fc.name, out)
				}
				times[j] = append(times[j], d)
				msgs[j] = agentMessage(node, a.program)
			}
		}
		fmt.Printf("%-10s %10.1f s %10.1f s\n", fc.name, secs(median(times[0])), secs(median(times[1])))
		for j, a := range agents {
			fmt.Printf("    %-10s %s\n", a.name+":", msgs[j])
		}
	}

	// One agent run as the fencer starts it (PCMK_service set, so both
	// agents disable their own timeouts): how long each keeps trying a BMC
	// that answers nothing. The fencer's figure above is about two of them.
	if failures > 0 {
		var row []time.Duration
		for _, a := range agents {
			if err := sim.SetPower(true); err != nil {
				return err
			}
			if err := syscall.Kill(sim.PID(), syscall.SIGSTOP); err != nil {
				return err
			}
			d, rc, out := timeRun(node, "env", "PCMK_service=pacemaker-fenced", "/usr/sbin/"+a.program, "-a", addr, "-l", sim.User,
				"-p", sim.Password, "-P", "-C", "3", "-o", "off")
			if err := syscall.Kill(sim.PID(), syscall.SIGCONT); err != nil {
				return err
			}
			if err := waitAnswering(); err != nil {
				return err
			}
			if rc == 0 {
				return fmt.Errorf("%s: off succeeded against a hung BMC\n%s", a.name, out)
			}
			row = append(row, d)
		}
		fmt.Printf("%-10s %10.1f s %10.1f s   (one agent run, PCMK_service=pacemaker-fenced)\n", "hung", secs(row[0]), secs(row[1]))
	}
	return nil
}

func timeRun(node *pacemaker.Node, argv ...string) (time.Duration, int, string) {
	start := time.Now()
	out, err := node.Run(argv...)
	d := time.Since(start)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return d, 0, out
	case errors.As(err, &ee):
		return d, ee.ExitCode(), out
	}
	return d, -1, out + err.Error()
}

// agentMessage is the last failure line the fencer logged from program.
func agentMessage(node *pacemaker.Node, program string) string {
	time.Sleep(300 * time.Millisecond)
	var last string
	for _, e := range node.Log().Find(program+"[", "stderr: [", "ERROR") {
		line := e.Line[strings.Index(e.Line, "stderr: [")+len("stderr: ["):]
		line = strings.TrimSuffix(strings.TrimSpace(line), "]")
		if i := strings.Index(line, "ERROR: "); i >= 0 {
			line = line[i+len("ERROR: "):]
		}
		if len(line) > 110 {
			line = line[:110] + "..."
		}
		last = strings.TrimSpace(line)
		if strings.HasPrefix(last, "Failed:") || strings.HasPrefix(last, "Connection") {
			return last
		}
	}
	return last
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64   { return float64(d) / float64(time.Millisecond) }
func secs(d time.Duration) float64 { return d.Seconds() }
