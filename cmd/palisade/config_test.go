package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/replica"
)

// TestConfigShowPushRoundTrip: what `config show` prints, `config push`
// reads back as the same configuration (same digest, same admin_epoch).
func TestConfigShowPushRoundTrip(t *testing.T) {
	src := `admin_epoch: 3
options: {stonith-enabled: true, no-quorum-policy: stop}
rsc_defaults: {resource-stickiness: "100"}
resources:
  - id: grp
    kind: group
    members:
      - {id: vip, class: palisade, type: vip, params: {ip: 198.18.0.50}, ops: [{name: monitor, interval: 1s, timeout: 5s}]}
      - {id: dummy, class: ocf, provider: heartbeat, type: Dummy}
constraints:
  locations:
    - {id: grp-on-n2, rsc: grp, node: n2, score: INFINITY}
    - {id: grp-not-n3, rsc: grp, node: n3, score: -INFINITY}
`
	doc, err := config.ParseDocument("src.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cfg, admin := doc.Resources, doc.AdminEpoch
	var b bytes.Buffer
	ci := api.ConfigInfo{Self: "n1", DC: "n1", Version: api.Version{AdminEpoch: admin, Epoch: 4, NumUpdates: 9}, Digest: replica.ConfigDigest(cfg), Config: cfg}
	if err := printConfig(&b, ci); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "# palisade configuration version 3.4.9 digest ") {
		t.Fatalf("header: %s", b.String())
	}
	back, err := config.ParseDocument("shown.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("config show output refused by config push: %v\n%s", err, b.String())
	}
	if back.AdminEpoch != 3 || replica.ConfigDigest(back.Resources) != ci.Digest {
		t.Fatalf("round trip changed the configuration (admin %d):\n%s", back.AdminEpoch, b.String())
	}
	// The file remembers the version it was shown from.
	if got := api.ShownDigest(b.Bytes()); got != ci.Digest {
		t.Fatalf("digest of the shown file: %q, want %q", got, ci.Digest)
	}
	if got := api.ShownDigest([]byte("# my notes\nresources: []\n")); got != "" {
		t.Fatalf("digest of a hand-written file: %q", got)
	}
	var out bytes.Buffer
	printPushResult(&out, "f.yaml", api.ConfigResult{DC: "n1", Version: api.Version{Epoch: 5, NumUpdates: 1}, Digest: "abcdef0123456789"})
	if got := out.String(); got != "f.yaml: accepted by the DC n1 as version 0.5.1 (digest abcdef012345)\n" {
		t.Fatalf("push output %q", got)
	}
}

// runCLI runs the palisade command tree with args and returns stdout,
// stderr and the exit code main would use.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	// One process runs many command lines: flags set by an earlier one
	// go back to their defaults.
	var reset func(c *cobra.Command)
	reset = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.PersistentFlags(), c.Flags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if !f.Changed {
					return
				}
				if sv, ok := f.Value.(pflag.SliceValue); ok {
					_ = sv.Replace(nil)
				} else {
					_ = f.Value.Set(f.DefValue)
				}
				f.Changed = false
			})
		}
		for _, sub := range c.Commands() {
			reset(sub)
		}
	}
	reset(rootCmd)
	var out, errb bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errb)
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	err := rootCmd.Execute()
	code := 0
	if err != nil {
		fmt.Fprintln(&errb, "palisade:", err)
		code = 1
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
	}
	return out.String(), errb.String(), code
}

const validCluster = `cluster: {name: prod}
nodes:
  - {id: 1, name: n1, addresses: {ring0: 198.18.0.1}}
  - {id: 2, name: n2, addresses: {ring0: 198.18.0.2}}
links: [{name: ring0, kind: ucast, interface: eth0}]
auth: {key_file: /etc/palisade/authkey}
quorum: {two_node: true}
fencing:
  devices:
    - {name: bmc-n1, plugin: fence_ipmilan, params: {ip: 198.18.0.201, password_env: PW}}
  topology: {n1: [[bmc-n1]]}
resources:
  resources:
    - {id: vip, class: palisade, type: vip, params: {ip: 198.18.0.50}}
`

// TestConfigCheck: config check is offline, exits 0 on a valid file and 2
// on a refused one, printing every error of every section at once.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(good, []byte(validCluster), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "config", "check", good)
	if code != 0 || !strings.Contains(out, "valid cluster.yaml: cluster prod, 2 nodes, 1 links; no-quorum-policy stop; fencing on, 1 devices; 1 resources") {
		t.Fatalf("valid file: exit %d\n%s%s", code, out, errOut)
	}
	section := filepath.Join(dir, "res.yaml")
	os.WriteFile(section, []byte("admin_epoch: 4\nresources: [{id: a, type: Dummy}]\n"), 0o644)
	if out, errOut, code := runCLI(t, "config", "check", section); code != 0 || !strings.Contains(out, "valid resources section; 1 resources, 0 constraints, admin_epoch 4") {
		t.Fatalf("valid section: exit %d\n%s%s", code, out, errOut)
	}

	bad := filepath.Join(dir, "bad.yaml")
	text := strings.NewReplacer("{name: prod}", "{name: prod, colour: red}", "two_node: true", "two_node: yes please",
		"plugin: fence_ipmilan", "plugin: fence_ipmilan, delay: soon", "class: palisade", "clas: palisade").Replace(validCluster)
	os.WriteFile(bad, []byte(text), 0o644)
	out, errOut, code = runCLI(t, "config", "check", bad)
	want := []string{
		bad + ":1: cluster.colour: unknown key, valid keys here: name",
		bad + ":7: quorum.two_node: \"yes please\": want true or false",
		bad + ":10: fencing.devices[0].delay: unknown key, valid keys here: delay_base, delay_max, name, params, plugin",
		bad + ":14: resources.resources[0].clas: unknown key, valid keys here: bundle, class, id, kind, members, meta, ops, params, provider, type, utilization",
		"palisade: config check: " + bad + " refused: 4 problems",
	}
	if code != 2 || out != "" || strings.TrimSpace(errOut) != strings.Join(want, "\n") {
		t.Fatalf("bad file: exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, out, errOut, strings.Join(want, "\n"))
	}
	// push runs the same check and sends nothing (no daemon is listening).
	_, errOut, code = runCLI(t, "config", "push", "--socket", filepath.Join(dir, "none.sock"), bad)
	if code != 2 || !strings.Contains(errOut, want[0]) || !strings.Contains(errOut, "palisade: config push: "+bad+" refused: 4 problems") {
		t.Fatalf("push of a bad file: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "config", "check", filepath.Join(dir, "missing.yaml")); code != 2 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d\n%s", code, errOut)
	}
	// A long value is quoted by a short prefix.
	long := filepath.Join(dir, "long.yaml")
	os.WriteFile(long, []byte(strings.Replace(validCluster, "prod", strings.Repeat("p", 1<<20), 1)), 0o644)
	if _, errOut, code := runCLI(t, "config", "check", long); code != 2 || len(errOut) > 500 || !strings.Contains(errOut, "(1048576 bytes)") {
		t.Fatalf("long value: exit %d, %d bytes:\n%.600s", code, len(errOut), errOut)
	}
}

// TestCLISettings: the CLI's socket comes from --socket, else
// PALISADE_SOCKET, else its settings file, else the socket: of the
// cluster configuration; PALISADED_SOCKET (the daemon's) is not read.
func TestCLISettings(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cluster.yaml")
	os.WriteFile(cfg, []byte(validCluster+"socket: "+filepath.Join(dir, "file.sock")+"\n"), 0o644)
	settingsFile := filepath.Join(dir, "palisade.yaml")
	t.Setenv("PALISADED_SOCKET", filepath.Join(dir, "daemon.sock"))
	t.Setenv("PALISADE_CONFIG", cfg)
	t.Setenv("PALISADE_SETTINGS", settingsFile)
	status := func(args ...string) string {
		_, errOut, _ := runCLI(t, append([]string{"status"}, args...)...)
		return errOut
	}
	os.WriteFile(settingsFile, []byte("config: "+cfg+"\n"), 0o644)
	if got := status(); !strings.Contains(got, filepath.Join(dir, "file.sock")) {
		t.Fatalf("socket from cluster.yaml: %s", got)
	}
	os.WriteFile(settingsFile, []byte("socket: "+filepath.Join(dir, "settings.sock")+"\n"), 0o644)
	if got := status(); !strings.Contains(got, "settings.sock") {
		t.Fatalf("socket from the settings file: %s", got)
	}
	t.Setenv("PALISADE_SOCKET", filepath.Join(dir, "env.sock"))
	if got := status(); !strings.Contains(got, "env.sock") {
		t.Fatalf("socket from PALISADE_SOCKET: %s", got)
	}
	if got := status("--socket", filepath.Join(dir, "flag.sock")); !strings.Contains(got, "flag.sock") {
		t.Fatalf("socket from --socket: %s", got)
	}
	os.WriteFile(settingsFile, []byte("sokcet: x\n"), 0o644)
	if got := status(); !strings.Contains(got, settingsFile+":1: sokcet: unknown key, valid keys here: config, socket") {
		t.Fatalf("bad settings file: %s", got)
	}
	os.WriteFile(settingsFile, nil, 0o644)
	out, _, _ := runCLI(t, "--help")
	for _, want := range []string{"(env PALISADE_SOCKET)", "(env PALISADE_CONFIG)", "(env PALISADE_SETTINGS)"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %s:\n%s", want, out)
		}
	}
}
