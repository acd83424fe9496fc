package fence

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
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
func (s scenario) build() (*fakeDevice, Opener, Request, error) {
	dev := &fakeDevice{}
	var open Opener
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
				return nil, nil, Request{}, fmt.Errorf("device: lag=%q is not a number", v)
			}
			dev.lagReads = n
		case w == "login=denied":
			open = openerErr(fmt.Errorf("bmc: %w", ErrLoginDenied))
		case w == "login=hang":
			open = openerHang()
		default:
			return nil, nil, Request{}, fmt.Errorf("device: unknown word %q", w)
		}
	}
	if open == nil {
		open = dev.opener()
	}
	f := strings.Fields(s.request)
	if len(f) == 0 {
		return nil, nil, Request{}, fmt.Errorf("request: no action")
	}
	a, ok := ParseAction(f[0])
	if !ok {
		return nil, nil, Request{}, fmt.Errorf("request: unknown action %q", f[0])
	}
	req := fast(a)
	for _, w := range f[1:] {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "method":
			req.Method = Method(v)
		case "retry_on":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, nil, Request{}, fmt.Errorf("request: retry_on=%q", v)
			}
			req.RetryOn = n
		default:
			return nil, nil, Request{}, fmt.Errorf("request: unknown option %q", w)
		}
	}
	return dev, open, req, nil
}

var sentinels = map[string]error{
	"timed-out-off": ErrTimedOutOff, "timed-out-on": ErrTimedOutOn, "status": ErrStatus,
	"login-denied": ErrLoginDenied, "unreachable": ErrUnreachable, "unsupported": ErrUnsupported,
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
	for _, name := range []string{"timed-out-off", "timed-out-on", "status", "login-denied", "unreachable", "unsupported"} {
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
		dev, open, req, err := s.build()
		if err != nil {
			d.Fatalf(t, "%s: %v", s.name, err)
		}
		res := Execute(context.Background(), open, req)
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
