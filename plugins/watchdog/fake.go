package watchdog

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Fake is a stand-in watchdog device: it records every operation and, on
// the clock it is given, tells when a real watchdog would have reset the
// machine. It resets nothing.
type Fake struct {
	mu       sync.Mutex
	now      func() time.Time
	timeout  time.Duration
	lastFeed time.Time
	armed    bool
	closed   bool
	ops      []string
	log      io.Writer
	// Max is the largest timeout the "driver" accepts (softdog: 65535 s);
	// a larger request is refused like a real driver does (EINVAL).
	Max time.Duration
}

// NewFake opens a stand-in with softdog's default timeout (60 s) at now().
func NewFake(now func() time.Time) *Fake {
	f := &Fake{now: now, timeout: 60 * time.Second, armed: true, Max: 65535 * time.Second}
	f.lastFeed = now()
	f.record("open")
	return f
}

// OpenStandIn returns the device for a configured path: a real Linux
// device, or, for "stand-in:FILE", a Fake on the wall clock that appends
// every operation to FILE (for tests of the daemon as a process; it
// protects nothing, which its Identity says).
func Open(path string) (Device, error) {
	file, ok := strings.CutPrefix(path, "stand-in:")
	if !ok {
		return OpenLinux(path)
	}
	w, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("watchdog stand-in: %w", err)
	}
	f := &Fake{now: time.Now, timeout: 60 * time.Second, armed: true, Max: 65535 * time.Second, log: w}
	f.lastFeed = time.Now()
	f.record("open")
	return f, nil
}

func (f *Fake) record(op string) {
	f.ops = append(f.ops, op)
	if f.log != nil {
		fmt.Fprintf(f.log, "%s %s\n", f.now().Format(time.RFC3339Nano), op)
	}
}

// SetTimeout rounds up to whole seconds as drivers do.
func (f *Fake) SetTimeout(d time.Duration) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fmt.Errorf("watchdog stand-in: closed")
	}
	secs := (d + time.Second - 1) / time.Second
	if secs < 1 {
		secs = 1
	}
	t := secs * time.Second
	if f.Max > 0 && t > f.Max {
		f.record(fmt.Sprintf("settimeout %d refused", secs))
		return 0, fmt.Errorf("watchdog stand-in: WDIOC_SETTIMEOUT %ds: invalid argument (maximum %s)", secs, f.Max)
	}
	f.timeout = t
	// Setting the timeout also feeds the timer, as the kernel does.
	f.lastFeed = f.now()
	f.record(fmt.Sprintf("settimeout %d", secs))
	return t, nil
}

func (f *Fake) Timeout() (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timeout, nil
}

func (f *Fake) Keepalive() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("watchdog stand-in: closed")
	}
	if f.firedLocked() {
		// Too late: a real machine would already have reset.
		f.record("keepalive after expiry")
		return nil
	}
	f.lastFeed = f.now()
	f.record("keepalive")
	return nil
}

func (f *Fake) MagicClose() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("watchdog stand-in: closed twice")
	}
	if !f.firedLocked() {
		f.armed = false
	}
	f.closed = true
	f.record("magic close")
	return nil
}

func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("watchdog stand-in: closed twice")
	}
	f.closed = true
	f.record("close without magic")
	return nil
}

func (f *Fake) Identity() string {
	if f.log != nil {
		return "stand-in (resets nothing)"
	}
	return "fake"
}

func (f *Fake) firedLocked() bool {
	return f.armed && f.now().Sub(f.lastFeed) > f.timeout
}

// Fired reports whether a real watchdog would have reset the machine by
// now, and when.
func (f *Fake) Fired() (bool, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.firedLocked() {
		return false, time.Time{}
	}
	return true, f.lastFeed.Add(f.timeout)
}

// Ops lists the operations so far ("open", "settimeout 10", "keepalive",
// "magic close", ...).
func (f *Fake) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

// Keepalives counts the feeds that counted.
func (f *Fake) Keepalives() int {
	n := 0
	for _, op := range f.Ops() {
		if op == "keepalive" {
			n++
		}
	}
	return n
}
