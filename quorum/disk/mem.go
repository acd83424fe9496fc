package disk

import (
	"errors"
	"fmt"
	"sync"
)

// MemDisk is a shared disk in memory, for tests and simulations: several
// MemPaths (one per node) see the same bytes, and each path can fail like
// a lost SAN path.
type MemDisk struct {
	mu   sync.Mutex
	data []byte
}

// NewMemDisk returns a zeroed disk of size bytes.
func NewMemDisk(size int) *MemDisk { return &MemDisk{data: make([]byte, size)} }

// ErrPathDown is the error of a cut MemPath.
var ErrPathDown = errors.New("path to disk down (simulated)")

// MemPath is one node's path to a MemDisk.
type MemPath struct {
	Disk *MemDisk
	mu   sync.Mutex
	// down fails reads and writes; readOnly fails writes only.
	down, readOnly bool
	// Reads and Writes count operations (for the benchmarks).
	Reads, Writes int
}

// Path returns a new path to d.
func (d *MemDisk) Path() *MemPath { return &MemPath{Disk: d} }

// SetDown cuts (true) or restores (false) the path.
func (p *MemPath) SetDown(down bool) { p.mu.Lock(); p.down = down; p.mu.Unlock() }

// SetReadOnly makes writes fail (true) or work again.
func (p *MemPath) SetReadOnly(ro bool) { p.mu.Lock(); p.readOnly = ro; p.mu.Unlock() }

func (p *MemPath) check(write bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return ErrPathDown
	}
	if write && p.readOnly {
		return fmt.Errorf("write refused: %w", ErrPathDown)
	}
	if write {
		p.Writes++
	} else {
		p.Reads++
	}
	return nil
}

func (p *MemPath) ReadAt(b []byte, off int64) (int, error) {
	if err := p.check(false); err != nil {
		return 0, err
	}
	d := p.Disk
	d.mu.Lock()
	defer d.mu.Unlock()
	if off < 0 || off+int64(len(b)) > int64(len(d.data)) {
		return 0, fmt.Errorf("read of %d bytes at %d beyond the %d-byte disk", len(b), off, len(d.data))
	}
	return copy(b, d.data[off:]), nil
}

func (p *MemPath) WriteAt(b []byte, off int64) (int, error) {
	if err := p.check(true); err != nil {
		return 0, err
	}
	d := p.Disk
	d.mu.Lock()
	defer d.mu.Unlock()
	if off < 0 || off+int64(len(b)) > int64(len(d.data)) {
		return 0, fmt.Errorf("write of %d bytes at %d beyond the %d-byte disk", len(b), off, len(d.data))
	}
	return copy(d.data[off:], b), nil
}
