package agent

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultOutputLimit bounds how much of each of stdout and stderr is kept;
// agents such as meta-data print a few kilobytes, anything beyond this is a
// runaway process and is dropped (but still drained so the child never
// blocks on a full pipe).
const DefaultOutputLimit = 64 << 10

// pipeGrace is how long Wait keeps reading after the agent exited while a
// background child still holds its stdout open: IPaddr2 leaves send_arp
// running for a second, and waiting for its EOF would add that to every
// start. What the agent itself wrote is already in the pipe and drained
// continuously, so a short grace loses nothing of the agent's own output.
const pipeGrace = 50 * time.Millisecond

// command is one agent process invocation.
type command struct {
	path    string
	args    []string
	env     []string
	timeout time.Duration
	limit   int
}

// procResult is what the process produced, before class-specific mapping.
type procResult struct {
	exitCode int
	status   Status
	stdout   string
	stderr   string
	err      error
	duration time.Duration
}

// run executes c in its own process group. On timeout or cancellation the
// whole group gets SIGKILL: agents fork helpers (ip, mount, sleep) that
// would otherwise outlive them and keep running after we gave up.
func run(ctx context.Context, c command) procResult {
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	limit := c.limit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	var stdout, stderr boundedBuffer
	stdout.limit, stderr.limit = limit, limit

	cmd := exec.CommandContext(tctx, c.path, c.args...)
	cmd.Env = c.env
	cmd.Dir = "/"
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the whole process group the agent leads.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = pipeGrace

	err := cmd.Run()
	res := procResult{
		stdout:   stdout.String(),
		stderr:   stderr.String(),
		duration: time.Since(start),
		err:      err,
	}
	exited := cmd.ProcessState != nil && cmd.ProcessState.Exited()
	switch {
	case cmd.ProcessState == nil && ctx.Err() != nil:
		res.status = StatusCancelled
	case cmd.ProcessState == nil:
		res.status = StatusError // never started: missing or not executable
	case !exited && ctx.Err() != nil:
		res.status = StatusCancelled
	case !exited && tctx.Err() != nil:
		res.status = StatusTimeout
	case !exited:
		// Killed by a signal we did not send: a crash is a generic error.
		res.status = StatusDone
		res.exitCode = int(ErrGeneric)
	default:
		res.status = StatusDone
		res.exitCode = cmd.ProcessState.ExitCode()
		if errors.Is(err, exec.ErrWaitDelay) {
			res.err = nil // a background child kept the pipe; the agent itself finished
		}
	}
	return res
}

// boundedBuffer keeps the first limit bytes written and discards the rest.
type boundedBuffer struct {
	mu        sync.Mutex
	b         strings.Builder
	limit     int
	truncated bool
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.limit - w.b.Len(); room > 0 {
		if len(p) > room {
			w.b.Write(p[:room])
			w.truncated = true
		} else {
			w.b.Write(p)
		}
	} else if len(p) > 0 {
		w.truncated = true
	}
	return len(p), nil
}

func (w *boundedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.truncated {
		return w.b.String() + "\n[output truncated]"
	}
	return w.b.String()
}

// executable reports whether path exists and is an executable regular file,
// so a missing agent maps to "not installed" rather than a generic error.
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// exitReason extracts the last "ocf-exit-reason:" line an agent wrote to
// stderr (ocf_exit_reason in ocf-shellfuncs).
func exitReason(stderr string) string {
	const cookie = "ocf-exit-reason:"
	reason := ""
	for line := range strings.Lines(stderr) {
		if i := strings.Index(line, cookie); i >= 0 {
			reason = strings.TrimSpace(line[i+len(cookie):])
		}
	}
	return reason
}
