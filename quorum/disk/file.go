package disk

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrIOTimeout is returned when a disk operation does not complete within
// the I/O timeout; the disk counts as unreachable until it does.
var ErrIOTimeout = errors.New("I/O timeout")

// File is a quorum disk on a block device or a file, opened with
// O_DIRECT|O_SYNC so that every read sees the shared storage and every
// write reaches it before it returns. Where the file system refuses
// O_DIRECT (tmpfs), it falls back to O_SYNC and says so in Note: reads
// may then come from the page cache, which is coherent only between
// processes of one host (good enough for tests, never for shared storage).
type File struct {
	Path string
	// Direct: O_DIRECT is in use.
	Direct bool
	// Block: Path is a block device.
	Block bool
	// Note explains a fallback.
	Note string

	f       *os.File
	timeout time.Duration
	mu      sync.Mutex
	pending bool // an operation timed out and has not completed yet
}

// openFile is os.OpenFile; tests replace it to play a file system that
// refuses O_DIRECT (every local file system here accepts it).
var openFile = os.OpenFile

// OpenFile opens path for the quorum disk. timeout bounds every operation
// (0: none, for one-shot commands that may wait).
func OpenFile(path string, timeout time.Duration) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("quorum disk %s: %w", path, err)
	}
	fl := &File{Path: path, timeout: timeout, Block: st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0}
	if !fl.Block && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("quorum disk %s: not a block device or a regular file (%s)", path, st.Mode().Type())
	}
	f, err := openFile(path, os.O_RDWR|syscall.O_DIRECT|syscall.O_SYNC, 0)
	if err == nil {
		// Some file systems accept the flag at open and refuse the I/O.
		b := AlignedBuffer(4096)
		if _, rerr := f.ReadAt(b, 0); rerr != nil && errors.Is(rerr, syscall.EINVAL) {
			f.Close()
			f, err = nil, rerr
		}
	}
	if err == nil {
		fl.f, fl.Direct = f, true
		return fl, nil
	}
	if !errors.Is(err, syscall.EINVAL) {
		return nil, fmt.Errorf("quorum disk %s: %w", path, err)
	}
	if fl.Block {
		return nil, fmt.Errorf("quorum disk %s: the block device refuses O_DIRECT: %w", path, err)
	}
	f, err = openFile(path, os.O_RDWR|syscall.O_SYNC, 0)
	if err != nil {
		return nil, fmt.Errorf("quorum disk %s: %w", path, err)
	}
	fl.f = f
	fl.Note = fmt.Sprintf("%s refuses O_DIRECT: using O_SYNC only; reads may come from this host's page cache, so use it for tests on one host, never as shared storage", fsName(path))
	return fl, nil
}

func fsName(path string) string {
	var s unix.Statfs_t
	if unix.Statfs(path, &s) != nil {
		return "its file system"
	}
	switch s.Type {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return fmt.Sprintf("the file system (type %#x)", s.Type)
}

// Close closes the file (an operation still pending keeps its own
// reference and fails).
func (f *File) Close() error { return f.f.Close() }

func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.do(func() (int, error) { return f.f.ReadAt(p, off) }, "read", len(p), off)
}

func (f *File) WriteAt(p []byte, off int64) (int, error) {
	return f.do(func() (int, error) { return f.f.WriteAt(p, off) }, "write", len(p), off)
}

// do runs one operation under the timeout. A timed-out operation keeps
// running in the kernel (a lost SAN path may hold it for minutes); until
// it returns, further operations fail at once instead of piling up.
func (f *File) do(op func() (int, error), what string, n int, off int64) (int, error) {
	if f.timeout <= 0 {
		return op()
	}
	f.mu.Lock()
	if f.pending {
		f.mu.Unlock()
		return 0, fmt.Errorf("%s of %d bytes at %d: %w: an earlier operation is still pending", what, n, off, ErrIOTimeout)
	}
	f.mu.Unlock()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := op()
		done <- result{n, err}
	}()
	t := time.NewTimer(f.timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.n, r.err
	case <-t.C:
		f.mu.Lock()
		f.pending = true
		f.mu.Unlock()
		go func() {
			<-done
			f.mu.Lock()
			f.pending = false
			f.mu.Unlock()
		}()
		return 0, fmt.Errorf("%s of %d bytes at %d: %w (%s)", what, n, off, ErrIOTimeout, f.timeout)
	}
}

// Disk is a quorum disk path that opens itself on first use and again
// after a failed open, so a disk missing at start (one of three) joins
// when it appears.
type Disk struct {
	Path    string
	timeout time.Duration
	mu      sync.Mutex
	f       *File
}

// NewDisk returns a lazily opened disk.
func NewDisk(path string, timeout time.Duration) *Disk { return &Disk{Path: path, timeout: timeout} }

func (d *Disk) file() (*File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f != nil {
		return d.f, nil
	}
	f, err := OpenFile(d.Path, d.timeout)
	if err != nil {
		return nil, err
	}
	d.f = f
	return f, nil
}

// File is the open file, nil if not open (yet).
func (d *Disk) File() *File {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f
}

func (d *Disk) ReadAt(p []byte, off int64) (int, error) {
	f, err := d.file()
	if err != nil {
		return 0, err
	}
	return f.ReadAt(p, off)
}

func (d *Disk) WriteAt(p []byte, off int64) (int, error) {
	f, err := d.file()
	if err != nil {
		return 0, err
	}
	return f.WriteAt(p, off)
}

// Close closes the file if open.
func (d *Disk) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

// OpenDevices returns a Device per path (opened lazily, with the I/O
// timeout) and the Disks to close.
func OpenDevices(paths []string, timeout time.Duration) ([]*Device, []*Disk) {
	var devs []*Device
	var disks []*Disk
	for _, p := range paths {
		d := NewDisk(p, timeout)
		devs = append(devs, &Device{IO: d, Name: p})
		disks = append(disks, d)
	}
	return devs, disks
}
