package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Heartbeat runs Heartbeat v1 resource.d scripts:
// "<Dir>/<Type> arg1 arg2 ... start|stop|status". Like Heartbeat, a type
// missing from Dir is looked up in InitDir (haresources may name plain
// init scripts such as "httpd").
type Heartbeat struct {
	Dir         string // e.g. /etc/ha.d/resource.d
	InitDir     string // e.g. /etc/init.d
	ExtraEnv    map[string]string
	OutputLimit int
}

// Run executes the script with the positional Params "1", "2", ... .
func (h *Heartbeat) Run(ctx context.Context, action Action, in Instance) Result {
	args, err := positional(in)
	if err != nil {
		return Result{RC: ErrConfigured, Status: StatusDone, ExitReason: err.Error()}
	}
	dir := h.Dir
	if _, err := os.Stat(filepath.Join(dir, in.Type)); err != nil && h.InitDir != "" && safeName(in.Type) {
		if _, err := os.Stat(filepath.Join(h.InitDir, in.Type)); err == nil {
			return runScript(ctx, h.InitDir, args, action, in, h.ExtraEnv, h.OutputLimit, lsbStatusRC)
		}
	}
	return runScript(ctx, dir, args, action, in, h.ExtraEnv, h.OutputLimit, heartbeatStatusRC)
}

// heartbeatStatusRC reads a resource.d status: scripts print "running" or
// "stopped" and usually exit 0 either way.
func heartbeatStatusRC(code int, stdout string) RC {
	out := strings.ToLower(stdout)
	switch {
	case code != 0:
		return lsbStatusRC(code, stdout)
	case strings.Contains(out, "stopped"), strings.Contains(out, "not running"):
		return NotRunning
	case strings.Contains(out, "running"), strings.Contains(out, "ok"):
		return OK
	}
	return NotRunning
}

// positional returns Params "1".."n" in order; a gap is a config error.
func positional(in Instance) ([]string, error) {
	var args []string
	for i := 1; i <= len(in.Params); i++ {
		v, ok := in.Params[strconv.Itoa(i)]
		if !ok {
			return nil, fmt.Errorf("resource %s: heartbeat script arguments must be params \"1\"..\"%d\", missing %q", in.ID, len(in.Params), strconv.Itoa(i))
		}
		args = append(args, v)
	}
	return args, nil
}
