package sdnotify

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// notifySocket plays systemd: a unixgram socket in NOTIFY_SOCKET.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

func recv(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// nothingQueued checks the socket holds no further datagram. It is called
// only once every sender has returned, so an empty queue is final.
func nothingQueued(t *testing.T, conn *net.UnixConn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now())
	buf := make([]byte, 4096)
	if n, err := conn.Read(buf); err == nil {
		t.Fatalf("unexpected notification %q", buf[:n])
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatal(err)
	}
}

func TestNotifications(t *testing.T) {
	conn := notifySocket(t)
	n := New(nil)
	steps := []struct {
		send func() error
		want string
	}{
		{func() error { return n.Ready("member of view 4\nDC n1") }, "READY=1\nSTATUS=member of view 4 DC n1"},
		{n.Reloading, "RELOADING=1\nSTATUS=reloading the configuration"},
		{func() error { return n.Status("3 resources running") }, "STATUS=3 resources running"},
		{func() error { return n.Stopping("leaving the cluster") }, "STOPPING=1\nSTATUS=leaving the cluster"},
	}
	for _, s := range steps {
		if err := s.send(); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, conn); got != s.want {
			t.Fatalf("got %q, want %q", got, s.want)
		}
	}
	nothingQueued(t, conn)
}

// TestOutsideSystemd: without NOTIFY_SOCKET nothing is sent and nothing
// fails; a NOTIFY_SOCKET nobody listens on is an error.
func TestOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := New(nil)
	if err := n.Ready("x"); err != nil || n.WatchdogInterval() != 0 {
		t.Fatalf("outside systemd: %v, watchdog %v", err, n.WatchdogInterval())
	}
	n.Watchdog(context.Background(), func() error { return nil }) // returns at once
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody"))
	if err := n.Ready("x"); err == nil {
		t.Fatal("no error for a socket nobody listens on")
	}
}

// TestWatchdog: keep-alives go out on each tick while the health check
// passes, stop while it fails, and resume after.
func TestWatchdog(t *testing.T) {
	conn := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "20000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	n := New(nil)
	if n.WatchdogInterval() != 20*time.Second {
		t.Fatalf("watchdog interval %v", n.WatchdogInterval())
	}
	ticks := make(chan time.Time)
	health := []error{nil, errors.New("control loop stalled for 3s"), errors.New("still stalled"), nil}
	i := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		n.watchdogLoop(ctx, ticks, func() error { err := health[i]; i++; return err })
		close(done)
	}()
	for range health {
		ticks <- time.Time{}
	}
	for range 2 {
		if got := recv(t, conn); got != "WATCHDOG=1" {
			t.Fatalf("got %q", got)
		}
	}
	cancel()
	<-done
	if i != len(health) {
		t.Fatalf("%d health checks for %d ticks", i, len(health))
	}
	nothingQueued(t, conn) // two healthy ticks, two keep-alives
}

// TestWatchdogOtherPID: WATCHDOG_USEC meant for another process (a
// parent's) is not ours.
func TestWatchdogOtherPID(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "20000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	if d := New(nil).WatchdogInterval(); d != 0 {
		t.Fatalf("watchdog %v for another PID", d)
	}
}
