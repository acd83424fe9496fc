package fence

import (
	"context"
	"errors"
	"testing"
	"time"
)

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
	res := Execute(context.Background(), (&fakeDevice{state: PowerOn, ignoreSet: true}).opener(), fast(ActionOff))
	if got, want := res.Message(), "Failed: Timed out waiting to power OFF"; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	res = Execute(context.Background(), openerErr(ErrLoginDenied), fast(ActionStatus))
	if res.Message() == Execute(context.Background(), openerHang(), fast(ActionStatus)).Message() {
		t.Errorf("login denied and not answering have the same message %q", res.Message())
	}
}

// TestExecuteDeadline: the request's context bounds verification even with
// power_timeout disabled (0, as under Pacemaker).
func TestExecuteDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := fast(ActionOff)
	req.PowerTimeout = 0
	res := Execute(ctx, (&fakeDevice{state: PowerOn, ignoreSet: true}).opener(), req)
	if res.OK || !errors.Is(res.Err, ErrTimedOutOff) || !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("res = %+v, want timed out OFF wrapping the deadline", res)
	}
}

// TestExecuteDelay: delay applies to off/reboot and is cut short by ctx;
// status is never delayed.
func TestExecuteDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := fast(ActionOff)
	req.Delay = time.Hour
	if res := Execute(ctx, (&fakeDevice{state: PowerOn}).opener(), req); res.OK || !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("off with delay under a cancelled ctx = %+v", res)
	}
	req = fast(ActionStatus)
	req.Delay = time.Hour
	if res := Execute(context.Background(), (&fakeDevice{state: PowerOn}).opener(), req); !res.OK {
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
	if res := Execute(context.Background(), open, fast(ActionReboot)); !res.OK {
		t.Fatal(res)
	}
	if opens != 1 || !dev.closed {
		t.Errorf("opened %d sessions (closed %v), want exactly 1", opens, dev.closed)
	}
}
