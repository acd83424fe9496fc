// Command bench-fence compares the ClusterLabs fence_ipmilan (Python +
// one ipmitool child per step) with Palisade's fence_ipmilan (native
// go-ipmi, one RMCP+ session per action) against one ipmi_sim: for each
// action it alternates reference and ours N times from the same starting
// power state and prints the median wall time and the ratio.
//
//	go run ./hw-tests/cmd/bench-fence [-n 15] [-agent bin/fence_ipmilan]
package main

import (
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

	"palisade/hw-tests/ipmisim"
)

const refAgent = "/usr/sbin/fence_ipmilan"

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

func main() {
	n := flag.Int("n", 15, "runs per action and agent")
	agentPath := flag.String("agent", "", "our fence_ipmilan (default: build cmd/fence-agent into a temporary directory)")
	flag.Parse()
	if err := run(*n, *agentPath); err != nil {
		fmt.Fprintln(os.Stderr, "bench-fence:", err)
		os.Exit(1)
	}
}

func run(n int, ours string) error {
	if err := ipmisim.Available(); err != nil {
		return err
	}
	if _, err := os.Stat(refAgent); err != nil {
		return fmt.Errorf("reference agent missing (Debian package fence-agents): %w", err)
	}
	if ours == "" {
		dir, err := os.MkdirTemp("", "bench-fence-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "fence-agent"), "./cmd/fence-agent")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building cmd/fence-agent: %w\n%s", err, out)
		}
		ours = filepath.Join(dir, "fence_ipmilan")
		if err := os.Symlink("fence-agent", ours); err != nil {
			return err
		}
	}
	sim, err := ipmisim.Start(ipmisim.Options{})
	if err != nil {
		return err
	}
	defer sim.Stop()

	common := []string{"-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-l", sim.User, "-p", sim.Password,
		"--lanplus", "--cipher=3", "--power-wait=0"}
	agents := []struct {
		name string
		argv []string
	}{
		{"reference", []string{"/usr/bin/python3", refAgent}},
		{"palisade", []string{ours}},
	}

	fmt.Printf("fence_ipmilan against ipmi_sim (lanplus, cipher suite 3, --power-wait=0), %d runs each, alternating\n\n", n)
	fmt.Printf("%-8s %14s %14s %8s\n", "action", "reference", "palisade", "ratio")
	for _, a := range actions {
		times := make([][]time.Duration, len(agents))
		for i := 0; i < n; i++ {
			for j, ag := range agents {
				if err := sim.SetPower(a.startOn); err != nil {
					return err
				}
				argv := append(slices.Clone(ag.argv), append(slices.Clone(common), "-o", a.name)...)
				d, err := timeRun(argv, a)
				if err != nil {
					return fmt.Errorf("%s %s: %w", ag.name, a.name, err)
				}
				if on, _ := sim.Power(); on != a.wantOn {
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

func timeRun(argv []string, a action) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
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
		return 0, fmt.Errorf("exit %d output %q, want %d %q", code, out, a.code, a.line)
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
