package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func ocfFixture(t *testing.T, typ, body string) (*OCF, Instance) {
	t.Helper()
	root := t.TempDir()
	writeScript(t, filepath.Join(root, "resource.d", "test"), typ, body)
	return &OCF{Root: root}, Instance{ID: "r1", Class: "ocf", Provider: "test", Type: typ, Timeout: 10 * time.Second}
}

func TestOCFEnvironment(t *testing.T) {
	t.Setenv("PA_D_SECRET", "hunter2")
	o, in := ocfFixture(t, "envdump", "env\n")
	in.Params = map[string]string{"ip": "198.18.0.50", "cidr_netmask": "24"}
	in.Meta = map[string]string{"notify-type": "pre", "clone_max": "2"}
	in.Interval = 10 * time.Second
	in.Timeout = 30 * time.Second
	res := o.Run(context.Background(), Monitor, in)
	if res.RC != OK || res.Status != StatusDone {
		t.Fatalf("envdump: %+v", res)
	}
	want := []string{
		"OCF_ROOT=" + o.Root,
		"OCF_RESOURCE_INSTANCE=r1",
		"OCF_RESOURCE_TYPE=envdump",
		"OCF_RESOURCE_PROVIDER=test",
		"OCF_RESKEY_ip=198.18.0.50",
		"OCF_RESKEY_cidr_netmask=24",
		"OCF_RESKEY_CRM_meta_timeout=30000",
		"OCF_RESKEY_CRM_meta_interval=10000",
		"OCF_RESKEY_CRM_meta_notify_type=pre",
		"OCF_RESKEY_CRM_meta_clone_max=2",
		"PATH=" + basePath,
	}
	lines := strings.Split(res.Output, "\n")
	for _, w := range want {
		if !contains(lines, w) {
			t.Errorf("agent environment lacks %q:\n%s", w, res.Output)
		}
	}
	if strings.Contains(res.Output, "hunter2") {
		t.Errorf("daemon environment leaked into the agent:\n%s", res.Output)
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

func TestOCFExitCodes(t *testing.T) {
	o, in := ocfFixture(t, "rc", "exit $OCF_RESKEY_rc\n")
	for code := 0; code <= 10; code++ {
		in.Params = map[string]string{"rc": strconv.Itoa(code)}
		res := o.Run(context.Background(), Start, in)
		want := RC(code)
		if code > 9 {
			want = ErrGeneric
		}
		if res.RC != want || res.Status != StatusDone {
			t.Errorf("exit %d: got rc %d status %s", code, res.RC, res.Status)
		}
	}
}

func TestOCFExitReason(t *testing.T) {
	o, in := ocfFixture(t, "reason", "echo 'ocf-exit-reason:first' >&2\necho 'ocf-exit-reason:disk /dev/sdz missing' >&2\nexit 5\n")
	res := o.Run(context.Background(), Start, in)
	if res.RC != ErrInstalled || res.ExitReason != "disk /dev/sdz missing" {
		t.Fatalf("got %+v", res)
	}
	if Classify(res, OK) != ClassHard {
		t.Errorf("rc 5 should be a hard error")
	}
}

func TestOCFBadParamName(t *testing.T) {
	o, in := ocfFixture(t, "x", "exit 0\n")
	in.Params = map[string]string{"a=b": "1"}
	if res := o.Run(context.Background(), Start, in); res.RC != ErrConfigured {
		t.Fatalf("got %+v", res)
	}
}

func TestOCFMissingAgent(t *testing.T) {
	o := &OCF{Root: t.TempDir()}
	res := o.Run(context.Background(), Monitor, Instance{ID: "r", Provider: "none", Type: "Nope"})
	if res.RC != ErrInstalled || res.Status != StatusError || !strings.Contains(res.ExitReason, "Nope") {
		t.Fatalf("got %+v", res)
	}
	res = o.Run(context.Background(), Monitor, Instance{ID: "r", Provider: "..", Type: "x"})
	if res.RC != ErrConfigured {
		t.Fatalf("path escape not refused: %+v", res)
	}
}

// TestOCFTimeoutKillsGroup checks that a timeout kills the agent and the
// helpers it forked, not just the agent.
func TestOCFTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	o, in := ocfFixture(t, "hang", fmt.Sprintf("sleep 1000 &\necho $! > %s\nwait\n", pidFile))
	in.Timeout = 300 * time.Millisecond
	res := o.Run(context.Background(), Start, in)
	if res.Status != StatusTimeout || Classify(res, OK) != ClassSoft {
		t.Fatalf("got %+v", res)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitGone(t, pid)
}

// waitGone waits until pid no longer runs (gone, or a zombie waiting for
// init to reap it: it is not our child).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("forked helper %d survived the timeout", pid)
}

func TestOCFCancel(t *testing.T) {
	o, in := ocfFixture(t, "hang", "sleep 1000\n")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	res := o.Run(ctx, Stop, in)
	if res.Status != StatusCancelled || Classify(res, OK) != ClassNone {
		t.Fatalf("got %+v", res)
	}
}

// A background child that keeps stdout open (send_arp in IPaddr2) must not
// turn a finished start into a timeout.
func TestOCFBackgroundChildKeepsPipe(t *testing.T) {
	o, in := ocfFixture(t, "bg", "echo started\nsleep 3 &\nexit 0\n")
	in.Timeout = 2 * time.Second
	res := o.Run(context.Background(), Start, in)
	if res.Status != StatusDone || res.RC != OK || !strings.HasPrefix(res.Output, "started") {
		t.Fatalf("got %+v", res)
	}
}

func TestOCFOutputBounded(t *testing.T) {
	o, in := ocfFixture(t, "loud", "head -c 1000000 /dev/zero | tr '\\0' x\nexit 0\n")
	o.OutputLimit = 1000
	res := o.Run(context.Background(), MetaData, in)
	if res.RC != OK || len(res.Output) > 1100 || !strings.HasSuffix(res.Output, "[output truncated]") {
		t.Fatalf("rc %d, %d bytes of output", res.RC, len(res.Output))
	}
}

func TestOCFCrashIsGenericError(t *testing.T) {
	o, in := ocfFixture(t, "crash", "kill -SEGV $$\n")
	res := o.Run(context.Background(), Start, in)
	if res.Status != StatusDone || res.RC != ErrGeneric {
		t.Fatalf("got %+v", res)
	}
}
