package watchdog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config configures a Watchdog.
type Config struct {
	// Timeout is the watchdog timeout to arm (the driver may round it).
	Timeout time.Duration
	// Interval is how often Healthy is asked and the timer fed; default
	// Timeout/3, so two feeds can be missed to scheduling before a reset.
	Interval time.Duration
	// Healthy reports whether this node may keep running: the daemon
	// passes "healthy and in a quorate partition", with the reason when
	// not. Called from Run's goroutine; it must not block.
	Healthy func() (ok bool, why string)
	// Ticks replaces the interval ticker (tests drive it by hand).
	Ticks <-chan time.Time
	// OnTick, if set, is called after each feeding decision with whether
	// the timer was fed (the daemon's status and metrics; tests wait on it).
	OnTick func(fed bool)
	// Logger receives the watchdog's events; default slog.Default().
	Logger *slog.Logger
}

// Watchdog feeds a Device while Healthy holds.
type Watchdog struct {
	dev      Device
	cfg      Config
	timeout  time.Duration
	log      *slog.Logger
	mu       sync.Mutex
	stopped  bool
	starving bool   // Healthy failed: never feed again
	why      string // why feeding stopped
	feeds    int
	lastFeed time.Time
	done     chan struct{}
}

// ErrStopped is returned by Run after Stop or Abandon.
var ErrStopped = errors.New("watchdog stopped")

// New arms dev with cfg.Timeout and feeds it once. The Watchdog owns dev
// from here on: Stop (clean shutdown) or Abandon must end it.
func New(dev Device, cfg Config) (*Watchdog, error) {
	if cfg.Timeout < time.Second {
		return nil, fmt.Errorf("watchdog: timeout %s is below the one second drivers can count", cfg.Timeout)
	}
	if cfg.Healthy == nil {
		return nil, fmt.Errorf("watchdog: no health predicate: a watchdog fed unconditionally protects nothing")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	got, err := dev.SetTimeout(cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("arming the watchdog (%s) with timeout %s: %w", dev.Identity(), cfg.Timeout, err)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = got / 3
	}
	if cfg.Interval >= got {
		return nil, fmt.Errorf("watchdog: feed interval %s is not below the timeout %s", cfg.Interval, got)
	}
	w := &Watchdog{dev: dev, cfg: cfg, timeout: got, log: cfg.Logger.With("watchdog", dev.Identity()), done: make(chan struct{})}
	if err := dev.Keepalive(); err != nil {
		return nil, fmt.Errorf("first keepalive: %w", err)
	}
	w.feeds, w.lastFeed = 1, time.Now()
	w.log.Info("watchdog armed", "timeout", got, "feed_interval", cfg.Interval)
	return w, nil
}

// Timeout is the timeout the driver set (what CheckFenceTimeout must be
// given).
func (w *Watchdog) Timeout() time.Duration { return w.timeout }

// Run feeds the watchdog every interval while Healthy holds and returns
// when ctx ends or Stop/Abandon is called. Returning does not disarm it:
// only Stop does. The first time Healthy fails, feeding stops for good and
// the machine resets within the timeout.
func (w *Watchdog) Run(ctx context.Context) error {
	ticks := w.cfg.Ticks
	if ticks == nil {
		t := time.NewTicker(w.cfg.Interval)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.done:
			return ErrStopped
		case <-ticks:
			fed := w.tick()
			if w.cfg.OnTick != nil {
				w.cfg.OnTick(fed)
			}
		}
	}
}

// tick is one feeding decision; it reports whether the timer was fed.
func (w *Watchdog) tick() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.starving {
		return false
	}
	if ok, why := w.cfg.Healthy(); !ok {
		w.starving, w.why = true, why
		w.log.Error("self-fencing: no longer feeding the watchdog; this machine resets within the timeout",
			"why", why, "timeout", w.timeout, "last_feed", w.lastFeed)
		return false
	}
	if err := w.dev.Keepalive(); err != nil {
		// A device that cannot be fed resets the machine: that is the
		// safe direction, so it is logged, not hidden.
		w.log.Error("watchdog keepalive failed", "err", err)
		return false
	}
	w.feeds++
	w.lastFeed = time.Now()
	return true
}

// Feeding reports whether the watchdog is still fed, and if not, why.
func (w *Watchdog) Feeding() (bool, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return false, "stopped"
	}
	return !w.starving, w.why
}

// Stop is a clean shutdown: magic close, so the timer stops and the
// machine keeps running. It refuses once Healthy has failed: a node that
// lost quorum must reset, even if the daemon is then asked to exit.
func (w *Watchdog) Stop() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil
	}
	if w.starving {
		return fmt.Errorf("watchdog: not disarming: feeding stopped because %s; the machine must reset", w.why)
	}
	w.stopped = true
	close(w.done)
	if err := w.dev.MagicClose(); err != nil {
		return fmt.Errorf("watchdog: magic close: %w", err)
	}
	w.log.Info("watchdog disarmed (magic close)", "feeds", w.feeds)
	return nil
}

// Abandon stops feeding and closes the device without the magic
// character: the machine resets within the timeout. For a daemon that
// must exit after losing control.
func (w *Watchdog) Abandon(why string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil
	}
	w.stopped, w.starving, w.why = true, true, why
	close(w.done)
	w.log.Error("self-fencing: watchdog abandoned; this machine resets within the timeout", "why", why, "timeout", w.timeout)
	return w.dev.Close()
}
