// Package redfishsim is a Redfish BMC for tests: an HTTPS server (with a
// freshly generated self-signed certificate) that serves a service root,
// a session service, a systems collection and ComputerSystem resources
// with the ComputerSystem.Reset action, the way iDRAC, iLO and OpenBMC do.
//
//	sim, err := redfishsim.Start(redfishsim.Options{Transition: 300 * time.Millisecond})
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(sim.Stop)
//	// https://sim.Host:sim.Port, user sim.User / sim.Password,
//	// trust sim.CAFile (SSL_CERT_FILE for Go, REQUESTS_CA_BUNDLE for Python)
//
// What it models:
//   - authentication by HTTP basic auth or by a session (POST to the
//     Sessions collection returns X-Auth-Token and Location; DELETE ends
//     it); Sessions counts the open ones so a test can see a client that
//     forgot to log out;
//   - the reset types the system advertises (ResetType@Redfish.AllowableValues,
//     or an ActionInfo resource with Options.ActionInfo), and a 400 with
//     @Message.ExtendedInfo for any other;
//   - slow power changes: after ForceOff the system reports PoweringOff for
//     Options.Transition before Off (PoweringOn likewise);
//   - faults: Inject makes requests matching a method and path fail with a
//     given HTTP status and body; IgnoreResets accepts resets and does
//     nothing (a BMC that never performs);
//   - a hung BMC (Hang: connections are taken by the kernel and never
//     answered) and a stopped one (ClosePort: the port refuses, the
//     system's state is kept for OpenPort).
//
// With Options.Netns the port is opened inside a network namespace (a lab
// namespace, so a Pacemaker node in the lab reaches the BMC); the server
// itself stays in the test process.
package redfishsim

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"palisade/hw-tests/lab"
)

// Options configure a simulator. The zero value is one powered-on system
// "1" with user "admin" / password "secret", sessions enabled, instant
// power changes and the usual reset types.
type Options struct {
	User, Password string
	// PoweredOff starts the system(s) off.
	PoweredOff bool
	// Transition is how long PoweringOn / PoweringOff last after a reset.
	Transition time.Duration
	// Systems is the number of ComputerSystem members (default 1); their
	// ids are SystemID, SystemID-2, ...
	Systems  int
	SystemID string // default "1"
	// ResetTypes are the advertised reset types (default On, ForceOff,
	// GracefulShutdown, ForceRestart, Nmi, PushPowerButton).
	ResetTypes []string
	// ActionInfo advertises the reset types in a ResetActionInfo resource
	// instead of ResetType@Redfish.AllowableValues.
	ActionInfo bool
	// NoSessions removes the session service (basic auth only).
	NoSessions bool
	// Host to listen on (default 127.0.0.1), Port (default a free one).
	Host string
	Port int
	// Dir holds the CA file; default a new temporary directory Stop removes.
	Dir string
	// Netns opens the port inside this named network namespace (ip netns
	// add); Host is then an address of that namespace.
	Netns string
}

// Fault makes matching requests fail.
type Fault struct {
	Method string // "" = any
	// Path matches when the request path ends with it ("" = any).
	Path   string
	Status int
	Body   string
	// Times is how many requests fail (0 = until Clear).
	Times int
	// Delay holds the answer back (a BMC that is slow to answer).
	Delay time.Duration
}

// Sim is a running simulator.
type Sim struct {
	Host     string
	Port     int
	User     string
	Password string
	// CAFile is the PEM certificate to trust.
	CAFile string
	URL    string // https://host:port

	opts   Options
	srv    *http.Server
	ln     net.Listener
	ownDir bool
	dir    string

	mu       sync.Mutex
	tlsConf  *tls.Config
	hung     chan struct{} // non-nil while hung; closed by Hang(false)
	systems  []*system
	sessions map[string]string // token -> session id
	nextSess int
	created  int
	faults   []*Fault
	ignore   bool
	resets   []string
	requests []string
}

type system struct {
	id    string
	on    bool // the state the system is in or moving to
	until time.Time
}

// state is the PowerState the system reports now.
func (s *system) state(now time.Time) string {
	switch {
	case now.Before(s.until) && s.on:
		return "PoweringOn"
	case now.Before(s.until):
		return "PoweringOff"
	case s.on:
		return "On"
	}
	return "Off"
}

// Start runs the simulator on an HTTPS port and returns when it accepts
// connections.
func Start(o Options) (*Sim, error) {
	if o.User == "" {
		o.User = "admin"
	}
	if o.Password == "" {
		o.Password = "secret"
	}
	if o.Systems <= 0 {
		o.Systems = 1
	}
	if o.SystemID == "" {
		o.SystemID = "1"
	}
	if o.ResetTypes == nil {
		o.ResetTypes = []string{"On", "ForceOff", "GracefulShutdown", "ForceRestart", "Nmi", "PushPowerButton"}
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	s := &Sim{Host: o.Host, User: o.User, Password: o.Password, opts: o, sessions: map[string]string{}, dir: o.Dir}
	for i := 0; i < o.Systems; i++ {
		id := o.SystemID
		if i > 0 {
			id = fmt.Sprintf("%s-%d", o.SystemID, i+1)
		}
		s.systems = append(s.systems, &system{id: id, on: !o.PoweredOff})
	}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "redfishsim-")
		if err != nil {
			return nil, fmt.Errorf("redfishsim: %w", err)
		}
		s.dir, s.ownDir = d, true
	}
	cert, certPEM, err := selfSigned(o.Host)
	if err != nil {
		s.cleanup()
		return nil, err
	}
	s.CAFile = filepath.Join(s.dir, "bmc-ca.pem")
	if err := os.WriteFile(s.CAFile, certPEM, 0o644); err != nil {
		s.cleanup()
		return nil, fmt.Errorf("redfishsim: %w", err)
	}
	s.Port = o.Port
	s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 5 * time.Second,
	}
	// TLS handshake errors (clients that do not trust the certificate, by
	// design in some tests) are not failures of the simulator.
	s.srv.ErrorLog = discardLog()
	if err := s.listen(); err != nil {
		s.cleanup()
		return nil, err
	}
	s.URL = "https://" + net.JoinHostPort(o.Host, strconv.Itoa(s.Port))
	return s, nil
}

// listen opens the port (in Options.Netns if set) and serves it.
func (s *Sim) listen() error {
	var ln net.Listener
	open := func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(s.opts.Host, strconv.Itoa(s.Port)))
		return err
	}
	var err error
	if s.opts.Netns != "" {
		err = lab.InNetns(s.opts.Netns, open)
	} else {
		err = open()
	}
	if err != nil {
		return fmt.Errorf("redfishsim: listening: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.Port = ln.Addr().(*net.TCPAddr).Port
	// The TLS layer is added here rather than by ServeTLS so the hang
	// gate sits below it: a hung BMC does not even complete a handshake.
	go func() { _ = s.srv.Serve(tls.NewListener(&gatedListener{Listener: ln, s: s}, s.tlsConf)) }()
	return nil
}

// ClosePort closes the port, as a BMC whose web server stopped: connections
// are refused. The systems keep their state; OpenPort opens it again.
func (s *Sim) ClosePort() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return nil
	}
	return ln.Close()
}

// OpenPort opens the port closed by ClosePort again (same address).
func (s *Sim) OpenPort() error { return s.listen() }

// Hang makes the BMC answer nothing (hang true) or answer again: while
// hung, connections complete in the kernel but are not accepted, and
// requests already being read get no answer, as with a BMC whose firmware
// is stuck.
func (s *Sim) Hang(hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case hang && s.hung == nil:
		s.hung = make(chan struct{})
	case !hang && s.hung != nil:
		close(s.hung)
		s.hung = nil
	}
}

// waitAwake blocks while the BMC is hung (or until ctx ends).
func (s *Sim) waitAwake(ctx context.Context) error {
	s.mu.Lock()
	h := s.hung
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	select {
	case <-h:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gatedListener holds accepted connections while the BMC is hung.
type gatedListener struct {
	net.Listener
	s *Sim
}

func (l *gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	_ = l.s.waitAwake(context.Background())
	return c, nil
}

// Stop closes the server and removes its files. Safe to call twice.
func (s *Sim) Stop() {
	s.Hang(false)
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
		_ = s.srv.Close()
	}
	s.cleanup()
}

func (s *Sim) cleanup() {
	if s.ownDir && s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// SystemURI is the path of system i (0-based).
func (s *Sim) SystemURI(i int) string { return "/redfish/v1/Systems/" + s.systems[i].id }

// Power reports whether system 0 is on, or moving to on.
func (s *Sim) Power() bool { return s.PowerOf(0) }

// PowerOf reports whether system i is on, or moving to on.
func (s *Sim) PowerOf(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.systems[i].on
}

// PowerState is what system 0 reports now ("On", "PoweringOff", ...).
func (s *Sim) PowerState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.systems[0].state(time.Now())
}

// SetPower switches every system on or off at once, behind the BMC's back.
func (s *Sim) SetPower(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sys := range s.systems {
		sys.on, sys.until = on, time.Time{}
	}
}

// Inject adds a fault; Clear removes them all.
func (s *Sim) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := f
	s.faults = append(s.faults, &cp)
}

// Clear removes every fault and stops ignoring resets.
func (s *Sim) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.ignore = nil, false
}

// IgnoreResets makes resets succeed (204) without changing anything.
func (s *Sim) IgnoreResets(ignore bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignore = ignore
}

// Sessions is the number of open sessions; Created counts every session
// ever created.
func (s *Sim) Sessions() (open, created int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions), s.created
}

// DropSessions ends every session on the BMC's side (as a session timeout
// or a BMC reboot does); clients must log in again.
func (s *Sim) DropSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string]string{}
}

// Resets lists the reset types received so far (accepted or not).
func (s *Sim) Resets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.resets)
}

// Requests lists "METHOD PATH" of every request so far.
func (s *Sim) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetLog forgets the recorded resets and requests.
func (s *Sim) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets, s.requests = nil, nil
}

// ErrorBody is a Redfish error response with one @Message.ExtendedInfo
// entry, as BMCs send with 4xx/5xx answers.
func ErrorBody(id, msg, resolution string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code":    "Base.1.8.GeneralError",
		"message": "A general error has occurred. See ExtendedInfo for more information.",
		"@Message.ExtendedInfo": []map[string]any{{
			"@odata.type": "#Message.v1_1_1.Message", "MessageId": id, "Message": msg,
			"Severity": "Critical", "MessageSeverity": "Critical", "Resolution": resolution,
		}},
	}})
	return string(b)
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	if s.waitAwake(r.Context()) != nil {
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+path)
	f := s.matchFault(r.Method, path)
	s.mu.Unlock()
	if f != nil {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.Status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			io.WriteString(w, f.Body)
			return
		}
	}
	w.Header().Set("OData-Version", "4.0")
	switch {
	case path == "/redfish":
		writeJSON(w, 200, map[string]any{"v1": "/redfish/v1/"})
		return
	case path == "/redfish/v1":
		s.root(w)
		return
	case path == "/redfish/v1/SessionService/Sessions" && r.Method == http.MethodPost && !s.opts.NoSessions:
		s.login(w, r)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="redfishsim"`)
		writeJSON(w, 401, json.RawMessage(ErrorBody("Base.1.8.NoValidSession",
			"There is no valid session established with the implementation.", "Establish a session before attempting any operations.")))
		return
	}
	switch {
	case strings.HasPrefix(path, "/redfish/v1/SessionService") && !s.opts.NoSessions:
		s.sessionService(w, r, path)
	case path == "/redfish/v1/Systems" && r.Method == http.MethodGet:
		s.mu.Lock()
		var members []map[string]string
		for i := range s.systems {
			members = append(members, map[string]string{"@odata.id": s.SystemURI(i)})
		}
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{
			"@odata.id": "/redfish/v1/Systems", "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
			"Name": "Computer System Collection", "Members": members, "Members@odata.count": len(members),
		})
	case strings.HasPrefix(path, "/redfish/v1/Systems/"):
		s.systemResource(w, r, strings.TrimPrefix(path, "/redfish/v1/Systems/"))
	default:
		writeJSON(w, 404, json.RawMessage(ErrorBody("Base.1.8.ResourceMissingAtURI",
			"The resource at the URI "+path+" was not found.", "Place a valid resource at the URI or correct the URI and resubmit the request.")))
	}
}

func (s *Sim) matchFault(method, path string) *Fault {
	for i, f := range s.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, method)) && strings.HasSuffix(path, strings.TrimSuffix(f.Path, "/")) {
			if f.Times > 0 {
				f.Times--
				if f.Times == 0 {
					s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				}
			}
			return f
		}
	}
	return nil
}

func (s *Sim) root(w http.ResponseWriter) {
	root := map[string]any{
		"@odata.id": "/redfish/v1/", "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
		"Id": "RootService", "Name": "Root Service", "RedfishVersion": "1.8.0",
		"UUID":    "92384634-2938-2342-8820-489239905423",
		"Systems": map[string]string{"@odata.id": "/redfish/v1/Systems"},
	}
	if !s.opts.NoSessions {
		root["SessionService"] = map[string]string{"@odata.id": "/redfish/v1/SessionService"}
		root["Links"] = map[string]any{"Sessions": map[string]string{"@odata.id": "/redfish/v1/SessionService/Sessions"}}
	}
	writeJSON(w, 200, root)
}

func (s *Sim) authorized(r *http.Request) bool {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.sessions[tok]
		return ok
	}
	u, p, ok := r.BasicAuth()
	return ok && s.credentialsOK(u, p)
}

func (s *Sim) credentialsOK(u, p string) bool {
	return subtle.ConstantTimeCompare([]byte(u), []byte(s.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(s.Password)) == 1
}

func (s *Sim) login(w http.ResponseWriter, r *http.Request) {
	var body struct{ UserName, Password string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
		writeJSON(w, 400, json.RawMessage(ErrorBody("Base.1.8.MalformedJSON",
			"The request body submitted was malformed JSON and could not be parsed by the receiving service.", "Ensure that the request body is valid JSON and resubmit the request.")))
		return
	}
	if !s.credentialsOK(body.UserName, body.Password) {
		writeJSON(w, 401, json.RawMessage(ErrorBody("Base.1.8.NoValidSession",
			"Invalid username or password.", "Correct the credentials and resubmit the request.")))
		return
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s.mu.Lock()
	s.nextSess++
	s.created++
	id := strconv.Itoa(s.nextSess)
	token := hex.EncodeToString(tok)
	s.sessions[token] = id
	s.mu.Unlock()
	loc := "/redfish/v1/SessionService/Sessions/" + id
	w.Header().Set("X-Auth-Token", token)
	w.Header().Set("Location", loc)
	writeJSON(w, 201, map[string]any{"@odata.id": loc, "@odata.type": "#Session.v1_1_0.Session", "Id": id, "Name": "User Session", "UserName": body.UserName})
}

func (s *Sim) sessionService(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "/redfish/v1/SessionService" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"@odata.id": "/redfish/v1/SessionService", "Id": "SessionService",
			"ServiceEnabled": true, "SessionTimeout": 1800, "Sessions": map[string]string{"@odata.id": "/redfish/v1/SessionService/Sessions"}})
	case path == "/redfish/v1/SessionService/Sessions" && r.Method == http.MethodGet:
		s.mu.Lock()
		var members []map[string]string
		for _, id := range s.sessions {
			members = append(members, map[string]string{"@odata.id": "/redfish/v1/SessionService/Sessions/" + id})
		}
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"@odata.id": "/redfish/v1/SessionService/Sessions", "Members": members, "Members@odata.count": len(members)})
	case strings.HasPrefix(path, "/redfish/v1/SessionService/Sessions/") && r.Method == http.MethodDelete:
		id := strings.TrimPrefix(path, "/redfish/v1/SessionService/Sessions/")
		s.mu.Lock()
		found := false
		for tok, sid := range s.sessions {
			if sid == id {
				delete(s.sessions, tok)
				found = true
			}
		}
		s.mu.Unlock()
		if !found {
			writeJSON(w, 404, json.RawMessage(ErrorBody("Base.1.8.ResourceMissingAtURI", "The session "+id+" was not found.", "")))
			return
		}
		w.WriteHeader(204)
	default:
		writeJSON(w, 405, json.RawMessage(ErrorBody("Base.1.8.OperationNotAllowed", "The HTTP method is not allowed for the URI.", "")))
	}
}

func (s *Sim) system(id string) *system {
	for _, sys := range s.systems {
		if sys.id == id {
			return sys
		}
	}
	return nil
}

func (s *Sim) systemResource(w http.ResponseWriter, r *http.Request, rest string) {
	id, sub, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	sys := s.system(id)
	s.mu.Unlock()
	if sys == nil {
		writeJSON(w, 404, json.RawMessage(ErrorBody("Base.1.8.ResourceMissingAtURI", "The resource at the URI "+r.URL.Path+" was not found.", "")))
		return
	}
	uri := "/redfish/v1/Systems/" + id
	switch {
	case sub == "" && r.Method == http.MethodGet:
		s.mu.Lock()
		state := sys.state(time.Now())
		s.mu.Unlock()
		reset := map[string]any{"target": uri + "/Actions/ComputerSystem.Reset"}
		if s.opts.ActionInfo {
			reset["@Redfish.ActionInfo"] = uri + "/ResetActionInfo"
		} else {
			reset["ResetType@Redfish.AllowableValues"] = s.opts.ResetTypes
		}
		writeJSON(w, 200, map[string]any{
			"@odata.id": uri, "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
			"Id": id, "Name": "System " + id, "SystemType": "Physical", "Manufacturer": "Palisade",
			"Model": "redfishsim", "PowerState": state,
			"Status":  map[string]string{"State": "Enabled", "Health": "OK"},
			"Actions": map[string]any{"#ComputerSystem.Reset": reset},
		})
	case sub == "ResetActionInfo" && r.Method == http.MethodGet && s.opts.ActionInfo:
		writeJSON(w, 200, map[string]any{
			"@odata.id": uri + "/ResetActionInfo", "@odata.type": "#ActionInfo.v1_1_2.ActionInfo", "Id": "ResetActionInfo",
			"Name":       "Reset Action Info",
			"Parameters": []map[string]any{{"Name": "ResetType", "Required": true, "DataType": "String", "AllowableValues": s.opts.ResetTypes}},
		})
	case sub == "Actions/ComputerSystem.Reset" && r.Method == http.MethodPost:
		s.reset(w, r, sys)
	default:
		writeJSON(w, 405, json.RawMessage(ErrorBody("Base.1.8.OperationNotAllowed", "The HTTP method is not allowed for the URI.", "")))
	}
}

func (s *Sim) reset(w http.ResponseWriter, r *http.Request, sys *system) {
	var body struct{ ResetType string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
		writeJSON(w, 400, json.RawMessage(ErrorBody("Base.1.8.MalformedJSON",
			"The request body submitted was malformed JSON and could not be parsed by the receiving service.", "Ensure that the request body is valid JSON and resubmit the request.")))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets = append(s.resets, body.ResetType)
	if !slices.Contains(s.opts.ResetTypes, body.ResetType) {
		writeJSON(w, 400, json.RawMessage(ErrorBody("Base.1.8.ActionParameterValueNotInList",
			fmt.Sprintf("The value %s for the parameter ResetType is not in the list of acceptable values.", body.ResetType),
			"Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.")))
		return
	}
	if s.ignore {
		w.WriteHeader(204)
		return
	}
	now := time.Now()
	cur := sys.state(now)
	switch body.ResetType {
	case "On", "ForceOn":
		if cur == "On" {
			// As iDRAC does: a conflict, which clients must tolerate.
			writeJSON(w, 409, json.RawMessage(ErrorBody("Base.1.8.PropertyValueConflict", "The system is already powered on.", "")))
			return
		}
		sys.on, sys.until = true, now.Add(s.opts.Transition)
	case "ForceOff", "GracefulShutdown":
		if cur == "Off" {
			writeJSON(w, 409, json.RawMessage(ErrorBody("Base.1.8.PropertyValueConflict", "The system is already powered off.", "")))
			return
		}
		sys.on, sys.until = false, now.Add(s.opts.Transition)
	case "PushPowerButton":
		sys.on, sys.until = !sys.on, now.Add(s.opts.Transition)
	case "ForceRestart", "PowerCycle", "GracefulRestart":
		// Off and on again: it comes back on after the transition.
		sys.on, sys.until = true, now.Add(s.opts.Transition)
	case "Nmi":
	}
	w.WriteHeader(204)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"error":{"code":"Base.1.8.InternalError","message":"encoding"}}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
