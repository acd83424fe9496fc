package executor

import (
	"context"
	"sync"
)

// fifoLocks serialize actions per resource in arrival order. sync.Mutex
// is not FIFO, and the order matters: a stop submitted after a start must
// run after it.
type fifoLocks struct {
	mu      sync.Mutex
	holders map[string][]chan struct{} // [0] holds the lock, the rest wait
}

// enqueue joins rsc's queue; the returned channel is closed when it is
// the caller's turn. The caller must then unlock, or abandon if it gives up.
func (f *fifoLocks) enqueue(rsc string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holders == nil {
		f.holders = map[string][]chan struct{}{}
	}
	ch := make(chan struct{})
	q := append(f.holders[rsc], ch)
	f.holders[rsc] = q
	if len(q) == 1 {
		close(ch)
	}
	return ch
}

// lock waits for rsc's turn; it returns ctx's error if cancelled first.
func (f *fifoLocks) lock(ctx context.Context, rsc string) error {
	ch := f.enqueue(rsc)
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		f.abandon(rsc, ch)
		return ctx.Err()
	}
}

// abandon leaves the queue without running: if the turn was granted in the
// meantime it is passed on.
func (f *fifoLocks) abandon(rsc string, ch chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-ch:
		f.releaseLocked(rsc)
	default:
		q := f.holders[rsc]
		for i, c := range q {
			if c == ch {
				f.holders[rsc] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
	}
}

func (f *fifoLocks) unlock(rsc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releaseLocked(rsc)
}

func (f *fifoLocks) releaseLocked(rsc string) {
	q := f.holders[rsc][1:]
	if len(q) == 0 {
		delete(f.holders, rsc)
		return
	}
	f.holders[rsc] = q
	close(q[0])
}
