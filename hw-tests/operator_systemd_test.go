package hwtests

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOperatorSystemdNotify runs palisaded as systemd would with
// Type=notify and WatchdogSec (a one-node cluster on loopback), and reads
// what it tells systemd: READY=1 once it runs, WATCHDOG=1 keep-alives at
// half the watchdog interval, RELOADING=1 then READY=1 around a SIGHUP,
// STOPPING=1 on SIGTERM.
func TestOperatorSystemdNotify(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Dir(cliBin(t))
	notify := filepath.Join(tmp, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	secret := make([]byte, 32)
	rand.Read(secret)
	key := filepath.Join(tmp, "authkey")
	if err := os.WriteFile(key, []byte("key 1 hex:"+hex.EncodeToString(secret)+"\nactive 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(tmp, "state")
	cfg := filepath.Join(tmp, "cluster.yaml")
	yaml := fmt.Sprintf(`cluster: {name: sd}
nodes:
  - {id: 1, name: n1, addresses: {lo: 127.0.0.1}}
links:
  - {name: lo, kind: ucast, interface: lo, port: %d}
timing: {keepalive: 100ms, warntime: 300ms, deadtime: 500ms, initdead: 1s}
auth: {key_file: %s}
state_dir: %s
run_dir: %s
socket: %s
`, port, key, state, filepath.Join(state, "run"), filepath.Join(state, "palisade.sock"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	d := exec.Command(filepath.Join(bin, "palisaded"), "--config", cfg, "--node", "n1")
	d.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify, "WATCHDOG_USEC=1000000")
	var log strings.Builder
	d.Stdout, d.Stderr = &log, &log
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = d.Wait(); close(exited) }()
	defer func() {
		d.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("palisaded log:\n%s", log.String())
		}
	}()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	// expect waits for a notification containing want; others seen on the
	// way are returned too.
	expect := func(want string, within time.Duration) []string {
		t.Helper()
		var seen []string
		deadline := time.After(within)
		for {
			select {
			case m := <-msgs:
				seen = append(seen, m)
				if strings.Contains(m, want) {
					return seen
				}
			case <-exited:
				t.Fatalf("palisaded exited (%v) before %q; got %q", waitErr, want, seen)
			case <-deadline:
				t.Fatalf("no %q within %v; got %q", want, within, seen)
			}
		}
	}
	ready := expect("READY=1", 10*time.Second)
	if !strings.Contains(ready[len(ready)-1], "STATUS=") {
		t.Errorf("READY without a status line: %q", ready)
	}
	// Keep-alives every WatchdogSec/2: at least two in 1.6 s.
	start := time.Now()
	expect("WATCHDOG=1", 1200*time.Millisecond)
	expect("WATCHDOG=1", 1200*time.Millisecond)
	t.Logf("two keep-alives in %v", time.Since(start))
	if err := d.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	expect("RELOADING=1", 5*time.Second)
	expect("READY=1", 5*time.Second)
	if err := d.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect("STOPPING=1", 5*time.Second)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("palisaded did not stop after SIGTERM")
	}
}
