package hwtests

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/hw-tests/ipmisim"
)

// TestFenceSilentBMCComesBack: a BMC that answers nothing (ipmi_sim stopped
// with SIGSTOP) is tried again within the silent-device budget, so when it
// answers again the fence goes through in the same call, with no operator.
// Under the fencer's environment (PCMK_service=pacemaker-fenced, timeouts
// disabled) the budget is the default, about what the reference takes.
func TestFenceSilentBMCComesBack(t *testing.T) {
	sim := startSim(t, ipmisim.Options{})
	agent := fenceAgent(t, "fence_palisade_ipmilan")
	if err := syscall.Kill(sim.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := make(chan struct{})
	go func() {
		time.Sleep(3 * time.Second)
		syscall.Kill(sim.PID(), syscall.SIGCONT)
		close(resumed)
	}()
	t.Cleanup(func() { <-resumed })
	in := "action=off\nip=" + sim.Host + "\nipport=" + strconv.Itoa(sim.Port) + "\nusername=" + sim.User + "\npassword=" + sim.Password +
		"\nlanplus=1\ncipher=3\npower_wait=0\nnodename=n1\n"
	r := runAgent(t, []string{agent}, in, "PCMK_service=pacemaker-fenced")
	if r.code != 0 || r.stdout != "Success: Powered OFF\n" || !strings.Contains(r.stderr, "trying again") {
		t.Fatalf("exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	if on, _ := sim.Power(); on {
		t.Fatal("machine still on after a successful off")
	}
	if n := sim.SetCount(); n != 1 {
		t.Errorf("%d power commands reached the BMC, want exactly 1", n)
	}
}
