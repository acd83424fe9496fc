package meatware

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/fence"
)

func agent(t *testing.T, dir, node string, kv ...string) *fence.Agent {
	t.Helper()
	p := map[string]string{"plug": node, OptDir: dir, "power_timeout": "10", "stonith_status_sleep": "0.05"}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	a, err := fence.NewAgent("fence_manual", p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// waitPending waits until a request for node listens in dir.
func waitPending(t *testing.T, dir, node string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if p, _ := Pending(dir); len(p) == 1 && p[0] == node {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no request for %s waiting in %s", node, dir)
}

func TestOffWaitsForConfirmation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "meatware")
	var mu sync.Mutex
	var alerts []string
	SetAlerter(func(node, msg string) { mu.Lock(); alerts = append(alerts, node+": "+msg); mu.Unlock() })
	defer SetAlerter(nil)

	a := agent(t, dir, "n2")
	if res := a.Do(context.Background(), fence.ActionStatus); !res.OK || res.State != fence.PowerOn {
		t.Fatalf("status before any request: %v", res)
	}
	done := make(chan fence.Result, 1)
	go func() { done <- a.Do(context.Background(), fence.ActionOff) }()
	waitPending(t, dir, "n2")
	select {
	case res := <-done:
		t.Fatalf("finished without a confirmation: %v", res)
	default:
	}
	if err := Confirm(context.Background(), dir, "n3", "ops"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("confirming a node nobody waits for: %v", err)
	}
	if err := Confirm(context.Background(), dir, "n2", "alice"); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if !res.Fenced() {
		t.Fatalf("off after the confirmation: %v", res)
	}
	if !strings.HasPrefix(res.Note, "confirmed by alice (uid ") {
		t.Errorf("result note %q does not say who confirmed", res.Note)
	}
	if _, err := os.Stat(SocketPath(dir, "n2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) != 1 || alerts[0] != "n2: operator intervention required: power off n2 and confirm" {
		t.Errorf("alerts %q", alerts)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode: %v %v", fi.Mode(), err)
	}
}

func TestTimesOutWithoutConfirmation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	res := agent(t, dir, "n1", "power_timeout", "0.3").Do(context.Background(), fence.ActionOff)
	if res.OK || !errors.Is(res.Err, fence.ErrTimedOutOff) {
		t.Fatalf("unconfirmed: %v", res)
	}
	if p, _ := Pending(dir); len(p) != 0 {
		t.Errorf("still pending: %v", p)
	}
	if _, err := fence.NewAgent("fence_manual", map[string]string{"plug": "n1", "action": "on"}); !errors.Is(err, fence.ErrUnsupported) {
		t.Errorf("on: %v", err)
	}
}

func TestOneRequestPerNodeAndStaleSockets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan fence.Result, 1)
	go func() { done <- agent(t, dir, "n1").Do(ctx, fence.ActionOff) }()
	waitPending(t, dir, "n1")
	res := agent(t, dir, "n1").Do(context.Background(), fence.ActionOff)
	if res.OK || !strings.Contains(res.Err.Error(), "already waiting") {
		t.Errorf("second request for the same node: %v", res)
	}
	cancel()
	<-done

	// A socket file nobody listens on (a crashed request) is replaced.
	stale := SocketPath(dir, "n4")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	done4 := make(chan fence.Result, 1)
	go func() { done4 <- agent(t, dir, "n4").Do(context.Background(), fence.ActionOff) }()
	waitPending(t, dir, "n4")
	if err := Confirm(context.Background(), dir, "n4", "bob"); err != nil {
		t.Fatal(err)
	}
	if res := <-done4; !res.Fenced() {
		t.Errorf("after a stale socket: %v", res)
	}
}

func TestMeatclient(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	done := make(chan fence.Result, 1)
	go func() { done <- agent(t, dir, "db-1").Do(context.Background(), fence.ActionReboot) }()
	waitPending(t, dir, "db-1")
	var out, errb bytes.Buffer
	if code := ClientMain([]string{"-c", "db-1", "-d", dir}, strings.NewReader("n\n"), &out, &errb); code != 1 || !strings.Contains(out.String(), "PROCEED? [yN]") {
		t.Errorf("answering no: exit %d %q %q", code, out.String(), errb.String())
	}
	if p, _ := Pending(dir); len(p) != 1 {
		t.Fatalf("a refused confirmation ended the request: %v", p)
	}
	out.Reset()
	if code := ClientMain([]string{"-c", "db-1", "-d", dir}, strings.NewReader("y\n"), &out, &errb); code != 0 || !strings.Contains(out.String(), "fence of db-1 confirmed") {
		t.Fatalf("answering yes: exit %d %q %q", code, out.String(), errb.String())
	}
	res := <-done
	// A reboot is fenced once OFF is confirmed; the "on" half is left to
	// the operator and reported as a warning.
	if !res.Fenced() || len(res.Warnings) != 1 {
		t.Errorf("reboot: %v", res)
	}
	errb.Reset()
	if code := ClientMain([]string{"-c", "db-1", "-d", dir, "-y"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no manual fence is waiting for db-1") {
		t.Errorf("nothing waiting: exit %d %q", code, errb.String())
	}
	if code := ClientMain([]string{"-d", dir}, nil, &out, &errb); code != 1 {
		t.Errorf("without -c: exit %d", code)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, p := range []map[string]string{
		{},
		{"plug": "../etc"},
		{"plug": "n1", OptDir: "relative/dir"},
		{"plug": "n1", "ip": "198.18.0.1"},
	} {
		if _, err := fence.NewAgent("fence_manual", p); !errors.Is(err, fence.ErrConfig) {
			t.Errorf("%v: %v, want ErrConfig", p, err)
		}
	}
	loose := t.TempDir()
	os.Chmod(loose, 0o755)
	res := agent(t, loose, "n1", "power_timeout", "0.1").Do(context.Background(), fence.ActionOff)
	if res.OK || !strings.Contains(res.Err.Error(), "chmod 700") {
		t.Errorf("world-readable socket directory: %v", res)
	}
}
