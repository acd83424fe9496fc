package hwtests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pluginAgent returns our fence agent installed as name: a symlink to the
// fence-agent binary built by palisadeBins, made on first use (the names
// of the plugin family: fence_redfish, fence_apc_snmp, ...).
func pluginAgent(t *testing.T, name string) string {
	t.Helper()
	dir := palisadeBins(t)
	p := filepath.Join(dir, name)
	if err := os.Symlink("fence-agent", p); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatalf("installing %s: %v", name, err)
	}
	return p
}

// refScript returns the argv prefix that runs the ClusterLabs agent name
// with the system Python, or skips when fence-agents is not installed.
func refScript(t *testing.T, name string) []string {
	t.Helper()
	path := "/usr/sbin/" + name
	if _, err := os.Stat(path); err != nil {
		t.Skipf("reference agent missing (Debian package fence-agents): %v", err)
	}
	return []string{"/usr/bin/python3", path}
}

// metadataParams lists the <parameter name="..."> of a metadata document.
func metadataParams(xml string) map[string]bool {
	m := map[string]bool{}
	for _, part := range strings.Split(xml, `<parameter name="`)[1:] {
		if i := strings.IndexByte(part, '"'); i > 0 {
			m[part[:i]] = true
		}
	}
	return m
}
