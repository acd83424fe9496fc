package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A cluster.yaml is simulated as the cluster starts: every node online,
// nothing running; its fencing.action names the fence.
func TestSimulateClusterYAML(t *testing.T) {
	file := filepath.Join("testdata", "simulate", "cluster.yaml")
	out, _, err := simulate(t, simulateFlags{showPlacement: true}, file)
	if err != nil {
		t.Fatal(err)
	}
	if out != "db alpha Started\nvip alpha Started\n" {
		t.Errorf("placement at start:\n%s", out)
	}
	out, _, err = simulate(t, simulateFlags{nodeFail: []string{"alpha"}}, file)
	if err != nil || !strings.Contains(out, "Fence (reboot) alpha") {
		t.Errorf("a cluster.yaml with fencing.action reboot: %v\n%s", err, out)
	}
}

// What `palisade config show` prints is read back; its nodes come from
// --cluster.
func TestSimulateShownConfig(t *testing.T) {
	shown := filepath.Join("testdata", "simulate", "shown.yaml")
	_, _, err := simulate(t, simulateFlags{showPlacement: true}, shown)
	if err == nil || !strings.Contains(err.Error(), "--cluster") {
		t.Fatalf("a section without nodes: %v", err)
	}
	out, _, err := simulate(t, simulateFlags{showPlacement: true, cluster: filepath.Join("testdata", "simulate", "cluster.yaml")}, shown)
	if err != nil || out != "web beta Started\n" {
		t.Errorf("config show output with --cluster: %v\n%s", err, out)
	}
	// --cluster also decides the fence action.
	out, _, err = simulate(t, simulateFlags{nodeFail: []string{"beta"}, cluster: filepath.Join("testdata", "simulate", "cluster.yaml")}, shown)
	if err != nil || !strings.Contains(out, "Fence (reboot) beta") {
		t.Errorf("fence action from --cluster: %v\n%s", err, out)
	}
}

func TestSimulateLiveWithoutDaemon(t *testing.T) {
	t.Setenv("PALISADE_SOCKET", filepath.Join(t.TempDir(), "none.sock"))
	_, _, err := simulate(t, simulateFlags{live: true})
	if ee, ok := err.(*exitError); !ok || ee.code != exitUnreachable {
		t.Errorf("--live without a daemon: %v, want exit %d", err, exitUnreachable)
	}
	if _, _, err := simulate(t, simulateFlags{live: true}, "x.yaml"); err == nil || !strings.Contains(err.Error(), "one of --live") {
		t.Errorf("--live with a file: %v", err)
	}
}

// FuzzSimulateInput feeds simulate's file reader (scheduler documents,
// cluster.yaml, config show output) arbitrary bytes: errors, never panics.
func FuzzSimulateInput(f *testing.F) {
	for _, name := range []string{"cluster.yaml", "shown.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "simulate", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(simDoc))
	f.Add([]byte("nodes: [{name: a}]\nresources: {resources: [{id: x}]}\n"))
	f.Add([]byte("resources:\n  - id: r\nnodes:\n  - name: n1\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "in.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := fileInput(p, "")
		if err != nil {
			return
		}
		if in.doc == nil {
			t.Fatal("no document and no error")
		}
	})
}
