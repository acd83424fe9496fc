package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"palisade/cluster/config"
	"palisade/cluster/node"
)

// daemonFor returns palisaded's settings for args, as its command line
// would set them.
func daemonFor(t *testing.T, args ...string) daemonSettings {
	t.Helper()
	s := newSettings()
	fs := pflag.NewFlagSet("palisaded", pflag.ContinueOnError)
	s.Bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	return s
}

// writeCluster writes a one-node cluster.yaml whose state_dir, run_dir and
// socket are under dir/var (which does not exist yet), plus extra.
func writeCluster(t *testing.T, dir, extra string) string {
	t.Helper()
	key := filepath.Join(dir, "authkey")
	if err := os.WriteFile(key, []byte("key 1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nactive 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := filepath.Join(dir, "var")
	text := "cluster: {name: t}\nnodes: [{id: 1, name: n1, addresses: {ring0: 127.0.0.1}}]\nlinks: [{name: ring0, kind: ucast, interface: lo, port: 1}]\n" +
		"auth: {key_file: " + key + "}\nstate_dir: " + filepath.Join(v, "state") + "\nrun_dir: " + filepath.Join(v, "run") + "\nsocket: " + filepath.Join(v, "run", "s.sock") + "\n" + extra
	path := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRefusedFencingLeavesNothing: a bad fencing section (a typo the
// decoder sees, or a device no fence plugin can build) is refused with
// every problem of the file, before palisaded writes anything: no state
// dir, no generation file, no run dir, no socket.
func TestRefusedFencingLeavesNothing(t *testing.T) {
	for name, c := range map[string]struct{ fencing, want string }{
		"typo":   {"fencing:\n  actoin: reboot\n", "fencing.actoin: unknown key, valid keys here:"},
		"plugin": {"fencing:\n  devices:\n    - {name: bmc-n1, plugin: fence_nosuch, params: {ip: 198.18.0.201}}\n  topology: {n1: [[bmc-n1]]}\n", "fencing.devices[0]:"},
		"both":   {"fencing:\n  action: shutdown\n  devices:\n    - {name: bmc-n1, plugin: fence_nosuch, params: {ip: 198.18.0.201}}\nquorum: {two_node: perhaps}\n", "quorum.two_node"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeCluster(t, dir, c.fencing+"resources: {options: {no-quorum-policy: sucide}}\n")
			err := run(daemonFor(t, "--config", path, "--node", "n1", "--log-level", "error"))
			if err == nil || !strings.Contains(err.Error(), "configuration refused:") || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "resources.options.no-quorum-policy") {
				t.Fatalf("run: %v\nwant every problem, with %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "var")); !os.IsNotExist(err) {
				t.Fatalf("a refused configuration left %s behind (%v)", filepath.Join(dir, "var"), err)
			}
			t.Log(err)
		})
	}
	// The same file with a good fencing section does get its state dir
	// and generation (so the check above can fail).
	dir := t.TempDir()
	path := writeCluster(t, dir, "fencing: {action: reboot}\n")
	cfg, err := config.Load(path, daemonFor(t, "--config", path).loadOptions())
	if err != nil {
		t.Fatal(err)
	}
	self, _ := cfg.Self("n1")
	if _, err := node.New(node.Options{Config: cfg, Self: self}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "state", node.GenerationFile)); err != nil {
		t.Fatalf("an accepted configuration: %v", err)
	}
}

// TestDaemonSettings: palisaded's settings come from its flags, then
// PALISADED_* variables, then its settings file; the CLI's PALISADE_*
// variables are not read, and --help names every variable.
func TestDaemonSettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "palisaded.yaml")
	if err := os.WriteFile(file, []byte("node: from-file\nlog-level: debug\nsocket: /file.sock\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PALISADED_SETTINGS", file)
	t.Setenv("PALISADE_SOCKET", "/cli.sock") // the CLI's: never the daemon's
	t.Setenv("PALISADED_NODE", "from-env")
	s := daemonFor(t, "--log-level", "warn")
	o := s.loadOptions()
	if o.Self != "from-env" || o.Socket != "/file.sock" || s.String(settingLogLevel) != "warn" || s.String(settingConfig) != config.DefaultPath {
		t.Fatalf("node %q socket %q log-level %q config %q", o.Self, o.Socket, s.String(settingLogLevel), s.String(settingConfig))
	}
	if s.Source(settingNode) != "env PALISADED_NODE" || s.Source(settingSocket) != "settings "+file || s.Source(settingLogLevel) != "flag --log-level" {
		t.Fatalf("sources: %s, %s, %s", s.Source(settingNode), s.Source(settingSocket), s.Source(settingLogLevel))
	}
	if err := os.WriteFile(file, []byte("nodee: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := newSettings()
	fs := pflag.NewFlagSet("palisaded", pflag.ContinueOnError)
	bad.Bind(fs)
	if err := bad.Load(); err == nil || !strings.Contains(err.Error(), file+":1: nodee: unknown key, valid keys here: admin-group, config, event-log, gomaxprocs, log-format, log-level, metrics-listen, node, read-group, run-dir, socket, state-dir") {
		t.Fatalf("unknown key in the settings file: %v", err)
	}
	usage := fs.FlagUsages()
	for _, name := range []string{"config", "node", "socket", "state-dir", "run-dir", "log-level", "log-format", "event-log", "gomaxprocs", "metrics-listen", "read-group", "admin-group", "settings"} {
		if env := "(env PALISADED_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + ")"; !strings.Contains(usage, env) {
			t.Errorf("--help does not name %s:\n%s", env, usage)
		}
	}
	if strings.Contains(usage, "PALISADE_") {
		t.Errorf("--help names a CLI variable:\n%s", usage)
	}
}

// TestProcsSetting: gomaxprocs defaults to one thread, takes a number or
// "auto" from a flag or PALISADED_GOMAXPROCS, lets Go's GOMAXPROCS replace
// only the default, and refuses anything else naming where it came from.
func TestProcsSetting(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	auto := func() int {
		old := runtime.GOMAXPROCS(0)
		runtime.SetDefaultGOMAXPROCS()
		n := runtime.GOMAXPROCS(old)
		return n
	}()
	for _, c := range []struct {
		name      string
		args, env []string // env: name, value pairs
		want      int
		source    string
		err       string
	}{
		{name: "default", want: 1, source: "default"},
		{name: "flag", args: []string{"--gomaxprocs", "3"}, want: 3, source: "flag --gomaxprocs"},
		{name: "auto", args: []string{"--gomaxprocs", "auto"}, want: auto, source: "flag --gomaxprocs"},
		{name: "env", env: []string{"PALISADED_GOMAXPROCS", "2"}, want: 2, source: "env PALISADED_GOMAXPROCS"},
		// Go read its variable at start-up (here: as if it had set 7);
		// the daemon leaves that alone.
		{name: "go's variable replaces the default", env: []string{"GOMAXPROCS", "5"}, want: 7, source: "env GOMAXPROCS"},
		{name: "but not a setting", args: []string{"--gomaxprocs", "2"}, env: []string{"GOMAXPROCS", "5"}, want: 2, source: "flag --gomaxprocs"},
		{name: "zero", args: []string{"--gomaxprocs", "0"}, err: `gomaxprocs "0" (flag --gomaxprocs): want a number of threads, at least 1, or auto`},
		{name: "word", env: []string{"PALISADED_GOMAXPROCS", "many"}, err: `gomaxprocs "many" (env PALISADED_GOMAXPROCS): want`},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GOMAXPROCS(7)
			for i := 0; i < len(c.env); i += 2 {
				t.Setenv(c.env[i], c.env[i+1])
			}
			n, src, err := daemonFor(t, c.args...).applyProcs()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("applyProcs: %v, want an error with %q", err, c.err)
				}
				return
			}
			if err != nil || n != c.want || src != c.source || runtime.GOMAXPROCS(0) != c.want {
				t.Fatalf("applyProcs = %d, %q, %v (GOMAXPROCS now %d); want %d, %q", n, src, err, runtime.GOMAXPROCS(0), c.want, c.source)
			}
		})
	}
}
