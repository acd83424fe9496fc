package agent

import (
	"context"
	"fmt"
	"path/filepath"
)

// LSB runs System V init scripts as Pacemaker's lsb class does.
type LSB struct {
	Dir         string // e.g. /etc/init.d
	ExtraEnv    map[string]string
	OutputLimit int
}

// Run executes <Dir>/<Type> start|stop|status. Monitor runs "status".
func (l *LSB) Run(ctx context.Context, action Action, in Instance) Result {
	return runScript(ctx, l.Dir, nil, action, in, l.ExtraEnv, l.OutputLimit, lsbStatusRC)
}

// scriptVerb maps an OCF action to the verb init-style scripts understand;
// "" means the class does not implement it.
func scriptVerb(a Action) string {
	switch a {
	case Start, Stop:
		return string(a)
	case Monitor:
		return "status"
	}
	return ""
}

// runScript is shared by the lsb and heartbeat classes: both run
// "<dir>/<type> [args...] verb" and differ in how status is read.
func runScript(ctx context.Context, dir string, args []string, action Action, in Instance,
	extra map[string]string, limit int, status func(code int, stdout string) RC) Result {
	if !safeName(in.Type) {
		return Result{RC: ErrConfigured, Status: StatusDone,
			ExitReason: fmt.Sprintf("resource %s: bad script name %q", in.ID, in.Type)}
	}
	verb := scriptVerb(action)
	if verb == "" {
		return Result{RC: ErrUnimplemented, Status: StatusDone,
			ExitReason: fmt.Sprintf("resource %s: %s scripts have no %q action", in.ID, in.Class, action)}
	}
	path := filepath.Join(dir, in.Type)
	if err := executable(path); err != nil {
		return notInstalled(fmt.Sprintf("resource %s: script %s: %v", in.ID, path, err))
	}
	argv := append(append([]string{}, args...), verb)
	p := run(ctx, command{path: path, args: argv, env: baseEnv(extra), timeout: in.timeout(), limit: limit})
	res := fromProc(p)
	if p.status != StatusDone {
		return res
	}
	if verb == "status" {
		res.RC = status(p.exitCode, p.stdout)
	} else {
		res.RC = lsbActionRC(p.exitCode)
	}
	return res
}

// lsbActionRC: for actions other than status, LSB and OCF share codes 0-7.
func lsbActionRC(code int) RC {
	if code >= 0 && code <= int(NotRunning) {
		return RC(code)
	}
	return ErrGeneric
}

// lsbStatusRC maps LSB status codes: 0 running; 1 dead with pid file,
// 2 dead with lock file, 3 not running → stopped; 4 unknown → error.
func lsbStatusRC(code int, _ string) RC {
	switch code {
	case 0:
		return OK
	case 1, 2, 3:
		return NotRunning
	}
	return ErrGeneric
}
