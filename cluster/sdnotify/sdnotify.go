// Package sdnotify tells systemd how the daemon is doing (sd_notify(3)):
// READY=1 once it serves, RELOADING=1 / READY=1 around a SIGHUP reload,
// STOPPING=1 when it leaves, STATUS= lines for `systemctl status`, and
// WATCHDOG=1 keep-alives for WatchdogSec= while the daemon's own loop is
// healthy. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
//
//	n := sdnotify.New(log)
//	n.Ready("member of view 4, DC n1")
//	go n.Watchdog(ctx, func() error { return loop.Stalled(2 * keepalive) })
//	...
//	n.Stopping("leaving the cluster")
//
// The protocol itself is github.com/coreos/go-systemd/v22/daemon.
package sdnotify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends state changes to systemd.
type Notifier struct {
	log *slog.Logger
	// watchdog is systemd's WatchdogSec for this process (0: none).
	watchdog time.Duration
}

// New reads the service's watchdog setting from the environment
// (WATCHDOG_USEC, for this PID only).
func New(log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	n := &Notifier{log: log}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog settings unreadable; not sending keep-alives", "err", err)
	}
	n.watchdog = d
	return n
}

// send writes one notification; sent is false outside systemd.
func (n *Notifier) send(lines ...string) (bool, error) {
	state := strings.Join(lines, "\n")
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		return false, fmt.Errorf("sd_notify %q: %w", lines[0], err)
	}
	return sent, nil
}

func status(s string) string {
	// One line: STATUS ends at the newline that separates assignments.
	return "STATUS=" + strings.ReplaceAll(s, "\n", " ")
}

// Ready says start-up (or a reload) is done; systemd then starts the
// units ordered after this one.
func (n *Notifier) Ready(statusText string) error {
	_, err := n.send(daemon.SdNotifyReady, status(statusText))
	return err
}

// Reloading says a configuration reload began; call Ready when it ends.
func (n *Notifier) Reloading() error {
	_, err := n.send(daemon.SdNotifyReloading, status("reloading the configuration"))
	return err
}

// Stopping says the daemon is shutting down (it may take a while: it
// hands its resources over first).
func (n *Notifier) Stopping(statusText string) error {
	_, err := n.send(daemon.SdNotifyStopping, status(statusText))
	return err
}

// Status updates the one-line status `systemctl status` shows.
func (n *Notifier) Status(statusText string) error {
	_, err := n.send(status(statusText))
	return err
}

// WatchdogInterval is systemd's WatchdogSec for this service, 0 if the
// watchdog is off.
func (n *Notifier) WatchdogInterval() time.Duration { return n.watchdog }

// Watchdog sends WATCHDOG=1 every half WatchdogSec while healthy returns
// nil, until ctx ends. healthy should tell whether the daemon's control
// loop still makes progress: a keep-alive from a goroutine that merely
// runs would hide exactly the hang the watchdog is there to catch. When
// healthy fails, keep-alives stop and systemd kills and restarts the
// daemon after WatchdogSec (its peers fence the node meanwhile). Without a
// watchdog it returns at once.
func (n *Notifier) Watchdog(ctx context.Context, healthy func() error) {
	if n.watchdog <= 0 {
		return
	}
	t := time.NewTicker(n.watchdog / 2)
	defer t.Stop()
	n.watchdogLoop(ctx, t.C, healthy)
}

func (n *Notifier) watchdogLoop(ctx context.Context, ticks <-chan time.Time, healthy func() error) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		if err := healthy(); err != nil {
			if !failing {
				n.log.Error("health check failed: no systemd watchdog keep-alive; systemd restarts palisaded if this lasts", "err", err, "watchdog", n.watchdog)
				failing = true
			}
			continue
		}
		if failing {
			n.log.Info("health check passes again: watchdog keep-alives resumed")
			failing = false
		}
		if _, err := n.send(daemon.SdNotifyWatchdog); err != nil {
			n.log.Warn("systemd watchdog keep-alive", "err", err)
		}
	}
}
