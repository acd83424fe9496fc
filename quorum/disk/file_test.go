package disk

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenFileDirect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	os.WriteFile(path, make([]byte, 8192), 0o600)
	f, err := OpenFile(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Direct || f.Note != "" || f.Block {
		t.Fatalf("%+v", f)
	}
	// O_DIRECT needs aligned buffers: the core's are.
	b := AlignedBuffer(4096)
	copy(b, "hello")
	if _, err := f.WriteAt(b, 4096); err != nil {
		t.Fatal(err)
	}
}

// A file system that refuses O_DIRECT gets O_SYNC, and says so.
func TestOpenFileFallback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	os.WriteFile(path, make([]byte, 8192), 0o600)
	openFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		if flag&syscall.O_DIRECT != 0 {
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EINVAL}
		}
		return os.OpenFile(name, flag, perm)
	}
	defer func() { openFile = os.OpenFile }()
	f, err := OpenFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Direct || !strings.Contains(f.Note, "refuses O_DIRECT: using O_SYNC only") {
		t.Fatalf("%+v", f)
	}
	if _, err := OpenFile("/dev/null", 0); err == nil || !strings.Contains(err.Error(), "not a block device or a regular file") {
		t.Fatalf("/dev/null: %v", err)
	}
}

// An operation that hangs fails after the I/O timeout, and later ones fail
// at once until it returns.
func TestFileIOTimeout(t *testing.T) {
	release := make(chan struct{})
	f := &File{timeout: 50 * time.Millisecond}
	hang := func() (int, error) { <-release; return 0, nil }
	if _, err := f.do(hang, "read", 512, 0); !errors.Is(err, ErrIOTimeout) {
		t.Fatalf("got %v", err)
	}
	if _, err := f.do(func() (int, error) { return 1, nil }, "read", 512, 0); err == nil || !strings.Contains(err.Error(), "still pending") {
		t.Fatalf("while pending: %v", err)
	}
	close(release)
	deadline := time.Now().Add(time.Second)
	for {
		if n, err := f.do(func() (int, error) { return 1, nil }, "read", 512, 0); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the disk did not recover after the pending operation returned")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
