package hwtests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"palisade/hw-tests/ipmisim"
)

// fenceAliases are the names cmd/fence-agent is installed under, in both
// forms (fence_palisade_* is what make install-fence installs).
var fenceAliases = []string{"fence_ipmilan", "fence_ipmilanplus", "fence_idrac", "fence_ilo3", "fence_ilo4", "fence_ilo5", "fence_imm",
	"fence_palisade_ipmilan", "fence_palisade_ipmilanplus", "fence_palisade_idrac", "fence_palisade_ilo3", "fence_palisade_ilo4",
	"fence_palisade_ilo5", "fence_palisade_imm"}

var fenceLinkOnce sync.Once

// fenceAgent returns the path of our agent installed as name (a symlink to
// the fence-agent binary built by palisadeBins, like `make build` makes).
func fenceAgent(t *testing.T, name string) string {
	t.Helper()
	dir := palisadeBins(t)
	fenceLinkOnce.Do(func() {
		for _, a := range fenceAliases {
			_ = os.Symlink("fence-agent", filepath.Join(dir, a))
		}
	})
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fence agent %s: %v", name, err)
	}
	return p
}

// startSim starts an ipmi_sim or skips the test when it is not installed.
func startSim(t *testing.T, o ipmisim.Options) *ipmisim.Sim {
	t.Helper()
	if err := ipmisim.Available(); err != nil {
		t.Skip(err)
	}
	sim, err := ipmisim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Stop() })
	return sim
}

// agentRun is one finished fence agent process.
type agentRun struct {
	code           int
	stdout, stderr string
}

// lines returns the stdout lines that carry the protocol result.
func (r agentRun) lines() []string {
	var out []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "Status:") || strings.HasPrefix(l, "Success:") || strings.HasPrefix(l, "NOTICE:") {
			out = append(out, l)
		}
	}
	return out
}

// runAgent runs argv (argv[0] is the program; "python3" scripts are run
// with /usr/bin/python3) with stdin and extra environment.
func runAgent(t *testing.T, argv []string, stdin string, env ...string) agentRun {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %v: %v", argv, err)
		}
		code = ee.ExitCode()
	}
	return agentRun{code: code, stdout: out.String(), stderr: errb.String()}
}

// simArgs are the connection options for sim (lanplus, cipher suite 3);
// the password is left to the caller.
func simArgs(sim *ipmisim.Sim) []string {
	return []string{"-a", sim.Host, "-u", strconv.Itoa(sim.Port), "-l", sim.User, "-P", "-C", "3", "--power-wait=0"}
}
