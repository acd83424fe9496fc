package hwtests

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"palisade/hw-tests/lab"
)

// TestMain is shared by every test in hw-tests: add to it rather than
// defining another. It removes the binaries built by palisadeBins.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// palisadeBins builds ./cmd/... once per test binary and returns the
// directory holding palisaded, palisade, ...
func palisadeBins(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "palisade-hwtests-bin-")
		if binErr == nil {
			binErr = lab.Build(binDir)
		}
	})
	if binErr != nil {
		t.Fatalf("building palisade binaries: %v", binErr)
	}
	return binDir
}

func binPath(t testing.TB, name string) string { return filepath.Join(palisadeBins(t), name) }
