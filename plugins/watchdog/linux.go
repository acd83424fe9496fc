//go:build linux

package watchdog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// linuxDevice is /dev/watchdog (or /dev/watchdogN) through the kernel's
// watchdog API (Documentation/watchdog/watchdog-api.rst).
type linuxDevice struct {
	path     string
	f        *os.File
	identity string
	magic    bool // the driver supports magic close (WDIOF_MAGICCLOSE)
}

// wdiofMagicClose is WDIOF_MAGICCLOSE from linux/watchdog.h.
const wdiofMagicClose = 0x0100

// watchdogInfo is struct watchdog_info.
type watchdogInfo struct {
	Options         uint32
	FirmwareVersion uint32
	Identity        [32]byte
}

// OpenLinux opens a Linux watchdog device. Opening starts the timer with
// the driver's current timeout: call SetTimeout and start feeding at once
// (New does both).
func OpenLinux(path string) (Device, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("watchdog %s: already open (another watchdog daemon, e.g. sbd or watchdog, holds it): %w", path, err)
		}
		return nil, fmt.Errorf("watchdog %s: %w", path, err)
	}
	d := &linuxDevice{path: path, f: f, identity: "unknown"}
	var info watchdogInfo
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), uintptr(unix.WDIOC_GETSUPPORT), uintptr(unsafe.Pointer(&info))); errno == 0 {
		d.identity = string(bytes.TrimRight(info.Identity[:], "\x00"))
		d.magic = info.Options&wdiofMagicClose != 0
	}
	return d, nil
}

func (d *linuxDevice) fd() int { return int(d.f.Fd()) }

func (d *linuxDevice) SetTimeout(t time.Duration) (time.Duration, error) {
	secs := int32((t + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	// WDIOC_SETTIMEOUT is _IOWR: the driver writes back what it set.
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, d.f.Fd(), uintptr(unix.WDIOC_SETTIMEOUT), uintptr(unsafe.Pointer(&secs))); errno != 0 {
		return 0, fmt.Errorf("watchdog %s: WDIOC_SETTIMEOUT %ds: %w", d.path, secs, errno)
	}
	return time.Duration(secs) * time.Second, nil
}

func (d *linuxDevice) Timeout() (time.Duration, error) {
	v, err := unix.IoctlGetUint32(d.fd(), unix.WDIOC_GETTIMEOUT)
	if err != nil {
		return 0, fmt.Errorf("watchdog %s: WDIOC_GETTIMEOUT: %w", d.path, err)
	}
	return time.Duration(v) * time.Second, nil
}

func (d *linuxDevice) Keepalive() error {
	if _, err := unix.IoctlGetUint32(d.fd(), unix.WDIOC_KEEPALIVE); err != nil {
		// Every driver accepts a write as a keepalive.
		if _, werr := d.f.Write([]byte{0}); werr != nil {
			return fmt.Errorf("watchdog %s: keepalive: %w (write: %w)", d.path, err, werr)
		}
	}
	return nil
}

func (d *linuxDevice) MagicClose() error {
	if _, err := d.f.Write([]byte("V")); err != nil {
		d.f.Close()
		return fmt.Errorf("watchdog %s: writing the magic close character: %w", d.path, err)
	}
	if !d.magic {
		// Without magic close support the driver stops on close, or (with
		// nowayout) never: say so rather than pretend.
		_ = unix.IoctlSetPointerInt(d.fd(), unix.WDIOC_SETOPTIONS, unix.WDIOS_DISABLECARD)
	}
	return d.f.Close()
}

func (d *linuxDevice) Close() error { return d.f.Close() }

func (d *linuxDevice) Identity() string { return d.identity }
