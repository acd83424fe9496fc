package redfishsim

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNetns runs fn on a thread switched into the named network namespace;
// sockets fn creates stay in that namespace after it returns.
func inNetns(name string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("redfishsim: current namespace: %w", err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("redfishsim: netns %s: %w", name, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("redfishsim: entering netns %s: %w", name, err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// The thread stays locked: the runtime discards it when the
		// goroutine ends, so nothing else runs in the wrong namespace.
		return fmt.Errorf("redfishsim: leaving netns %s: %w", name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
