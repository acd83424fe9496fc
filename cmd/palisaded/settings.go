package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"

	"palisade/cluster/config"
	"palisade/cmd/internal/settings"
	"palisade/fence"
	"palisade/fence/topology"
)

// palisaded's own run-time settings: flags, PALISADED_* environment
// variables, its settings file (/etc/palisade/palisaded.yaml), in that
// order. The cluster's configuration is cluster.yaml (--config); socket,
// state-dir and run-dir override its keys of the same name when set.
const (
	settingConfig    = "config"
	settingNode      = "node"
	settingSocket    = "socket"
	settingStateDir  = "state-dir"
	settingRunDir    = "run-dir"
	settingLogLevel  = "log-level"
	settingLogFormat = "log-format"
	settingEventLog  = "event-log"
	settingProcs     = "gomaxprocs"
	// The operator's settings (operator.go).
	settingMetricsListen = "metrics-listen"
	settingReadGroup     = "read-group"
	settingAdminGroup    = "admin-group"
)

// DefaultSettingsFile is palisaded's settings file, read if it exists.
const DefaultSettingsFile = "/etc/palisade/palisaded.yaml"

type daemonSettings struct{ *settings.Set }

func newSettings() daemonSettings {
	return daemonSettings{settings.New("palisaded", "PALISADED", DefaultSettingsFile, []settings.Setting{
		{Name: settingConfig, Default: config.DefaultPath, Usage: "cluster configuration file"},
		{Name: settingNode, Usage: "this node's name or id (default: the host name)"},
		{Name: settingSocket, Usage: "control socket, instead of cluster.yaml's socket"},
		{Name: settingStateDir, Usage: "state directory, instead of cluster.yaml's state_dir"},
		{Name: settingRunDir, Usage: "run directory, instead of cluster.yaml's run_dir"},
		{Name: settingLogLevel, Default: "info", Usage: "log level: debug, info, warn, error"},
		{Name: settingLogFormat, Default: "text", Usage: "log format: text or json"},
		{Name: settingEventLog, Usage: "the event log (JSON lines, rotated at 64 MiB; default state_dir/events.jsonl, \"none\" for no file)"},
		{Name: settingProcs, Default: "1", Usage: "threads running the daemon's Go code at once: a number or \"auto\" (the CPUs it may use); Go's GOMAXPROCS variable replaces the default"},
		{Name: settingMetricsListen, Usage: "serve Prometheus metrics at http://ADDR/metrics, e.g. 198.18.0.1:9664 (default: off)"},
		{Name: settingReadGroup, Default: DefaultReadGroup, Usage: "group (name or gid) whose members may read status over the control socket; ignored if it does not exist; \"\" for none"},
		{Name: settingAdminGroup, Usage: "group (name or gid) whose members may also change the cluster (standby, move, fence confirm...); default: root only"},
	})}
}

// loadOptions are the configuration loader's options from the settings:
// this node, the paths that override the file's, and the fence device
// check (the daemon links the fence plugins, so it can build each device
// before it starts).
func (s daemonSettings) loadOptions() config.Options {
	return config.Options{
		Self:     s.String(settingNode),
		Socket:   s.String(settingSocket),
		StateDir: s.String(settingStateDir),
		RunDir:   s.String(settingRunDir),
		CheckDevice: func(d topology.Device) error {
			if d.Plugin == quorumDiskPlugin {
				// The poison pill is the quorum disk's (quorumdev.go),
				// checked with the disk when the daemon opens it.
				return nil
			}
			_, err := fence.NewAgent(d.Plugin, d.Params)
			if errors.Is(err, fence.ErrUnsupported) {
				// A device that works only inside the running daemon
				// (fence_watchdog needs its loss clock): checked when
				// the fencer is built.
				return nil
			}
			return err
		},
	}
}

// operator is the operator settings (operator.go).
func (s daemonSettings) operator() *operatorSettings {
	return &operatorSettings{MetricsListen: s.String(settingMetricsListen), ReadGroup: s.String(settingReadGroup),
		AdminGroup: s.String(settingAdminGroup)}
}

// logger builds the daemon's logger from the log settings.
func (s daemonSettings) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(s.String(settingLogLevel))); err != nil {
		return nil, fmt.Errorf("log-level %q (%s): %w", s.String(settingLogLevel), s.Source(settingLogLevel), err)
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	switch f := s.String(settingLogFormat); f {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, hopts)), nil
	default:
		return nil, fmt.Errorf("log-format %q (%s): want text or json", f, s.Source(settingLogFormat))
	}
}

// applyProcs sets how many threads run Go code at once (GOMAXPROCS) and
// says how many and why. The default is one: the daemon's work is small
// packets, timers and child processes, and with one thread a burst of
// heartbeats is read by the thread that woke for it instead of being
// handed to a second one woken for the purpose, which at a 100 ms
// keepalive in a 16-node mesh is a sixth of the daemon's CPU time
// (bench-mesh). Blocking system calls and cgo still get threads of their
// own; "auto" is Go's usual choice for a daemon that has heavy work to
// spread. Go's own GOMAXPROCS variable is honoured in place of the
// default, so the usual knob keeps working.
func (s daemonSettings) applyProcs() (n int, source string, err error) {
	source = s.Source(settingProcs)
	if source == "default" && os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0), "env GOMAXPROCS", nil
	}
	v := s.String(settingProcs)
	if v == "auto" {
		runtime.SetDefaultGOMAXPROCS()
		return runtime.GOMAXPROCS(0), source, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, source, fmt.Errorf("gomaxprocs %q (%s): want a number of threads, at least 1, or auto", v, source)
	}
	runtime.GOMAXPROCS(n)
	return n, source, nil
}

// warnOldEnv names the environment variables palisaded read before it had
// its own prefix: they are the CLI's now (PALISADE_SOCKET) or gone, and
// ignoring one silently would start a daemon somewhere unexpected.
func warnOldEnv(log *slog.Logger) {
	for old, now := range map[string]string{
		"PALISADE_CONFIG": "PALISADED_CONFIG", "PALISADE_NODE": "PALISADED_NODE",
		"PALISADE_STATE_DIR": "PALISADED_STATE_DIR", "PALISADE_RUN_DIR": "PALISADED_RUN_DIR",
	} {
		if os.Getenv(old) != "" {
			log.Warn("ignoring an environment variable palisaded no longer reads", "variable", old, "use", now)
		}
	}
}
