package fence

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"palisade/fence/clock"
)

// scenario is the input of one "execute" directive of testdata/execute.txt.
type scenario struct {
	name, device, request string
}

// parseScenario reads the "key: value" input lines of a directive.
func parseScenario(input string) (scenario, error) {
	var s scenario
	for _, line := range strings.Split(input, "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			return s, fmt.Errorf("want \"key: value\", got %q", line)
		}
		dst, ok := map[string]*string{"scenario": &s.name, "device": &s.device, "request": &s.request}[key]
		if !ok {
			return s, fmt.Errorf("unknown key %q (scenario, device, request)", key)
		}
		*dst = strings.TrimSpace(val)
	}
	return s, nil
}

// build turns a scenario's device and request lines into an Opener and a
// Request.
func (s scenario) build() (*fakeDevice, Opener, Request, *clock.Logical, error) {
	clk := clock.NewLogical(time.Unix(1e9, 0))
	dev := &fakeDevice{clk: clk}
	var open Opener
	silent, odd, refusedOpen := -1, 0, false
	for i, w := range strings.Fields(s.device) {
		k, v, _ := strings.Cut(w, "=")
		switch {
		case i == 0 && (w == "on" || w == "off"):
			dev.state = map[string]PowerState{"on": PowerOn, "off": PowerOff}[w]
		case w == "ignore-set":
			dev.ignoreSet = true
		case w == "ignore-on":
			dev.ignoreOn = true
		case w == "set-error":
			dev.setErr = errors.New("completion code 0xd5")
		case w == "status-error":
			dev.statusErr = errors.New("completion code 0xc0")
		case w == "cycle":
			dev.cycle = true
		case w == "cycle-error":
			dev.cycleErr = errors.New("completion code 0xcc")
		case k == "lag":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, nil, Request{}, nil, fmt.Errorf("device: lag=%q is not a number", v)
			}
			dev.lagReads = n
		case w == "login=denied":
			open = openerErr(fmt.Errorf("bmc: %w", ErrLoginDenied))
		case w == "login=hang":
			open = openerHang(clk)
		case w == "login=silent":
			silent = 1 << 30
		case strings.HasPrefix(w, "login=silent:"):
			n, err := strconv.Atoi(strings.TrimPrefix(w, "login=silent:"))
			if err != nil {
				return nil, nil, Request{}, nil, fmt.Errorf("device: %q: want login=silent:N", w)
			}
			silent = n
		case w == "login=odd":
			odd = 1 << 30
		case strings.HasPrefix(w, "login=odd:"):
			n, err := strconv.Atoi(strings.TrimPrefix(w, "login=odd:"))
			if err != nil {
				return nil, nil, Request{}, nil, fmt.Errorf("device: %q: want login=odd:N", w)
			}
			odd = n
		case w == "login=refused":
			refusedOpen = true
		case w == "status=silent-once":
			dev.silentReads = 1
		default:
			return nil, nil, Request{}, nil, fmt.Errorf("device: unknown word %q", w)
		}
	}
	if open == nil {
		open = dev.opener()
	}
	if refusedOpen {
		open = openerErr(fmt.Errorf("%w: nothing listening (connection refused)", ErrUnreachable))
	}
	f := strings.Fields(s.request)
	if len(f) == 0 {
		return nil, nil, Request{}, nil, fmt.Errorf("request: no action")
	}
	a, ok := ParseAction(f[0])
	if !ok {
		return nil, nil, Request{}, nil, fmt.Errorf("request: unknown action %q", f[0])
	}
	req := fast(a)
	if silent >= 0 {
		req.LoginTimeout = 5 * time.Second // logical: a silent try costs up to this much
	}
	for _, w := range f[1:] {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "method":
			req.Method = Method(v)
		case "retry_on":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, nil, Request{}, nil, fmt.Errorf("request: retry_on=%q", v)
			}
			req.RetryOn = n
		case "budget":
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, nil, Request{}, nil, fmt.Errorf("request: budget=%q", v)
			}
			req.SilentBudget = d
		default:
			return nil, nil, Request{}, nil, fmt.Errorf("request: unknown option %q", w)
		}
	}
	if odd > 0 {
		inner := open
		seen := 0
		open = func(ctx context.Context) (Device, error) {
			if seen < odd {
				seen++
				return nil, errors.New("bmc: RMCP+ status 0x97: Unknown")
			}
			return inner(ctx)
		}
	}
	if silent >= 0 {
		inner := open
		open = func(ctx context.Context) (Device, error) {
			dev.logins++
			if dev.logins <= silent {
				// The try lasts until its deadline: login_timeout, or what
				// is left of the budget for the last one.
				_ = clk.Sleep(ctx, clock.Forever)
				return nil, fmt.Errorf("%w: bmc: no reply", ErrNoAnswer)
			}
			return inner(ctx)
		}
	} else {
		inner := open
		open = func(ctx context.Context) (Device, error) { dev.logins++; return inner(ctx) }
	}
	return dev, open, req, clk, nil
}

var sentinels = map[string]error{
	"timed-out-off": ErrTimedOutOff, "timed-out-on": ErrTimedOutOn, "status": ErrStatus,
	"login-denied": ErrLoginDenied, "unreachable": ErrUnreachable, "unsupported": ErrUnsupported,
	"no-answer": ErrNoAnswer,
}

// render describes a result in the "want:" vocabulary.
func render(res Result, dev *fakeDevice) string {
	w := []string{"fail"}
	if res.OK {
		w[0] = "ok"
	}
	if res.Already {
		w = append(w, "already")
	}
	if res.OffVerified {
		w = append(w, "off-verified")
	}
	if len(res.Warnings) > 0 {
		w = append(w, "warn")
	}
	for _, name := range []string{"timed-out-off", "timed-out-on", "status", "login-denied", "unreachable", "no-answer", "unsupported"} {
		if errors.Is(res.Err, sentinels[name]) {
			w = append(w, "err="+name)
		}
	}
	w = append(w, "state="+res.State.String())
	sets := "-"
	if len(dev.sets) > 0 {
		var s []string
		for _, on := range dev.sets {
			s = append(s, map[bool]string{true: "on", false: "off"}[on])
		}
		sets = strings.Join(s, ",")
	}
	w = append(w, "sets="+sets)
	if dev.cycles > 0 {
		w = append(w, "cycles="+strconv.Itoa(dev.cycles))
	}
	if dev.logins != 1 {
		w = append(w, "logins="+strconv.Itoa(dev.logins))
	}
	var se *SilentError
	if errors.As(res.Err, &se) {
		w = append(w, fmt.Sprintf("gave-up-after=%s", se.Elapsed))
	}
	return strings.Join(w, " ")
}

// TestExecuteScenarios runs testdata/execute.txt with
// github.com/cockroachdb/datadriven; `go test -run ExecuteScenarios -rewrite`
// regenerates the expected results (review the diff).
func TestExecuteScenarios(t *testing.T) {
	datadriven.RunTest(t, "testdata/execute.txt", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "execute" {
			d.Fatalf(t, "unknown command %q", d.Cmd)
		}
		s, err := parseScenario(d.Input)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		dev, open, req, clk, err := s.build()
		if err != nil {
			d.Fatalf(t, "%s: %v", s.name, err)
		}
		res := ExecuteWith(context.Background(), clk, open, req)
		if res.Fenced() != (res.OK && res.OffVerified) {
			d.Fatalf(t, "%s: Fenced() disagrees with OK && OffVerified", s.name)
		}
		if !res.OK && res.Err == nil {
			d.Fatalf(t, "%s: failed without a reason", s.name)
		}
		if !strings.Contains(s.device, "login=") && !dev.closed {
			d.Fatalf(t, "%s: device session not closed", s.name)
		}
		return render(res, dev)
	})
}
