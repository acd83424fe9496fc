package failover

import (
	"os/exec"
	"strconv"
	"testing"
	"time"

	"palisade/hw-tests/ipmisim"
)

func TestZZFenceTiming(t *testing.T) {
	sim, err := ipmisim.Start(ipmisim.Options{Password: "pw", OnPowerOff: "true"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	for _, args := range [][]string{{"chassis", "power", "status"}, {"chassis", "power", "off"}, {"chassis", "power", "status"}, {"chassis", "power", "on"}} {
		st := time.Now()
		out, err := exec.Command("ipmitool", append([]string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strconv.Itoa(sim.Port), "-U", "admin", "-P", "pw"}, args...)...).CombinedOutput()
		t.Logf("%v: %v %s %v", args, time.Since(st), out, err)
	}
}
