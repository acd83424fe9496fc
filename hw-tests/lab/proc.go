package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Proc is a background process running in a namespace.
type Proc struct {
	Cmd  *exec.Cmd
	Log  string // file holding its stdout and stderr
	done chan struct{}
	err  error
}

// Command returns a command that runs name inside the host's namespace
// (via `ip netns exec`, which execs in place: Cmd.Process.Pid is the
// program's own PID). Set Env, Stdin etc. before running it.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.Name, name}, args...)...)
}

// Run runs a command in the namespace and returns its combined output.
func (h *Host) Run(name string, args ...string) (string, error) {
	out, err := h.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s %s: %w", h.Name, name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Start runs a command in the background with its output in a log file
// under Lab.LogDir; Lab.Close kills it if it is still running.
func (h *Host) Start(name string, args ...string) (*Proc, error) {
	return h.StartCmd(h.Command(name, args...), filepath.Base(name))
}

// StartCmd starts a command built with Command (for custom Env or Stdin);
// tag names its log file.
func (h *Host) StartCmd(cmd *exec.Cmd, tag string) (*Proc, error) {
	l := h.lab
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, errors.New("lab: closed")
	}
	logf, err := os.CreateTemp(l.LogDir, fmt.Sprintf("%s-%s-*.log", h.Name, tag))
	if err != nil {
		return nil, fmt.Errorf("lab: log for %s: %w", tag, err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, so a Ctrl-C on the test does not hit it before
	// Close can stop it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("lab: start %s in %s: %w", tag, h.Name, err)
	}
	p := &Proc{Cmd: cmd, Log: logf.Name(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the exit error once Done is closed.
func (p *Proc) Err() error { <-p.done; return p.err }

// Signal sends sig to the process if it is still running.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	return p.Cmd.Process.Signal(sig)
}

// Kill stops the process at once (like a crash or a power-off) and waits.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to exit (SIGTERM), kills it after 5 s, and waits.
func (p *Proc) Stop() {
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.Kill()
	}
}

// Output returns what the process has logged so far.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}
