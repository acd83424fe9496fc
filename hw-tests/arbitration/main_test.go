// Package arbitration holds the integration tests of the arbitration
// half of Palisade: the quorum disk on files and loop devices with the
// real palisade CLI, palisade-arbiter as a process serving several
// clusters over TLS, and ping groups inside network namespaces.
package arbitration

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"palisade/hw-tests/lab"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bin builds ./cmd/... once and returns the path of one command.
func bin(t testing.TB, name string) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "palisade-arbitration-bin-")
		if binErr == nil {
			binErr = lab.Build(binDir)
		}
	})
	if binErr != nil {
		t.Fatalf("building the commands: %v", binErr)
	}
	return filepath.Join(binDir, name)
}

// run runs a command and returns its combined output.
func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

func quiet() *slog.Logger {
	if os.Getenv("ARBITRATION_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func waitUntil(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}
