package auth

import (
	"fmt"
	"io/fs"
	"os"
)

// Load reads a key file after checking its mode (see CheckMode).
func Load(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if err := CheckMode(path, fi); err != nil {
		return nil, err
	}
	// Key files are tiny; a cap stops a mistaken path (a device, a log)
	// from being slurped.
	const maxSize = 64 << 10
	if fi.Size() > maxSize {
		return nil, fmt.Errorf("key file %s: %d bytes, a key file is at most %d", path, fi.Size(), maxSize)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && fi.Size() > 0 {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return Parse(path, data)
}

// CheckMode refuses anything but a regular file without group or other
// permission bits (0600 or 0400), because anyone who can read the key can
// forge cluster traffic, including fencing requests.
func CheckMode(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("key file %s: is %s, want a regular file", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("key file %s: mode %04o gives group/other access; run chmod 600 %s", path, perm, path)
	}
	return nil
}
