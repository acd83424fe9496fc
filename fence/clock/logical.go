package clock

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Forever is a Sleep that only its context ends (a device that hangs).
const Forever time.Duration = math.MaxInt64

// Logical is a clock for tests that moves only when someone sleeps on it
// (or calls Advance): Sleep jumps to the end of the sleep at once, firing
// on the way, in deadline order, every WithTimeout deadline that falls in
// between. A fence attempt with a 60 s timeout that polls a device which
// never answers therefore runs in microseconds and ends exactly when it
// would have on the wall clock.
//
// It is deterministic when one goroutine at a time sleeps on it, which is
// how the fencing core runs a request (one goroutine per attempt). A
// context made by WithTimeout ends synchronously when its deadline fires,
// and so do contexts derived from it with the context package; its end
// reaches it from a parent that is not on this clock (a plain
// context.WithCancel) asynchronously, as context.AfterFunc does.
type Logical struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timerCtx // pending deadlines, by deadline then creation
	seq    uint64
}

// NewLogical returns a Logical clock reading start.
func NewLogical(start time.Time) *Logical { return &Logical{now: start} }

// Now is the logical time.
func (l *Logical) Now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

// Advance moves the clock forward by d, firing the deadlines on the way.
func (l *Logical) Advance(d time.Duration) { _ = l.Sleep(context.Background(), d) }

// Sleep moves the clock to the end of the sleep, or to the deadline that
// ends ctx, whichever comes first. A sleep of Forever under a context that
// no deadline of this clock ends blocks until ctx ends (another goroutine
// must cancel it).
func (l *Logical) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	l.mu.Lock()
	forever := d == Forever
	var target time.Time
	if !forever {
		target = l.now.Add(d)
	}
	for {
		if len(l.timers) == 0 || (!forever && l.timers[0].deadline.After(target)) {
			break
		}
		t := l.timers[0]
		l.timers = l.timers[1:]
		if t.deadline.After(l.now) {
			l.now = t.deadline
		}
		l.mu.Unlock()
		t.cancel(context.DeadlineExceeded)
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
	}
	if forever {
		l.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	if target.After(l.now) {
		l.now = target
	}
	l.mu.Unlock()
	return ctx.Err()
}

// WithTimeout returns a context that ends with context.DeadlineExceeded
// when the clock reaches now+d (or when parent ends).
func (l *Logical) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	l.mu.Lock()
	l.seq++
	c := &timerCtx{parent: parent, clk: l, deadline: l.now.Add(max(d, 0)), seq: l.seq, done: make(chan struct{}), afters: map[uint64]func(){}}
	l.mu.Unlock()
	if err := parent.Err(); err != nil {
		c.cancel(err)
		return c, func() {}
	}
	if d <= 0 {
		c.cancel(context.DeadlineExceeded)
		return c, func() {}
	}
	l.mu.Lock()
	i, _ := slices.BinarySearchFunc(l.timers, c, func(a, b *timerCtx) int {
		if c := a.deadline.Compare(b.deadline); c != 0 {
			return c
		}
		return int(a.seq) - int(b.seq)
	})
	l.timers = slices.Insert(l.timers, i, c)
	l.mu.Unlock()
	// The nearest ancestor on this clock ends c synchronously, even
	// through contexts of the context package in between; any other
	// ancestor (a plain cancel) reaches it through context.AfterFunc.
	var stops []func() bool
	p, _ := parent.Value(logicalKey{}).(*timerCtx)
	if p != nil {
		stops = append(stops, p.AfterFunc(func() { c.cancel(p.Err()) }))
	}
	if parent != context.Context(p) && parent.Done() != nil {
		stops = append(stops, context.AfterFunc(parent, func() { c.cancel(parent.Err()) }))
	}
	c.mu.Lock()
	if c.err == nil {
		c.stopParent = stops
		stops = nil
	}
	c.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	return c, func() { c.cancel(context.Canceled) }
}

func (l *Logical) remove(c *timerCtx) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := slices.Index(l.timers, c); i >= 0 {
		l.timers = slices.Delete(l.timers, i, i+1)
	}
}

// timerCtx is a context ended by a deadline on a Logical clock. It
// implements AfterFunc so that contexts derived from it with the context
// package end synchronously with it.
type timerCtx struct {
	parent     context.Context
	clk        *Logical
	deadline   time.Time
	seq        uint64
	done       chan struct{}
	stopParent []func() bool

	mu     sync.Mutex
	err    error
	afters map[uint64]func()
	nextID uint64
}

func (c *timerCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *timerCtx) Done() <-chan struct{} { return c.done }

func (c *timerCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// logicalKey finds the nearest timerCtx among a context's ancestors.
type logicalKey struct{}

// Value answers from the parent: this context holds no values of its own
// but itself under logicalKey, and it must not expose a parent's canceler
// as its own (the context package would then end derived contexts with
// the parent's error instead of this one's).
func (c *timerCtx) Value(key any) any {
	if key == (logicalKey{}) {
		return c
	}
	return c.parent.Value(key)
}

// AfterFunc runs f (synchronously, in the goroutine that ends c) once c
// ends; stop unregisters it.
func (c *timerCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		f()
		return func() bool { return false }
	}
	c.nextID++
	id := c.nextID
	c.afters[id] = f
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.afters[id]
		delete(c.afters, id)
		return ok
	}
}

func (c *timerCtx) cancel(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	ids := make([]uint64, 0, len(c.afters))
	for id := range c.afters {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fs := make([]func(), 0, len(ids))
	for _, id := range ids {
		fs = append(fs, c.afters[id])
	}
	c.afters = nil
	stops := c.stopParent
	c.mu.Unlock()
	c.clk.remove(c)
	for _, stop := range stops {
		stop()
	}
	for _, f := range fs {
		f()
	}
}
