package redfishsim

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func client(t *testing.T, s *Sim) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
}

func do(t *testing.T, c *http.Client, method, url, body string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

// TestSimSessionsResetsAndTransitions drives the simulator with plain HTTP:
// the certificate verifies against CAFile, a session is needed, resets
// outside the advertised list are refused with ExtendedInfo, and a power
// change passes through PoweringOff.
func TestSimSessionsResetsAndTransitions(t *testing.T) {
	s, err := Start(Options{Transition: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c := client(t, s)
	sys := s.URL + s.SystemURI(0)
	if r, _ := do(t, c, "GET", sys, "", nil); r.StatusCode != 401 {
		t.Fatalf("unauthenticated GET: %d, want 401", r.StatusCode)
	}
	r, _ := do(t, c, "POST", s.URL+"/redfish/v1/SessionService/Sessions", `{"UserName":"admin","Password":"secret"}`, nil)
	tok, loc := r.Header.Get("X-Auth-Token"), r.Header.Get("Location")
	if r.StatusCode != 201 || tok == "" || loc == "" {
		t.Fatalf("login: %d token %q location %q", r.StatusCode, tok, loc)
	}
	auth := map[string]string{"X-Auth-Token": tok}
	if _, m := do(t, c, "GET", sys, "", auth); m["PowerState"] != "On" {
		t.Fatalf("PowerState %v", m["PowerState"])
	}
	r, m := do(t, c, "POST", sys+"/Actions/ComputerSystem.Reset", `{"ResetType":"PowerCycle"}`, auth)
	if r.StatusCode != 400 || !strings.Contains(toJSON(m), "ActionParameterValueNotInList") {
		t.Fatalf("unsupported reset: %d %v", r.StatusCode, m)
	}
	if r, _ := do(t, c, "POST", sys+"/Actions/ComputerSystem.Reset", `{"ResetType":"ForceOff"}`, auth); r.StatusCode != 204 {
		t.Fatalf("ForceOff: %d", r.StatusCode)
	}
	if _, m := do(t, c, "GET", sys, "", auth); m["PowerState"] != "PoweringOff" {
		t.Fatalf("right after ForceOff PowerState = %v, want PoweringOff", m["PowerState"])
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.PowerState() != "Off" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.PowerState(); got != "Off" {
		t.Fatalf("after the transition: %s", got)
	}
	if r, _ := do(t, c, "DELETE", s.URL+loc, "", auth); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if open, created := s.Sessions(); open != 0 || created != 1 {
		t.Errorf("sessions open %d created %d", open, created)
	}
	s.Inject(Fault{Method: "GET", Path: "/Systems/1", Status: 503, Body: ErrorBody("Base.1.8.ServiceTemporarilyUnavailable", "busy", ""), Times: 1})
	hdr := map[string]string{"Authorization": "Basic YWRtaW46c2VjcmV0"}
	if r, _ := do(t, c, "GET", sys, "", hdr); r.StatusCode != 503 {
		t.Errorf("injected fault: %d", r.StatusCode)
	}
	if r, _ := do(t, c, "GET", sys, "", hdr); r.StatusCode != 200 {
		t.Errorf("fault with Times 1 persisted: %d", r.StatusCode)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSimHangAndClosedPort: a hung BMC answers nothing (the client times
// out) and answers again after Hang(false); a closed port refuses, and
// OpenPort serves the same systems on the same port again.
func TestSimHangAndClosedPort(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c := client(t, s)
	c.Timeout = 500 * time.Millisecond
	// A fresh connection per request, as each fence agent run makes.
	c.Transport.(*http.Transport).DisableKeepAlives = true
	get := func() error {
		resp, err := c.Get(s.URL + "/redfish/v1")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	s.Hang(true)
	if err := get(); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("hung BMC: %v, want a timeout", err)
	}
	s.Hang(false)
	if err := get(); err != nil {
		t.Fatalf("after Hang(false): %v", err)
	}
	s.SetPower(false)
	port := s.Port
	if err := s.ClosePort(); err != nil {
		t.Fatal(err)
	}
	if err := get(); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("closed port: %v, want connection refused", err)
	}
	if err := s.OpenPort(); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil || s.Port != port || s.Power() {
		t.Fatalf("reopened: %v, port %d (was %d), power on=%v (was off)", err, s.Port, port, s.Power())
	}
}
