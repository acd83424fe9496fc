package hwtests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/plugins/watchdog"
)

// whyNoWatchdog explains why this machine has no /dev/watchdog, as
// precisely as it can be told from here.
func whyNoWatchdog() string {
	var rel syscall.Utsname
	_ = syscall.Uname(&rel)
	var b []byte
	for _, c := range rel.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	kernel := string(b)
	var why []string
	if ents, err := os.ReadDir("/sys/class/watchdog"); err != nil || len(ents) == 0 {
		why = append(why, "no watchdog driver is loaded (/sys/class/watchdog is empty or absent)")
	}
	if _, err := os.Stat("/lib/modules/" + kernel); err != nil {
		why = append(why, fmt.Sprintf("kernel %s has no /lib/modules/%s, so no module (softdog included) can be loaded", kernel, kernel))
	} else if _, err := exec.LookPath("modprobe"); err != nil {
		why = append(why, "modprobe is not installed (Debian package kmod), so softdog cannot be loaded")
	} else {
		why = append(why, "softdog is not loaded (modprobe softdog as root, then rerun)")
	}
	return strings.Join(why, "; ")
}

// loadSoftdog loads the kernel's software watchdog with soft_noboot=1
// (an expiry is logged, the machine is not reset) when this machine can
// load modules, and unloads it afterwards.
func loadSoftdog(t *testing.T) bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := exec.LookPath("modprobe"); err != nil {
		return false
	}
	if out, err := exec.Command("modprobe", "softdog", "soft_noboot=1").CombinedOutput(); err != nil {
		t.Logf("modprobe softdog soft_noboot=1: %v %s", err, out)
		return false
	}
	t.Cleanup(func() { _ = exec.Command("modprobe", "-r", "softdog").Run() })
	for i := 0; i < 50; i++ {
		if _, err := os.Stat("/dev/watchdog"); err == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestWatchdogRealDevice arms the machine's real watchdog, feeds it, reads
// the timeout back and disarms it with the magic close. It needs
// /dev/watchdog that no other watchdog daemon holds; without one it loads
// softdog with soft_noboot=1 where modules can be loaded. With a device
// that really resets (a hardware driver, or softdog loaded by someone
// else), if this process dies between arming and disarming, the machine
// resets after 30 s, as with any watchdog daemon.
func TestWatchdogRealDevice(t *testing.T) {
	const path = "/dev/watchdog"
	if _, err := os.Stat(path); err != nil && !loadSoftdog(t) {
		t.Skipf("no %s on this machine: %s", path, whyNoWatchdog())
	}
	dev, err := watchdog.OpenLinux(path)
	if errors.Is(err, syscall.EBUSY) || err != nil && strings.Contains(err.Error(), "already open") {
		t.Skipf("%s is held by another watchdog daemon: %v", path, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	fed := make(chan bool, 16)
	w, err := watchdog.New(dev, watchdog.Config{Timeout: 30 * time.Second, Interval: 200 * time.Millisecond,
		Healthy: func() (bool, string) { return true, "" }, OnTick: func(ok bool) { fed <- ok }})
	if err != nil {
		dev.MagicClose()
		t.Fatal(err)
	}
	defer w.Stop()
	t.Logf("armed %s (%s) with timeout %s", path, dev.Identity(), w.Timeout())
	if got, err := dev.Timeout(); err != nil || got != w.Timeout() {
		t.Errorf("WDIOC_GETTIMEOUT = %s %v, want %s", got, err, w.Timeout())
	}
	stop := make(chan struct{})
	go func() {
		defer close(stop)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		w.Run(ctx)
	}()
	n := 0
	for n < 5 {
		if !<-fed {
			t.Fatal("a keepalive failed on the real device")
		}
		n++
	}
	<-stop
	if err := w.Stop(); err != nil {
		t.Fatalf("magic close: %v", err)
	}
	// Disarmed: the device can be opened again at once.
	again, err := watchdog.OpenLinux(path)
	if err != nil {
		t.Fatalf("reopening after the magic close: %v", err)
	}
	if err := again.MagicClose(); err != nil {
		t.Fatal(err)
	}
}

// TestFenceWatchdogCommand: as a command, fence_watchdog does what the
// ClusterLabs one does: metadata, and a refusal for anything else.
func TestFenceWatchdogCommand(t *testing.T) {
	ref := refScript(t, "fence_watchdog")
	ours := pluginAgent(t, "fence_watchdog")
	for _, args := range [][]string{{"-o", "off", "-n", "n2"}, {"-o", "reboot", "-n", "n2"}, {"-o", "monitor", "-n", "n2"}} {
		want := runAgent(t, append(slices.Clone(ref), args...), "")
		got := runAgent(t, append([]string{ours}, args...), "")
		if got.code != want.code || got.code != 1 {
			t.Errorf("%v: exit %d, reference %d", args, got.code, want.code)
		}
		if !strings.Contains(got.stderr, "Watchdog fencing may be initiated only by the cluster, not this agent.") {
			t.Errorf("%v: stderr %q", args, got.stderr)
		}
	}
	want := metadataParams(runAgent(t, append(ref, "-o", "metadata"), "").stdout)
	got := metadataParams(runAgent(t, []string{ours, "-o", "metadata"}, "").stdout)
	for n := range want {
		if !got[n] {
			t.Errorf("our metadata lacks the reference parameter %q", n)
		}
	}
}
