package fence

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"palisade/fence/clock"
)

// logical returns a fresh logical clock: these tests wait in logical time
// (power_timeout, deadlines, delays), never on the wall clock.
func logical() *clock.Logical { return clock.NewLogical(time.Unix(1e9, 0)) }

// fast is a request with timeouts short enough for unit tests; the
// assertions are about outcomes, never about how long things took.
func fast(a Action) Request {
	return Request{
		Action: a, Method: MethodOnOff,
		LoginTimeout: 50 * time.Millisecond, PowerTimeout: 60 * time.Millisecond,
		StatusSleep: 5 * time.Millisecond, RetryOn: 1,
	}
}

// TestExecuteMessages checks the fence-agents failure lines.
func TestExecuteMessages(t *testing.T) {
	clk := logical()
	res := ExecuteWith(context.Background(), clk, (&fakeDevice{state: PowerOn, ignoreSet: true}).opener(), fast(ActionOff))
	if got, want := res.Message(), "Failed: Timed out waiting to power OFF"; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	if Classify(res.Err) != ClassTimeout {
		t.Errorf("class %s, want timeout", Classify(res.Err))
	}
	res = ExecuteWith(context.Background(), clk, openerErr(ErrLoginDenied), fast(ActionStatus))
	if res.Message() == ExecuteWith(context.Background(), clk, openerHang(clk), fast(ActionStatus)).Message() {
		t.Errorf("login denied and not answering have the same message %q", res.Message())
	}
}

// TestExecuteDeadline: the request's context bounds verification even with
// power_timeout disabled (0, as under Pacemaker).
func TestExecuteDeadline(t *testing.T) {
	clk := logical()
	ctx, cancel := clk.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := fast(ActionOff)
	req.PowerTimeout = 0
	res := ExecuteWith(ctx, clk, (&fakeDevice{state: PowerOn, ignoreSet: true}).opener(), req)
	if res.OK || !errors.Is(res.Err, ErrTimedOutOff) || !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("res = %+v, want timed out OFF wrapping the deadline", res)
	}
	if res.Elapsed != 50*time.Millisecond {
		t.Errorf("ended after %v of logical time, want the 50ms deadline", res.Elapsed)
	}
}

// TestExecuteDelay: delay applies to off/reboot and is cut short by ctx;
// status is never delayed.
func TestExecuteDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	clk := logical()
	req := fast(ActionOff)
	req.Delay = time.Hour
	if res := ExecuteWith(ctx, clk, (&fakeDevice{state: PowerOn}).opener(), req); res.OK || !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("off with delay under a cancelled ctx = %+v", res)
	}
	if res := ExecuteWith(context.Background(), clk, (&fakeDevice{state: PowerOn}).opener(), req); !res.OK || res.Elapsed != time.Hour {
		t.Fatalf("off after a one-hour delay: %+v (elapsed %v)", res, res.Elapsed)
	}
	req = fast(ActionStatus)
	req.Delay = time.Hour
	if res := ExecuteWith(context.Background(), clk, (&fakeDevice{state: PowerOn}).opener(), req); !res.OK || res.Elapsed != 0 {
		t.Fatalf("status was delayed or failed: %+v", res)
	}
}

func TestRequestFromOptions(t *testing.T) {
	r, err := RequestFromOptions(ActionReboot, Options{OptMethod: "CYCLE", OptPowerTimeout: "2.5", OptRetryOn: "3", OptPowerWait: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != MethodCycle || r.PowerTimeout != 2500*time.Millisecond || r.RetryOn != 3 {
		t.Errorf("request = %+v", r)
	}
	if _, err := RequestFromOptions(ActionOff, Options{OptMethod: "sideways"}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad method: err = %v", err)
	}
}

// TestExecuteOneSession: a whole reboot (status, off, verify, on, verify)
// logs in once and closes once.
func TestExecuteOneSession(t *testing.T) {
	dev := &fakeDevice{state: PowerOn}
	opens := 0
	open := func(ctx context.Context) (Device, error) { opens++; return dev, nil }
	if res := ExecuteWith(context.Background(), logical(), open, fast(ActionReboot)); !res.OK {
		t.Fatal(res)
	}
	if opens != 1 || !dev.closed {
		t.Errorf("opened %d sessions (closed %v), want exactly 1", opens, dev.closed)
	}
}

// TestSilentBudget: how long a silent device is tried, from the options, as
// the reference's time to give up: power_timeout (each ipmitool call is
// killed then), login_timeout when larger, and DefaultSilentBudget when the
// timeouts are disabled (Pacemaker) and none was given explicitly.
func TestSilentBudget(t *testing.T) {
	p := &Plugin{Name: "fence_budgettest", Open: func(Options) (Opener, error) { return nil, nil }}
	cases := []struct {
		name   string
		raw    map[string]string
		pcmk   bool
		budget time.Duration
		login  time.Duration
		shell  time.Duration
		addr   string
	}{
		{name: "command line defaults", raw: map[string]string{"ip": "h", "ipport": "623"}, budget: 20 * time.Second, login: 5 * time.Second, shell: 3 * time.Second, addr: "h:623"},
		{name: "login_timeout larger", raw: map[string]string{"ip": "h", "login_timeout": "25"}, budget: 25 * time.Second, login: 25 * time.Second, shell: 3 * time.Second, addr: "h"},
		{name: "under pacemaker", raw: map[string]string{"ip": "h"}, pcmk: true, budget: DefaultSilentBudget},
		{name: "under pacemaker, explicit login_timeout kept", raw: map[string]string{"ip": "h", "login_timeout": "25"}, pcmk: true, budget: 25 * time.Second, login: 25 * time.Second},
		{name: "disable_timeout=0 under pacemaker", raw: map[string]string{"ip": "h", "disable_timeout": "0"}, pcmk: true, budget: 20 * time.Second, login: 5 * time.Second, shell: 3 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.pcmk {
				t.Setenv("PCMK_service", "pacemaker-fenced")
			} else {
				t.Setenv("PCMK_service", "")
			}
			opts, err := Normalize(p, p.Name, c.raw)
			if err != nil {
				t.Fatal(err)
			}
			r, err := RequestFromOptions(ActionOff, opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.SilentBudget != c.budget || r.LoginTimeout != c.login || r.ShellTimeout != c.shell {
				t.Errorf("budget %s login %s shell %s, want %s %s %s", r.SilentBudget, r.LoginTimeout, r.ShellTimeout, c.budget, c.login, c.shell)
			}
			if c.addr != "" && r.Addr != c.addr {
				t.Errorf("addr %q, want %q", r.Addr, c.addr)
			}
		})
	}
}

// TestExecuteSilentBudgetBoundsEveryTry: with login_timeout disabled (as
// under Pacemaker) a device whose plugin has no timeout of its own still
// fails when the silent-device budget is spent, as "not answering".
func TestExecuteSilentBudgetBoundsEveryTry(t *testing.T) {
	req := fast(ActionOff)
	req.LoginTimeout, req.SilentBudget, req.Addr = 0, 80*time.Millisecond, "bmc:623"
	clk := logical()
	res := ExecuteWith(context.Background(), clk, openerHang(clk), req)
	var se *SilentError
	if res.OK || !errors.As(res.Err, &se) || !errors.Is(res.Err, ErrUnreachable) {
		t.Fatalf("res = %+v, want a SilentError", res)
	}
	if se.Attempts < 1 || se.Addr != "bmc:623" || !strings.Contains(res.Err.Error(), "no answer from bmc:623") {
		t.Errorf("error %q does not name the address and attempts", res.Err)
	}
	if got := res.Message(); got != "Failed: Unable to connect/login to fencing device: device not answering" {
		t.Errorf("Message() = %q", got)
	}
}

// TestRefusalIsNotATimeout: a device that rejects the power command keeps
// fence-agents' message ("Timed out waiting to power OFF") but is
// classified as a refusal, at once, for the fence history.
func TestRefusalIsNotATimeout(t *testing.T) {
	res := ExecuteWith(context.Background(), logical(), (&fakeDevice{state: PowerOn, setErr: errors.New("completion code 0xd5")}).opener(), fast(ActionOff))
	if res.OK || res.Message() != "Failed: Timed out waiting to power OFF" {
		t.Fatalf("res %+v message %q", res, res.Message())
	}
	if c := Classify(res.Err); c != ClassRefused {
		t.Fatalf("class %s, want refused (%v)", c, res.Err)
	}
	if res.Elapsed != 0 {
		t.Errorf("a refusal took %v of logical time", res.Elapsed)
	}
	for err, want := range map[error]Class{
		nil: ClassOK, context.Canceled: ClassCancelled, ErrNoAnswer: ClassUnreachable, ErrLoginDenied: ClassDenied,
		context.DeadlineExceeded: ClassTimeout, ErrStatus: ClassStatus, errors.New("x"): ClassError,
	} {
		if got := Classify(err); got != want {
			t.Errorf("Classify(%v) = %s, want %s", err, got, want)
		}
	}
}
