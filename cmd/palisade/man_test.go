package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenMan writes the pages for the cobra tree and for a daemon whose
// -h output has roff control characters in it, and renders them.
func TestGenMan(t *testing.T) {
	dir := t.TempDir()
	daemon := filepath.Join(dir, "palisaded")
	script := "#!/bin/sh\ncat >&2 <<'X'\nUsage of " + daemon + ":\n  -config string\n    \tfile (default \"/etc/palisade/cluster.yaml\")\n.bogus request\n  -path string\n    \ta\\\\b\nX\nexit 2\n"
	if err := os.WriteFile(daemon, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1790000000")
	out := filepath.Join(dir, "man")
	if err := genMan(out, []string{daemon}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"palisade.8", "palisade-config-import.8", "palisade-keygen.8", "palisaded.8"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(out, "palisaded.8"))
	if strings.Contains(string(page), dir) || !strings.Contains(string(page), `\&.bogus`) || !strings.Contains(string(page), `a\e\eb`) ||
		!strings.Contains(string(page), `"Sep 2026"`) {
		t.Fatalf("daemon page:\n%s", page)
	}
	if _, err := exec.LookPath("man"); err != nil {
		t.Skipf("man not installed (man-db), pages not rendered: %v", err)
	}
	c := exec.Command("man", "--warnings", "-l", filepath.Join(out, "palisaded.8"))
	c.Env = append(os.Environ(), "MANWIDTH=80")
	text, err := c.Output()
	if err != nil || !strings.Contains(string(text), ".bogus request") || !strings.Contains(string(text), `a\\b`) {
		t.Fatalf("man: %v\n%s", err, text)
	}
}
