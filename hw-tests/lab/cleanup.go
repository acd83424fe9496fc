package lab

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Close stops every process and removes every namespace of the lab. It is
// safe to call more than once and after a failed New.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs, names := l.procs, l.netns
	l.mu.Unlock()
	for _, p := range procs {
		p.Signal(syscall.SIGTERM)
	}
	deadline := time.After(3 * time.Second)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline:
			p.Kill()
		}
	}
	var errs []error
	// Reverse order: hosts before the switch, so no veth outlives its peer.
	for i := len(names) - 1; i >= 0; i-- {
		if err := removeNetns(names[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Cleanup removes every namespace named prefix-* (and kills what runs in
// them): the leftovers of a run that could not call Close.
func Cleanup(prefix string) error {
	if prefix == "" {
		return errors.New("lab: cleanup needs a prefix")
	}
	out, err := ip("netns", "list")
	if err != nil {
		return err
	}
	var errs []error
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], prefix+"-") {
			if err := removeNetns(f[0]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// removeNetns kills the processes still inside a namespace, by PID, and
// deletes it.
func removeNetns(name string) error {
	for attempt := 0; attempt < 20; attempt++ {
		out, _ := ip("netns", "pids", name)
		pids := strings.Fields(out)
		if len(pids) == 0 {
			break
		}
		for _, s := range pids {
			if pid, err := strconv.Atoi(s); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := ip("netns", "del", name); err != nil && !strings.Contains(err.Error(), "No such file") {
		return fmt.Errorf("lab: remove namespace %s: %w", name, err)
	}
	return nil
}
