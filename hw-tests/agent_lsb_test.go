package hwtests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/resources/agent"
)

// lsbScript is a Debian-style init script built on the real LSB tools
// (start-stop-daemon, status_of_proc): status exits 3 when stopped.
const lsbScript = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          pa-d-sleeper
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: test daemon for Palisade's lsb class
### END INIT INFO
. /lib/lsb/init-functions
PIDFILE=%[1]s/sleeper.pid
DAEMON=/bin/sleep
case "$1" in
start)  start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile $PIDFILE --exec $DAEMON -- 1000 ;;
stop)   start-stop-daemon --stop --quiet --oknodo --pidfile $PIDFILE --remove-pidfile --retry 5 ;;
status) status_of_proc -p $PIDFILE $DAEMON pa-d-sleeper ;;
*)      echo "Usage: $0 {start|stop|status}"; exit 2 ;;
esac
`

// TestAgentLSBInitScript runs an LSB init script through the lsb class and,
// by its haresources name, through the heartbeat class (which falls back to
// init.d like Heartbeat v1 did).
func TestAgentLSBInitScript(t *testing.T) {
	for _, p := range []string{"/lib/lsb/init-functions", "/sbin/start-stop-daemon"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("LSB tools missing (%s): %v", p, err)
		}
	}
	dir := t.TempDir()
	initDir := filepath.Join(dir, "init.d")
	os.Mkdir(initDir, 0o755)
	if err := os.WriteFile(filepath.Join(initDir, "pa-d-sleeper"), []byte(fmt.Sprintf(lsbScript, dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killPidfile(filepath.Join(dir, "sleeper.pid")) })
	reg := agent.NewRegistry(agent.Options{InitDir: initDir, HeartbeatDir: filepath.Join(dir, "resource.d")})
	hb, err := agent.ParseHaresource("pa-d-sleeper")
	if err != nil {
		t.Fatal(err)
	}
	hb.Timeout = 20 * time.Second
	for _, in := range []agent.Instance{
		{ID: "sleeper", Class: "lsb", Type: "pa-d-sleeper", Timeout: 20 * time.Second},
		hb,
	} {
		for _, s := range []struct {
			a    agent.Action
			want agent.RC
		}{{agent.Monitor, agent.NotRunning}, {agent.Start, agent.OK}, {agent.Monitor, agent.OK},
			{agent.Stop, agent.OK}, {agent.Monitor, agent.NotRunning}, {agent.Stop, agent.OK}} {
			res := reg.Run(context.Background(), s.a, in)
			if res.RC != s.want || res.Status != agent.StatusDone {
				t.Fatalf("%s %s: rc %d status %s, want %d\nstdout %q\nstderr %q", in, s.a, res.RC, res.Status, s.want, res.Output, res.Stderr)
			}
		}
	}
}

func killPidfile(p string) {
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
