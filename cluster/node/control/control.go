package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// MaxRequest bounds one request line.
const MaxRequest = 1 << 20

// codeForbidden is cluster/api's Forbidden (this package cannot import it).
const codeForbidden = "forbidden"

// Request is one command.
type Request struct {
	Cmd  string          `json:"cmd"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Response answers one Request.
type Response struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Code   string          `json:"code,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// Error is a refusal the daemon answered (Call returns it), with the code
// the handler's error carried (see package cluster/api).
type Error struct {
	Cmd     string
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Cmd + ": " + e.Message }

// ErrorCode returns the refusal's code ("" when the handler gave none).
func (e *Error) ErrorCode() string { return e.Code }

// Handler serves one command. args is the raw "args" value (may be empty).
// The returned value is encoded as the result; an error becomes
// {"ok":false,"error":...}.
type Handler func(ctx context.Context, args json.RawMessage) (any, error)

// Server accepts connections on a unix socket.
type Server struct {
	path     string
	ln       *net.UnixListener
	log      *slog.Logger
	policy   Policy
	mu       sync.RWMutex
	handlers map[string]Handler
}

// Options configure a Server beyond its path.
type Options struct {
	// Policy decides who may run what (the zero Policy: root only).
	Policy Policy
}

// Listen creates the socket at path with mode 0600 (root only), replacing
// a stale socket left by a crashed daemon but refusing to steal a live
// one.
func Listen(path string, log *slog.Logger) (*Server, error) {
	return ListenWith(path, log, Options{})
}

// ListenWith is Listen with a Policy. With a read or admin group the
// socket is mode 0666: unix sockets need write permission to connect, and
// the daemon checks each connection's kernel credentials (SO_PEERCRED)
// against the policy before reading a request, answering anyone else
// "permission denied".
func ListenWith(path string, log *slog.Logger, o Options) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("control socket %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another daemon is listening", path)
		}
		os.Remove(path)
	}
	// Create it without group/other bits from the start: no window in
	// which another user could connect.
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	mode := os.FileMode(0o600)
	if o.Policy.shared() {
		mode = 0o666
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	s := &Server{path: path, ln: ln, log: log, policy: o.Policy, handlers: map[string]Handler{}}
	s.Handle("help", func(context.Context, json.RawMessage) (any, error) { return s.Commands(), nil })
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Handle registers (or replaces) the handler for cmd.
func (s *Server) Handle(cmd string, h Handler) {
	s.mu.Lock()
	s.handlers[cmd] = h
	s.mu.Unlock()
}

// Commands lists the registered commands.
func (s *Server) Commands() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for k := range s.handlers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Serve accepts connections until ctx is done, then closes the listener
// and removes the socket file.
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		s.ln.Close()
	}()
	defer os.Remove(s.path)
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.log.Warn("control socket accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go s.serveConn(ctx, c)
	}
}

// Close stops accepting (Serve returns) and removes the socket file.
func (s *Server) Close() error {
	err := s.ln.Close()
	os.Remove(s.path)
	return err
}

func (s *Server) serveConn(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	enc := json.NewEncoder(c)
	peer, err := peerOf(c)
	if err != nil {
		s.log.Warn("control socket: connection refused", "err", err)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		enc.Encode(Response{Error: err.Error(), Code: codeForbidden})
		return
	}
	if peer.UID != 0 && !s.policy.shared() {
		// Not even a read group: nobody but root may talk to the daemon
		// (the socket's mode keeps them out already, unless it was changed).
		c.SetWriteDeadline(time.Now().Add(time.Second))
		enc.Encode(Response{Error: fmt.Sprintf("permission denied: %s (uid %d) is not root and no read or admin group is configured", peer.Name(), peer.UID), Code: codeForbidden})
		return
	}
	ctx = WithPeer(ctx, peer)
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), MaxRequest)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Minute))
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				enc.Encode(Response{Error: fmt.Sprintf("reading request: %v", err)})
			}
			return
		}
		resp := s.dispatch(ctx, sc.Bytes())
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

func (s *Server) dispatch(ctx context.Context, line []byte) (resp Response) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Response{Error: fmt.Sprintf("request is not JSON {\"cmd\":...,\"args\":...}: %v", err)}
	}
	s.mu.RLock()
	h, ok := s.handlers[req.Cmd]
	s.mu.RUnlock()
	if !ok {
		return Response{Error: fmt.Sprintf("unknown command %q; commands: %v", req.Cmd, s.Commands())}
	}
	peer, _ := PeerFrom(ctx)
	change, by, err := s.policy.allows(peer, req.Cmd)
	if err != nil {
		s.log.Warn("control socket: permission denied", "cmd", req.Cmd, "user", peer.Name(), "uid", peer.UID, "pid", peer.PID)
		return Response{Error: err.Error(), Code: codeForbidden}
	}
	if by {
		// Who made a change is what the kernel says, not what the client
		// claims: the event log's "by" comes from here.
		args, who, err := stampBy(req.Args, peer)
		if err != nil {
			return Response{Error: fmt.Sprintf("%s: %v", req.Cmd, err), Code: "bad_request"}
		}
		req.Args = args
		s.log.Info("control: change requested", "cmd", req.Cmd, "by", who, "uid", peer.UID, "pid", peer.PID)
	} else if change {
		s.log.Info("control: change requested", "cmd", req.Cmd, "by", peer.Name(), "uid", peer.UID, "pid", peer.PID)
	}
	defer func() {
		// A bug in one handler must not take the daemon down.
		if r := recover(); r != nil {
			s.log.Error("control handler panic", "cmd", req.Cmd, "panic", r)
			resp = Response{Error: fmt.Sprintf("%s: internal error", req.Cmd)}
		}
	}()
	res, err := h(ctx, req.Args)
	if err != nil {
		resp := Response{Error: err.Error()}
		var coded interface{ ErrorCode() string }
		if errors.As(err, &coded) {
			resp.Code = coded.ErrorCode()
		}
		return resp
	}
	b, err := json.Marshal(res)
	if err != nil {
		return Response{Error: fmt.Sprintf("%s: encoding result: %v", req.Cmd, err)}
	}
	return Response{OK: true, Result: b}
}

// Call sends one request to the daemon at path and decodes the result into
// result (if non-nil).
func Call(ctx context.Context, path, cmd string, args, result any) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("connecting to palisaded at %s: %w", path, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	req := Request{Cmd: cmd}
	if args != nil {
		if req.Args, err = json.Marshal(args); err != nil {
			return fmt.Errorf("%s: encoding args: %w", cmd, err)
		}
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return fmt.Errorf("%s: sending request: %w", cmd, err)
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return fmt.Errorf("%s: reading response from %s: %w", cmd, path, err)
	}
	if !resp.OK {
		return &Error{Cmd: cmd, Code: resp.Code, Message: resp.Error}
	}
	if result != nil && len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			return fmt.Errorf("%s: decoding result: %w", cmd, err)
		}
	}
	return nil
}
