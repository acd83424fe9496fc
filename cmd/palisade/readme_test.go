package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palisade/cluster/config"
)

// TestReadmeTwoNode keeps the two-node walk-through of README.md true:
// its cluster.yaml passes the daemon's decoders, and simulate on it says
// what the README says it does (the group on alpha at start; when alpha
// dies, alpha fenced with off, then the group on beta).
func TestReadmeTwoNode(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "### A two-node shared-storage cluster")
	if i < 0 {
		t.Fatal("README.md has no two-node walk-through")
	}
	text = text[i:]
	start := strings.Index(text, "```yaml\n")
	text = text[start+len("```yaml\n"):]
	var lines []string
	for _, l := range strings.Split(text[:strings.Index(text, "```")], "\n") {
		lines = append(lines, strings.TrimPrefix(l, "   "))
	}
	block := strings.Join(lines, "\n")
	c, err := config.Parse("README.md", []byte(block))
	if err != nil {
		t.Fatalf("refused by the config loader: %v", err)
	}
	// Parse decoded every section (quorum, fencing) with the node names.
	if c.Quorum == nil || c.Fencing == nil || len(c.Fencing.Devices) == 0 {
		t.Fatalf("the walk-through's quorum or fencing section was not decoded: %+v %+v", c.Quorum, c.Fencing)
	}
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := simulate(t, simulateFlags{showPlacement: true}, file)
	if err != nil || out != "db alpha Started\nfs alpha Started\nvip alpha Started\n" {
		t.Errorf("at start: %v\n%s", err, out)
	}
	out, _, err = simulate(t, simulateFlags{nodeFail: []string{"alpha"}}, file)
	if err != nil || !strings.Contains(out, "Fence (off) alpha") || !strings.Contains(out, "fs_start_0 on beta") {
		t.Errorf("alpha lost: %v\n%s", err, out)
	}
}
