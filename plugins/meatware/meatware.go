// Package meatware is fencing by a person: fence_manual (alias
// fence_meatware), the last level of a topology when every hardware
// device has failed. A request logs and alerts "operator intervention
// required: power off NODE and confirm", then waits (up to power_timeout,
// 600 s by default) for an operator to confirm that the node is off; only
// a confirmation makes it succeed.
//
// # Confirming
//
// While a request for NODE waits, it listens on the unix socket
// DIR/NODE.sock (DIR: the meatware_dir parameter, /run/palisade/meatware by
// default; the directory is 0700 and the socket 0600, and only root or the
// waiting process's own user may confirm). Heartbeat's meatware used a
// FIFO per node in the same way; a socket lets the request answer, so the
// operator knows the confirmation reached a waiting fence.
//
//	meatclient -c NODE            # Heartbeat's command: asks "PROCEED? [yN]", then confirms
//	palisade fence confirm NODE   # the daemon's command calls Confirm the same way
//
// The protocol is one line each way: "confirm NODE by WHO\n" is answered
// "OK fence of NODE confirmed\n" or "ERR why\n". Confirm is the client;
// Pending lists the nodes waiting.
//
// status answers ON until an operator confirmed (a person-operated device
// cannot see the machine: "not confirmed off" is all it knows); on is
// refused (power the node on by hand); reboot is an off whose "on" half is
// left to the operator (a warning).
package meatware

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"palisade/fence"
)

// DefaultDir is where waiting requests listen.
const DefaultDir = "/run/palisade/meatware"

// OptDir names the directory of the confirmation sockets.
const OptDir = "meatware_dir"

// Alerter is told when a request starts waiting for an operator (the
// daemon raises its alert; the command only logs).
type Alerter func(node, message string)

var alerter atomic.Pointer[Alerter]

// SetAlerter installs the function told about every request that waits
// for an operator; nil removes it.
func SetAlerter(a Alerter) {
	if a == nil {
		alerter.Store(nil)
		return
	}
	alerter.Store(&a)
}

// Plugin is fence_manual.
var Plugin = &fence.Plugin{
	Name:      "fence_manual",
	ShortDesc: "Fence agent for manual (human) fencing",
	LongDesc: "fence_manual asks a person to power a node off and waits, up to power_timeout, for the confirmation " +
		"(meatclient -c NODE or palisade fence confirm NODE). It is the last resort of a topology: it succeeds only when " +
		"an operator has confirmed that the node is off.",
	Aliases:   []fence.Alias{{Name: "fence_meatware", ShortDesc: "Fence agent for manual (human) fencing (Heartbeat's meatware)"}},
	HasPlugs:  true,
	OwnParams: true,
	Params: []fence.Param{
		{Name: fence.OptAction, Short: 'o', Type: fence.TypeString, Default: "off", Required: true, Placeholder: "[action]", ShortDesc: "Fencing action", Order: 1},
		{Name: fence.OptPlug, Short: 'n', Legacy: "port", Type: fence.TypeString, Required: true, Placeholder: "[node]", ShortDesc: "Name of the node an operator must power off", Order: 1},
		{Name: OptDir, Type: fence.TypeString, Default: DefaultDir, Placeholder: "[dir]", ShortDesc: "Directory of the confirmation sockets (DIR/NODE.sock)", Order: 2},
		{Name: fence.OptQuiet, Short: 'q', Type: fence.TypeBoolean, ShortDesc: "Disable logging to stderr. Does not affect --verbose or --debug-file or logging to syslog.", Order: 50},
		{Name: fence.OptVerbose, Short: 'v', Type: fence.TypeBoolean, ShortDesc: "Verbose mode", Order: 51},
		{Name: fence.OptVerboseLevel, Type: fence.TypeInteger, ShortDesc: "Level of debugging detail in output", Order: 52},
		{Name: fence.OptDebugFile, Short: 'D', Legacy: "debug", Type: fence.TypeString, Placeholder: "[debugfile]", ShortDesc: "Write debug information to given file", Order: 53},
		{Name: fence.OptVersion, Short: 'V', Type: fence.TypeBoolean, ShortDesc: "Display version information and exit", Order: 54},
		{Name: fence.OptHelp, Short: 'h', Type: fence.TypeBoolean, ShortDesc: "Display help and exit", Order: 55},
		{Name: fence.OptDelay, Type: fence.TypeSecond, Default: "0", Placeholder: "[seconds]", ShortDesc: "Wait X seconds before fencing is started", Order: 200},
		{Name: fence.OptPowerTimeout, Type: fence.TypeSecond, Default: "600", Placeholder: "[seconds]", ShortDesc: "Wait X seconds for the operator's confirmation", Order: 200},
		{Name: fence.OptStatusSleep, Type: fence.TypeSecond, Default: "1", Placeholder: "[seconds]", ShortDesc: "Sleep X seconds between status calls during a STONITH action", Order: 200},
		{Name: fence.OptDisableTmo, Type: fence.TypeString, Placeholder: "[true/false]", ShortDesc: "Disable timeout (true/false) (default: true when run from Pacemaker 2.0+)", Order: 200},
	},
	Open:   open,
	Manual: true,
}

func init() { fence.Register(Plugin) }

func open(o fence.Options) (fence.Opener, error) {
	node := o[fence.OptPlug]
	if err := checkNode(node); err != nil {
		return nil, err
	}
	if fence.Action(o[fence.OptAction]) == fence.ActionOn {
		return nil, fmt.Errorf("%w: meatware cannot power %s on: an operator must do it by hand", fence.ErrUnsupported, node)
	}
	dir := o[OptDir]
	if dir == "" {
		dir = DefaultDir
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("%w: %s %q must be an absolute path", fence.ErrConfig, OptDir, dir)
	}
	return func(context.Context) (fence.Device, error) {
		return &Device{dir: dir, confirmed: make(chan string, 1)}, nil
	}, nil
}

// checkNode refuses names that cannot be a socket file name.
func checkNode(node string) error {
	switch {
	case node == "":
		return fmt.Errorf("%w: plug: name the node an operator must power off", fence.ErrConfig)
	case strings.ContainsAny(node, "/\x00\n") || strings.HasPrefix(node, "."), len(node) > 64:
		return fmt.Errorf("%w: node name %q cannot name a confirmation socket", fence.ErrConfig, node)
	}
	return nil
}

// SocketPath is where a request for node listens.
func SocketPath(dir, node string) string { return filepath.Join(dir, node+".sock") }

// Device is one manual fence request.
type Device struct {
	dir string
	mu  sync.Mutex
	ln  *net.UnixListener
	// node is the node a request waits for; confirmed receives who
	// confirmed it.
	node      string
	confirmed chan string
	by        string
	wg        sync.WaitGroup
}

// Status is OFF once an operator confirmed this request, ON before. While
// a request waits it blocks until the confirmation or ctx ends, so a
// confirmation is seen at once.
func (d *Device) Status(ctx context.Context, node string) (fence.PowerState, error) {
	d.mu.Lock()
	by, waiting := d.by, d.ln != nil && d.node == node
	d.mu.Unlock()
	if by != "" {
		return fence.PowerOff, nil
	}
	if !waiting {
		return fence.PowerOn, nil
	}
	select {
	case who := <-d.confirmed:
		d.mu.Lock()
		d.by = who
		d.mu.Unlock()
		return fence.PowerOff, nil
	case <-ctx.Done():
		return fence.PowerOn, nil
	}
}

// SetPower off starts waiting for the operator: it opens the confirmation
// socket, logs and alerts. On is refused.
func (d *Device) SetPower(_ context.Context, node string, on bool) error {
	if on {
		return fmt.Errorf("%w: meatware cannot power %s on: an operator must do it by hand", fence.ErrUnsupported, node)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ln != nil {
		return nil // already waiting (a retried off)
	}
	ln, err := listen(d.dir, node)
	if err != nil {
		return err
	}
	d.ln, d.node = ln, node
	msg := fmt.Sprintf("operator intervention required: power off %s and confirm", node)
	slog.Error(msg, "node", node, "confirm_with", fmt.Sprintf("meatclient -c %s (or palisade fence confirm %s)", node, node), "socket", SocketPath(d.dir, node))
	if a := alerter.Load(); a != nil {
		(*a)(node, msg)
	}
	d.wg.Add(1)
	go d.serve(ln, node)
	return nil
}

// listen creates DIR (0700) and the socket (0600), replacing a stale
// socket left by a crashed request but never a live one.
func listen(dir, node string) (*net.UnixListener, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("meatware: creating %s: %w", dir, err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("meatware: %s has mode %04o; it must not be accessible to group or others (chmod 700)", dir, fi.Mode().Perm())
	}
	path := SocketPath(dir, node)
	if _, err := os.Lstat(path); err == nil {
		c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("meatware: a manual fence of %s is already waiting on %s", node, path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("meatware: removing stale %s: %w", path, err)
		}
	}
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("meatware: listening on %s: %w", path, err)
	}
	return ln, nil
}

func (d *Device) serve(ln *net.UnixListener, node string) {
	defer d.wg.Done()
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			return // closed
		}
		d.handle(c, node)
	}
}

// handle answers one client: a confirmation for this node from root or
// our own user is accepted once.
func (d *Device) handle(c *net.UnixConn, node string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	reply := func(s string) { _, _ = c.Write([]byte(s + "\n")) }
	uid, pid, err := peer(c)
	if err != nil {
		reply("ERR cannot identify the client: " + err.Error())
		return
	}
	if uid != 0 && uid != os.Geteuid() {
		reply(fmt.Sprintf("ERR uid %d may not confirm fencing", uid))
		slog.Warn("manual fence confirmation refused", "node", node, "uid", uid, "pid", pid)
		return
	}
	line, err := bufio.NewReader(&limited{c, 512}).ReadString('\n')
	if err != nil {
		reply("ERR expected one line: confirm NODE by WHO")
		return
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "confirm" {
		reply("ERR expected: confirm NODE by WHO")
		return
	}
	if f[1] != node {
		reply(fmt.Sprintf("ERR this request waits for %s, not %s", node, f[1]))
		return
	}
	who := fmt.Sprintf("uid %d pid %d", uid, pid)
	if len(f) >= 4 && f[2] == "by" {
		who = strings.Join(f[3:], " ") + " (" + who + ")"
	}
	select {
	case d.confirmed <- who:
		slog.Warn("manual fence confirmed by an operator", "node", node, "by", who)
		reply("OK fence of " + node + " confirmed")
	default:
		reply("OK fence of " + node + " was already confirmed")
	}
}

type limited struct {
	c *net.UnixConn
	n int
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("line too long")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.c.Read(p)
	l.n -= n
	return n, err
}

func peer(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if cerr != nil {
		return 0, 0, cerr
	}
	return int(cred.Uid), int(cred.Pid), nil
}

// Monitor checks what a manual fence needs to wait for an operator: its
// confirmation directory exists (or can be made) and is private to root.
// A person cannot be checked.
func (d *Device) Monitor(context.Context) error {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return fmt.Errorf("meatware: creating %s: %w", d.dir, err)
	}
	fi, err := os.Stat(d.dir)
	if err != nil {
		return fmt.Errorf("meatware: %w", err)
	}
	if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("meatware: %s has mode %v; it must be a directory not accessible to group or others (chmod 700)", d.dir, fi.Mode())
	}
	return nil
}

// Note says who confirmed, for the fence history.
func (d *Device) Note() string {
	if by := d.ConfirmedBy(); by != "" {
		return "confirmed by " + by
	}
	return ""
}

// ConfirmedBy is who confirmed the request ("" while waiting).
func (d *Device) ConfirmedBy() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.by
}

// Close stops listening and removes the socket.
func (d *Device) Close() error {
	d.mu.Lock()
	ln := d.ln
	d.ln = nil
	d.mu.Unlock()
	if ln == nil {
		return nil
	}
	// Closing a UnixListener unlinks its socket file.
	err := ln.Close()
	d.wg.Wait()
	return err
}

// ErrNotWaiting: no manual fence of that node is waiting.
var ErrNotWaiting = errors.New("no manual fence is waiting")

// Confirm tells the request waiting for node (in dir) that an operator
// powered it off. who is recorded with the confirmation (a user name, or
// "palisade fence confirm"). It is what meatclient -c and the daemon's
// palisade fence confirm call.
func Confirm(ctx context.Context, dir, node, who string) error {
	if err := checkNode(node); err != nil {
		return err
	}
	path := SocketPath(dir, node)
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("%w for %s (%s): nothing to confirm", ErrNotWaiting, node, path)
		}
		return fmt.Errorf("meatware: connecting to %s: %w", path, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	}
	who = strings.Join(strings.Fields(who), " ")
	if who == "" {
		who = "unknown"
	}
	if _, err := fmt.Fprintf(c, "confirm %s by %s\n", node, who); err != nil {
		return fmt.Errorf("meatware: sending the confirmation: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("meatware: no answer from the waiting request: %w", err)
	}
	line = strings.TrimSpace(line)
	if rest, ok := strings.CutPrefix(line, "OK "); ok {
		slog.Debug("confirmed", "answer", rest)
		return nil
	}
	return fmt.Errorf("meatware: confirmation refused: %s", strings.TrimPrefix(line, "ERR "))
}

// Pending lists the nodes with a manual fence waiting in dir.
func Pending(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		node, ok := strings.CutSuffix(e.Name(), ".sock")
		if !ok || e.Type()&os.ModeSocket == 0 {
			continue
		}
		c, err := net.DialTimeout("unix", filepath.Join(dir, e.Name()), 200*time.Millisecond)
		if err != nil {
			continue // stale
		}
		c.Close()
		out = append(out, node)
	}
	return out, nil
}
