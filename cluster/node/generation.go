package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GenerationFile is the name of the generation file inside state_dir.
const GenerationFile = "generation"

// BumpGeneration reads the generation kept in dir, increases it to at
// least floor, and writes it back durably (write to a temporary file,
// fsync, rename, fsync the directory) before returning it: peers drop
// packets of an older generation, so a generation must never be reused
// after a crash.
//
// The daemon passes the current Unix time in seconds as floor, so a node
// whose state dir was wiped (a reinstall) still starts above the
// generation its peers remember instead of being ignored as a replay of
// its old self until every peer restarts.
func BumpGeneration(dir string, floor uint64) (uint64, error) {
	gen, err := NextGeneration(dir, floor)
	if err != nil {
		return 0, err
	}
	return gen, WriteGeneration(dir, gen)
}

// NextGeneration is the generation BumpGeneration would write, read
// without writing anything (a state dir that does not exist yet reads as
// generation 0), so a node can be built completely before its first
// write.
func NextGeneration(dir string, floor uint64) (uint64, error) {
	path := filepath.Join(dir, GenerationFile)
	var gen uint64
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("reading generation: %w", err)
	default:
		// A corrupt file is an error, not a reset to zero: a lower
		// generation would make every peer ignore us.
		gen, err = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("generation file %s: %q is not a number; fix or remove it (peers ignore generations lower than the last one they saw)", path, strings.TrimSpace(string(data)))
		}
	}
	return max(gen+1, floor), nil
}

// WriteGeneration writes gen durably (creating dir): to a temporary file,
// fsync, rename, fsync the directory.
func WriteGeneration(dir string, gen uint64) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, GenerationFile)
	tmp, err := os.CreateTemp(dir, GenerationFile+".tmp*")
	if err != nil {
		return fmt.Errorf("writing generation: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := fmt.Fprintf(tmp, "%d\n", gen); err != nil {
		tmp.Close()
		return fmt.Errorf("writing generation: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("fsync generation: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing generation: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing generation: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync state dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync state dir %s: %w", dir, err)
	}
	return nil
}
