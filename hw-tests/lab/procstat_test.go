package lab

import (
	"os"
	"testing"
)

// TestProcStatOwnProcess reads this test process's own figures: the
// parsers must find the fields on this kernel, and a process that has
// run has used some CPU.
func TestProcStatOwnProcess(t *testing.T) {
	c, err := ReadProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if c.OnCPU <= 0 {
		t.Errorf("ReadProcCPU: on-CPU %v, want > 0", c.OnCPU)
	}
	t.Logf("utime+stime %d ticks, children %d, on-CPU %v, %d wake-ups", c.Self, c.Children, c.OnCPU, c.Wakeups)
	if _, err := ReadProcCPU(-1); err == nil {
		t.Error("ReadProcCPU(-1): no error")
	}
}
