// Package timerfd is a one-shot timer that the kernel's poller fires: a
// Linux timerfd read through the Go runtime's network poller.
//
// Why not time.Timer: a daemon that sleeps between heartbeats pays for
// its wake-ups, not its work, and a pending Go timer costs two extra
// wake-ups a firing. The runtime's monitor thread (sysmon) sleeps only
// until the earliest Go timer and then naps another 10 ms before it
// sleeps again, and the poller waits for a Go timer with a whole-
// millisecond epoll timeout rounded down, so it wakes up to a
// millisecond early, finds nothing due and waits once more. A timerfd
// expires in the kernel at its deadline and wakes the poller once; with
// the node and DC loops on timerfds the runtime has no Go timer due
// between heartbeats and sysmon stays asleep (bench-mesh: see README,
// "16-node mesh").
//
// Timer has the shape the loops need (Reset, Stop, a channel C); unlike
// time.Timer it must be closed. Where no timerfd can be created it falls
// back to a time.Timer with the same behaviour.
package timerfd

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Timer delivers one value on C at the deadline set by the last Reset.
// A Reset or Stop discards a firing not yet received, so a value on C
// always belongs to the current deadline. Reset, Stop and Close may be
// called from any goroutine.
type Timer struct {
	// C receives the time of the firing.
	C <-chan time.Time

	c        chan time.Time
	f        *os.File // the timerfd; nil with the fallback
	rc       syscall.RawConn
	fallback *time.Timer // set when no timerfd could be created

	mu       sync.Mutex
	deadline time.Time // zero while stopped
	closed   bool
	done     chan struct{}
}

// New returns a stopped Timer. It never fails: without a timerfd (an old
// kernel, a seccomp filter) it falls back to a time.Timer, and Kernel
// reports which one it got.
func New() *Timer {
	f, rc, err := open()
	if err != nil {
		return newFallback()
	}
	c := make(chan time.Time, 1)
	t := &Timer{C: c, c: c, f: f, rc: rc, done: make(chan struct{})}
	go t.read()
	return t
}

// newFallback is a stopped Timer over a time.Timer.
func newFallback() *Timer {
	ft := time.NewTimer(time.Hour)
	ft.Stop()
	return &Timer{C: ft.C, fallback: ft}
}

// open creates a non-blocking timerfd on the monotonic clock, the clock
// time.Now's monotonic reading and the loops' deadlines use; os.NewFile
// registers a non-blocking descriptor with the runtime's poller.
func open() (*os.File, syscall.RawConn, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("timerfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	if f == nil {
		unix.Close(fd)
		return nil, nil, errors.New("timerfd: os.NewFile refused the descriptor")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("timerfd: %w", err)
	}
	return f, rc, nil
}

// Kernel reports whether the timer is a timerfd (false: the time.Timer
// fallback).
func (t *Timer) Kernel() bool { return t.f != nil }

// Reset makes the timer fire d from now (at once for d <= 0), replacing
// any earlier deadline and discarding a firing not yet received.
func (t *Timer) Reset(d time.Duration) {
	if t.fallback != nil {
		t.fallback.Reset(d) // Go 1.23+: Reset also drains C
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d = max(d, 0) // a deadline in the past fires now; arm(-1) would disarm
	t.deadline = time.Now().Add(d)
	t.drain()
	t.arm(d)
}

// Stop disarms the timer and discards a firing not yet received.
func (t *Timer) Stop() {
	if t.fallback != nil {
		t.fallback.Stop()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deadline = time.Time{}
	t.drain()
	t.arm(-1)
}

// Close stops the timer and releases its descriptor and goroutine.
func (t *Timer) Close() error {
	if t.fallback != nil {
		t.fallback.Stop()
		return nil
	}
	t.Stop()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	err := t.f.Close() // ends the blocked read
	<-t.done
	return err
}

func (t *Timer) drain() {
	select {
	case <-t.c:
	default:
	}
}

// arm sets the timerfd to expire d from now; d < 0 disarms it. A zero
// it_value disarms a timerfd, so "now" is one nanosecond. Callers hold mu.
//
// The system call is issued raw (no entersyscall): the runtime wakes a
// sleeping sysmon on every ordinary system call, which would undo what
// the timerfd is for. timerfd_settime does not block.
func (t *Timer) arm(d time.Duration) {
	if t.closed {
		return
	}
	var spec unix.ItimerSpec
	if d >= 0 {
		spec.Value = unix.NsecToTimespec(int64(max(d, 1)))
	}
	var errno syscall.Errno
	err := t.rc.Control(func(fd uintptr) {
		_, _, errno = syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, fd, 0,
			uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	})
	if err == nil && errno != 0 {
		err = errno
	}
	if err != nil {
		// Settime fails only on a bad descriptor or value, neither of
		// which can happen here; a timer that silently never fires would
		// stall the loop that waits for it, so fail loudly instead.
		panic(fmt.Sprintf("timerfd_settime: %v", err))
	}
}

// read waits for expirations and delivers those of the current deadline.
// An expiration can be stale (Reset moved the deadline after the kernel
// fired) or, in principle, a hair early by Go's clock reading: the
// deadline check under the lock discards the first and re-arms for the
// second, so C never carries a firing before its deadline and never
// loses one.
func (t *Timer) read() {
	defer close(t.done)
	var buf [8]byte // the expiration count; one-shot, so always 1
	var errno syscall.Errno
	// read returns false (wait in the poller) until an expiration is
	// there; raw for the reason given at arm.
	read := func(fd uintptr) bool {
		_, _, errno = syscall.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		return errno != unix.EAGAIN
	}
	for {
		if err := t.rc.Read(read); err != nil {
			return // closed
		}
		if errno != 0 {
			continue // EINTR; nothing else can fail on a timerfd read
		}
		t.mu.Lock()
		if !t.deadline.IsZero() {
			now := time.Now()
			if left := t.deadline.Sub(now); left > 0 {
				t.arm(left)
			} else {
				t.deadline = time.Time{}
				select {
				case t.c <- now:
				default:
				}
			}
		}
		t.mu.Unlock()
	}
}
