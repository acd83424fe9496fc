// Package watchdog is Palisade's self-fencing: it arms a Linux watchdog
// device and feeds it only while a health predicate holds (the daemon
// passes "healthy and in a quorate partition"). When the daemon hangs,
// crashes or loses quorum, feeding stops and the kernel (or the watchdog
// hardware) resets the machine within the watchdog timeout; its peers may
// then count it as fenced once watchdog_fence_timeout has passed since
// they lost it, which CheckFenceTimeout keeps safely above the watchdog
// timeout.
//
//	dev, err := watchdog.OpenLinux("/dev/watchdog")
//	w, err := watchdog.New(dev, watchdog.Config{Timeout: 10 * time.Second,
//		Healthy: func() (bool, string) { ... }})
//	go w.Run(ctx)             // feeds every Timeout/3 while Healthy holds
//	...
//	w.Stop()                  // clean shutdown: magic close, the timer stops
//
// Once Healthy has failed, the Watchdog never feeds again: peers may be
// about to count this node as fenced, so it must reset, not come back.
//
// The device is behind the Device interface; Fake is a stand-in that
// records every operation and fires on a logical clock, for tests of this
// package and of the daemon.
//
// The package also registers fence_watchdog, the peers' side: a fence
// "device" that reports a lost node OFF once watchdog_fence_timeout has
// passed since it was lost. It works only inside the daemon, which
// provides when nodes were lost (SetLossClock); as a command it refuses,
// like the ClusterLabs fence_watchdog ("Watchdog fencing may be initiated
// only by the cluster, not this agent.").
package watchdog

import "time"

// Device is a watchdog timer: the machine resets when it is not fed within
// its timeout.
type Device interface {
	// SetTimeout asks for a timeout (WDIOC_SETTIMEOUT) and returns the one
	// the driver set, which may be rounded.
	SetTimeout(d time.Duration) (time.Duration, error)
	// Timeout reads the current timeout (WDIOC_GETTIMEOUT).
	Timeout() (time.Duration, error)
	// Keepalive feeds the timer (WDIOC_KEEPALIVE).
	Keepalive() error
	// MagicClose writes the magic character 'V' and closes: the timer
	// stops (a clean shutdown).
	MagicClose() error
	// Close closes without the magic character: the timer keeps running
	// and the machine resets unless someone reopens and feeds it.
	Close() error
	// Identity names the driver (WDIOC_GETSUPPORT), for logs.
	Identity() string
}
