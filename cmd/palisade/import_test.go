package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palisade/cluster/auth"
	"palisade/cluster/config"
)

func writeHaD(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ha.d")
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var cmd = configImportCmd()
	if args[0] == "keygen" {
		cmd, args = keygenCmd(), args[1:]
	}
	var o, e bytes.Buffer
	cmd.SetOut(&o)
	cmd.SetErr(&e)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return o.String(), e.String(), err
}

const testSecret = "912d6402295ac8d47109e56b177073b9"

var testHaD = map[string]string{
	"ha.cf": `logfacility local1
keepalive 2
deadtime 30
warntime 10
initdead 120
udpport 694
ucast eth0 198.18.0.2
auto_failback off
node alpha
node beta
`,
	"haresources": "alpha IPaddr::198.18.0.50/24/eth0 jdmail\n",
	"authkeys":    "auth 1\n1 sha1 " + testSecret + "\n",
	// A Heartbeat script in resource.d: converted as one, not as LSB.
	"resource.d/jdmail": "#!/bin/sh\n",
}

// TestConfigImport runs `palisade config import` on a Heartbeat directory
// and checks what it writes, as palisaded will read it.
func TestConfigImport(t *testing.T) {
	had := writeHaD(t, testHaD)
	root := t.TempDir()
	args := []string{"--heartbeat", had, "--no-lookup", "--address", "alpha=198.18.0.1", "--root", root}

	// ping has no equivalent yet: refused without --partial, nothing written.
	pinged := writeHaD(t, map[string]string{"ha.cf": testHaD["ha.cf"] + "ping 198.18.0.254\n", "authkeys": testHaD["authkeys"]})
	_, stderr, err := runCmd(t, "--heartbeat", pinged, "--no-lookup", "--address", "alpha=198.18.0.1", "--root", root)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(stderr, "ping 198.18.0.254") || !strings.Contains(stderr, "nothing written") {
		t.Fatalf("incomplete import: err %v, stderr:\n%s", err, stderr)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("an incomplete import wrote %v", ents)
	}

	// A dry run prints the YAML but never the secret.
	stdout, stderr, err := runCmd(t, append(args, "--dry-run")...)
	if err != nil || !strings.Contains(stdout, "two_node: true") || strings.Contains(stdout+stderr, testSecret) {
		t.Fatalf("dry run: err %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("a dry run wrote %v", ents)
	}

	_, stderr, err = runCmd(t, args...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	yamlPath := filepath.Join(root, "etc/palisade/cluster.yaml")
	keyPath := filepath.Join(root, "etc/palisade/authkey")
	for p, mode := range map[string]os.FileMode{yamlPath: 0o644, keyPath: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v, mode %v, want %04o", p, err, fi, mode)
		}
	}
	data, _ := os.ReadFile(yamlPath)
	cl, err := config.Parse(yamlPath, data)
	if err != nil {
		t.Fatalf("written cluster.yaml refused: %v\n%s", err, data)
	}
	if cl.KeyFile != "/etc/palisade/authkey" || strings.Contains(string(data), testSecret) {
		t.Fatalf("key_file %q (the YAML names the final path, never the secret):\n%s", cl.KeyFile, data)
	}
	if !strings.Contains(string(data), "class: heartbeat") || !strings.Contains(string(data), "type: jdmail") {
		t.Fatalf("jdmail is in resource.d: want a heartbeat-class resource:\n%s", data)
	}
	kr, err := auth.Load(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	// The same key palisaded derives from the authkeys file itself, so
	// nodes still on the old file and nodes on the new one agree.
	old, err := auth.Parse("authkeys", []byte(testHaD["authkeys"]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kr.Active().Secret, old.Active().Secret) || kr.Active().ID != 1 {
		t.Fatal("converted key differs from the key derived from authkeys")
	}
	if strings.Contains(stderr, testSecret) {
		t.Fatal("the report shows the secret")
	}

	// A second run refuses to overwrite, --force replaces.
	if _, _, err := runCmd(t, args...); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second import: %v", err)
	}
	if _, _, err := runCmd(t, append(args, "--force")...); err != nil {
		t.Fatal(err)
	}
}

// TestConfigImportCIBOnly: a CIB alone gives a resources section on stdout.
func TestConfigImportCIBOnly(t *testing.T) {
	dir := t.TempDir()
	cib := filepath.Join(dir, "crm.txt")
	if err := os.WriteFile(cib, []byte("node n1\nprimitive vip IPaddr2 params ip=198.18.0.50\nlocation l vip 100: n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCmd(t, "--cib", cib)
	if err != nil || !strings.Contains(stdout, "type: IPaddr2") || !strings.Contains(stdout, "palisade config push") {
		t.Fatalf("err %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
}

// TestKeygen: a new key file, mode 0600, accepted by the daemon's loader,
// different every time, never overwritten without --force.
func TestKeygen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "authkey")
	if _, _, err := runCmd(t, "keygen", "-o", p); err != nil {
		t.Fatal(err)
	}
	k1, err := auth.Load(p) // checks mode 0600
	if err != nil {
		t.Fatal(err)
	}
	if len(k1.Active().Secret) != 32 {
		t.Fatalf("secret of %d bytes", len(k1.Active().Secret))
	}
	if _, _, err := runCmd(t, "keygen", "-o", p); err == nil {
		t.Fatal("keygen overwrote a key file without --force")
	}
	if _, _, err := runCmd(t, "keygen", "-o", p, "--force"); err != nil {
		t.Fatal(err)
	}
	k2, err := auth.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k1.Active().Secret, k2.Active().Secret) {
		t.Fatal("two keygens gave the same key")
	}
}
