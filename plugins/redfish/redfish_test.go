package redfish

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/fence"
	"palisade/hw-tests/redfishsim"
)

func startSim(t testing.TB, o redfishsim.Options) *redfishsim.Sim {
	t.Helper()
	s, err := redfishsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// params are the fence options for sim, trusting its certificate.
func params(s *redfishsim.Sim, extra ...string) map[string]string {
	p := map[string]string{
		"ip": s.Host, "ipport": strconv.Itoa(s.Port), "username": s.User, "password": s.Password,
		"ssl_ca_file": s.CAFile, "power_timeout": "5", "stonith_status_sleep": "0.05", "login_timeout": "5",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(p, extra[i])
			continue
		}
		p[extra[i]] = extra[i+1]
	}
	return p
}

func agent(t *testing.T, p map[string]string) *fence.Agent {
	t.Helper()
	a, err := fence.NewAgent("fence_redfish", p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func do(t *testing.T, a *fence.Agent, act fence.Action) fence.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return a.Do(ctx, act)
}

func TestActionsWithSessionsAndBasicAuth(t *testing.T) {
	for _, method := range []string{"session", "basic"} {
		t.Run(method, func(t *testing.T) {
			s := startSim(t, redfishsim.Options{Transition: 150 * time.Millisecond})
			a := agent(t, params(s, "auth_method", method))
			steps := []struct {
				act   fence.Action
				state fence.PowerState
				on    bool
			}{
				{fence.ActionStatus, fence.PowerOn, true},
				{fence.ActionOff, fence.PowerOff, false},
				{fence.ActionStatus, fence.PowerOff, false},
				{fence.ActionOff, fence.PowerOff, false}, // already
				{fence.ActionOn, fence.PowerOn, true},
				{fence.ActionReboot, fence.PowerOn, true},
				{fence.ActionDiag, fence.PowerUnknown, true},
				{fence.ActionMonitor, fence.PowerOn, true},
			}
			for _, st := range steps {
				res := do(t, a, st.act)
				if !res.OK {
					t.Fatalf("%s: %v", st.act, res)
				}
				if st.state != fence.PowerUnknown && res.State != st.state {
					t.Errorf("%s: state %s, want %s", st.act, res.State, st.state)
				}
				if s.Power() != st.on {
					t.Errorf("%s: machine on=%v, want %v", st.act, s.Power(), st.on)
				}
				if open, _ := s.Sessions(); open != 0 {
					t.Errorf("%s: %d sessions left open", st.act, open)
				}
			}
			_, created := s.Sessions()
			if method == "basic" && created != 0 || method == "session" && created != len(steps) {
				t.Errorf("%d sessions created for %d requests with auth_method=%s", created, len(steps), method)
			}
			want := []string{"ForceOff", "On", "ForceOff", "On", "Nmi"}
			if got := s.Resets(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("resets %v, want %v", got, want)
			}
		})
	}
}

// TestTransitionsAreNotFinal: PoweringOff is neither OFF nor an answer;
// a status read during it waits for Off, and one that outlasts
// power_timeout fails instead of guessing.
func TestTransitionsAreNotFinal(t *testing.T) {
	s := startSim(t, redfishsim.Options{Transition: 400 * time.Millisecond})
	a := agent(t, params(s))
	if res := do(t, a, fence.ActionOff); !res.Fenced() || s.PowerState() != "Off" {
		t.Fatalf("off through a 400 ms transition: %v (sim %s)", res, s.PowerState())
	}
	s.SetPower(true)
	slow := agent(t, params(s, "power_timeout", "0.15"))
	res := do(t, slow, fence.ActionOff)
	if res.OK || !errors.Is(res.Err, fence.ErrTimedOutOff) || !strings.Contains(res.Err.Error(), "PoweringOff") {
		t.Fatalf("off slower than power_timeout: %v", res)
	}
	// The first read of the next request waits the transition out.
	if res := do(t, a, fence.ActionStatus); !res.OK || res.State != fence.PowerOff {
		t.Fatalf("status after the transition: %v", res)
	}
}

func TestCertificateVerification(t *testing.T) {
	s := startSim(t, redfishsim.Options{})
	res := do(t, agent(t, params(s, "ssl_ca_file", "")), fence.ActionStatus)
	if res.OK || !strings.Contains(res.Err.Error(), "certificate is not trusted") || !errors.Is(res.Err, fence.ErrConfig) {
		t.Fatalf("untrusted certificate: want a configuration error (reported at once, never retried): %v", res)
	}
	if res := do(t, agent(t, params(s, "ssl_ca_file", "", "ssl_insecure", "1")), fence.ActionStatus); !res.OK {
		t.Fatalf("ssl_insecure: %v", res)
	}
	// SSL_CERT_FILE is read once per process, so trusting the BMC through
	// it is tested with the fence_redfish command (hw-tests).
}

func TestLoginFailures(t *testing.T) {
	s := startSim(t, redfishsim.Options{})
	for _, method := range []string{"session", "basic"} {
		res := do(t, agent(t, params(s, "password", "wrong-pw", "auth_method", method)), fence.ActionStatus)
		if res.OK || !errors.Is(res.Err, fence.ErrLoginDenied) {
			t.Errorf("%s with a wrong password: %v", method, res)
		}
		if strings.Contains(res.Err.Error(), "wrong-pw") {
			t.Errorf("the password leaked into the error: %v", res.Err)
		}
		if !strings.Contains(res.Err.Error(), "HTTP 401") {
			t.Errorf("%s: the error does not say what the BMC answered: %v", method, res.Err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	res := do(t, agent(t, params(s, "ipport", port)), fence.ActionStatus)
	if res.OK || !errors.Is(res.Err, fence.ErrUnreachable) {
		t.Errorf("nothing listening: %v", res)
	}
	if errors.Is(res.Err, fence.ErrNoAnswer) {
		t.Errorf("a refused connection is not a silent BMC (it must fail at once): %v", res.Err)
	}
	// A BMC that accepts the connection and never answers: tried again
	// (login_timeout each) until the silent-device budget (power_timeout
	// here) is spent, then reported as not answering.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	res = do(t, agent(t, params(s, "ipport", strconv.Itoa(silent.Addr().(*net.TCPAddr).Port), "login_timeout", "0.3", "power_timeout", "1")), fence.ActionStatus)
	if res.OK || !errors.Is(res.Err, fence.ErrNoAnswer) || !strings.Contains(res.Err.Error(), "login attempts") || time.Since(start) > 5*time.Second {
		t.Errorf("silent BMC: %v after %s", res, time.Since(start))
	}
}

// TestErrorBodiesAreReported: a refused reset fails at once with the
// BMC's status and @Message.ExtendedInfo, not after power_timeout.
func TestErrorBodiesAreReported(t *testing.T) {
	s := startSim(t, redfishsim.Options{})
	s.Inject(redfishsim.Fault{Method: "POST", Path: "/Actions/ComputerSystem.Reset", Status: 500,
		Body: redfishsim.ErrorBody("iDRAC.2.8.SYS446", "Unable to perform the operation because the server is in lockdown mode.", "Disable lockdown mode and retry.")})
	res := do(t, agent(t, params(s)), fence.ActionOff)
	if res.OK || res.Elapsed > 3*time.Second {
		t.Fatalf("refused reset: %v", res)
	}
	for _, want := range []string{"HTTP 500", "iDRAC.2.8.SYS446", "lockdown mode", "Resolution: Disable lockdown"} {
		if !strings.Contains(res.Err.Error(), want) {
			t.Errorf("error %q lacks %q", res.Err, want)
		}
	}
	if !s.Power() {
		t.Error("machine powered off although the reset was refused")
	}
	s.Clear()
	s.Inject(redfishsim.Fault{Method: "GET", Path: "/Systems/1", Status: 503, Body: "<html>maintenance</html>"})
	res = do(t, agent(t, params(s, "systems_uri", "/redfish/v1/Systems/1")), fence.ActionStatus)
	if res.OK || !errors.Is(res.Err, fence.ErrStatus) || !strings.Contains(res.Err.Error(), "HTTP 503 Service Unavailable: <html>maintenance</html>") {
		t.Errorf("status with a non-JSON 503: %v", res)
	}
	s.Clear()
	s.IgnoreResets(true)
	res = do(t, agent(t, params(s, "power_timeout", "0.3")), fence.ActionOff)
	if res.OK || !errors.Is(res.Err, fence.ErrTimedOutOff) {
		t.Errorf("BMC that ignores resets: %v", res)
	}
}

func TestAdvertisedResetTypes(t *testing.T) {
	t.Run("ForceOff not advertised", func(t *testing.T) {
		s := startSim(t, redfishsim.Options{ResetTypes: []string{"On", "GracefulShutdown"}})
		res := do(t, agent(t, params(s)), fence.ActionOff)
		if res.OK || !strings.Contains(res.Err.Error(), "none of [ForceOff]") {
			t.Fatalf("off: %v", res)
		}
		if len(s.Resets()) != 0 {
			t.Errorf("a reset was sent: %v", s.Resets())
		}
		res = do(t, agent(t, params(s, "off_reset_type", "GracefulShutdown")), fence.ActionOff)
		if !res.Fenced() || strings.Join(s.Resets(), ",") != "GracefulShutdown" {
			t.Fatalf("off_reset_type=GracefulShutdown: %v, resets %v", res, s.Resets())
		}
	})
	t.Run("ForceOn instead of On, from ActionInfo", func(t *testing.T) {
		s := startSim(t, redfishsim.Options{ResetTypes: []string{"ForceOn", "ForceOff"}, ActionInfo: true, PoweredOff: true})
		if res := do(t, agent(t, params(s)), fence.ActionOn); !res.OK || strings.Join(s.Resets(), ",") != "ForceOn" {
			t.Fatalf("on: %v, resets %v", res, s.Resets())
		}
	})
}

func TestSystemDiscovery(t *testing.T) {
	s := startSim(t, redfishsim.Options{Systems: 2, SystemID: "System.Embedded.1"})
	res := do(t, agent(t, params(s)), fence.ActionStatus)
	if res.OK || !errors.Is(res.Err, fence.ErrConfig) || !strings.Contains(res.Err.Error(), "/redfish/v1/Systems/System.Embedded.1-2") {
		t.Fatalf("two systems without systems_uri: %v", res)
	}
	a := agent(t, params(s, "systems-uri", s.SystemURI(1)))
	if res := do(t, a, fence.ActionOff); !res.Fenced() || s.PowerOf(1) || !s.PowerOf(0) {
		t.Fatalf("off of the second system: %v (on: %v %v)", res, s.PowerOf(0), s.PowerOf(1))
	}
	ns := startSim(t, redfishsim.Options{NoSessions: true})
	if res := do(t, agent(t, params(ns)), fence.ActionStatus); !res.OK {
		t.Fatalf("service without sessions: %v", res)
	}
}

// TestKeptSessionRenews: a Device kept open (the daemon's monitor) logs in
// again when its session is gone, and deletes its session on Close.
func TestKeptSessionRenews(t *testing.T) {
	s := startSim(t, redfishsim.Options{})
	cfg, err := ConfigFromOptions(fence.Options(params(s)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := cfg.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := d.Status(ctx, ""); err != nil || st != fence.PowerOn {
		t.Fatalf("status: %v %v", st, err)
	}
	s.DropSessions()
	if st, err := d.Status(ctx, ""); err != nil || st != fence.PowerOn {
		t.Fatalf("status after the BMC dropped the session: %v %v", st, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if open, created := s.Sessions(); open != 0 || created != 2 {
		t.Errorf("sessions open %d created %d, want 0 and 2", open, created)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"username": "a"}, "fence address"},
		{map[string]string{"ip": "h", "username": "a", "ipport": "70000"}, "not a TCP port"},
		{map[string]string{"ip": "h"}, "login name"},
		{map[string]string{"ip": "h", "username": "a", "systems_uri": "redfish/v1/Systems/1"}, "absolute URI"},
		{map[string]string{"ip": "h", "username": "a", "ssl_ca_file": "/nonexistent"}, "ssl_ca_file"},
		{map[string]string{"ip": "h", "username": "a", "off_reset_type": "PushPowerButton"}, "valid choice"},
	} {
		_, err := fence.NewAgent("fence_redfish", tc.params)
		if !errors.Is(err, fence.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want ErrConfig with %q", tc.params, err, tc.want)
		}
	}
	cfg, err := ConfigFromOptions(fence.Options{"ip": "bmc:8443", "username": "a"})
	if err != nil || cfg.Host != "bmc" || cfg.Port != 8443 {
		t.Errorf("ip host:port: %+v %v", cfg, err)
	}
}
