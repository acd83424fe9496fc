package hwtests

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/hw-tests/lab"
)

// TestImportedHeartbeatRuns is the migration path end to end: a Heartbeat
// /etc/ha.d is converted by `palisade config import`, palisaded starts on
// the result (cluster name, timing, the converted key file) and `palisade
// status` shows the node as DC of a quorate partition. Loopback only.
func TestImportedHeartbeatRuns(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	if err := lab.Build(bin); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	had := filepath.Join(tmp, "ha.d")
	if err := os.MkdirAll(had, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"ha.cf":    fmt.Sprintf("cluster migrated\nlogfile /var/log/ha-log\nkeepalive 200ms\nwarntime 500ms\ndeadtime 1\ninitdead 2\nudpport %d\nucast lo 127.0.0.1\nauto_failback on\nnode n1\n", port),
		"authkeys": "auth 2\n2 sha1 0d2f7c9e4b8a1f3e6c5d7b9a2e4f6a8c\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(had, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	etc := filepath.Join(tmp, "etc")
	imp := exec.Command(filepath.Join(bin, "palisade"), "config", "import", "--heartbeat", had, "--no-lookup",
		"--address", "n1=127.0.0.1", "-o", filepath.Join(etc, "cluster.yaml"), "--key-file", filepath.Join(etc, "authkey"))
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("config import: %v\n%s", err, out)
	}
	state := filepath.Join(tmp, "state")
	sock := filepath.Join(state, "palisade.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := exec.CommandContext(ctx, filepath.Join(bin, "palisaded"), "--config", filepath.Join(etc, "cluster.yaml"), "--node", "n1")
	d.Env = append(os.Environ(), "PALISADED_STATE_DIR="+state, "PALISADED_SOCKET="+sock, "PALISADED_RUN_DIR="+filepath.Join(state, "run"))
	var log strings.Builder
	d.Stdout, d.Stderr = &log, &log
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.Wait() }()
	defer func() {
		_ = d.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = d.Process.Kill()
			<-exited
		}
	}()
	var status string
	for {
		select {
		case err := <-exited:
			t.Fatalf("palisaded exited: %v\n%s", err, log.String())
		case <-ctx.Done():
			t.Fatalf("no quorate view in time; last status:\n%s\nlog:\n%s", status, log.String())
		case <-time.After(200 * time.Millisecond):
		}
		out, err := exec.Command(filepath.Join(bin, "palisade"), "status", "--socket", sock).CombinedOutput()
		status = string(out)
		if err == nil && strings.Contains(status, "partition: quorate, DC n1") {
			break
		}
	}
	if !strings.Contains(status, "cluster migrated, node n1 (id 1)") {
		t.Fatalf("status does not show the imported cluster:\n%s", status)
	}
}
