package lab

import (
	"os"
	"testing"
)

// TestProcStatOwnProcess reads this test process's own figures: the
// parsers must find the fields on this kernel, and a process that has
// run has used some CPU.
func TestProcStatOwnProcess(t *testing.T) {
	c, err := ReadCPUTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	onCPU, wakeups, err := ThreadStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if onCPU <= 0 {
		t.Errorf("ThreadStats: on-CPU %v, want > 0", onCPU)
	}
	t.Logf("utime+stime %d ticks, children %d, on-CPU %v, %d wake-ups", c.Self, c.Children, onCPU, wakeups)
	if _, err := ReadCPUTicks(-1); err == nil {
		t.Error("ReadCPUTicks(-1): no error")
	}
}
