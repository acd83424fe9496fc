package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Unix(1e9, 0)

func TestLogicalSleepAdvances(t *testing.T) {
	c := NewLogical(t0)
	if err := c.Sleep(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(t0); got != 5*time.Second {
		t.Fatalf("now = t0+%v, want t0+5s", got)
	}
	c.Advance(time.Minute)
	if got := c.Now().Sub(t0); got != 65*time.Second {
		t.Fatalf("now = t0+%v, want t0+65s", got)
	}
}

// TestLogicalDeadline: a sleep longer than the context's logical deadline
// ends at the deadline with DeadlineExceeded, and the clock stops there.
func TestLogicalDeadline(t *testing.T) {
	c := NewLogical(t0)
	ctx, cancel := c.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || !dl.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("deadline %v %v", dl, ok)
	}
	err := c.Sleep(ctx, time.Hour)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("sleep err %v, ctx err %v", err, ctx.Err())
	}
	if got := c.Now().Sub(t0); got != 3*time.Second {
		t.Fatalf("stopped at t0+%v, want t0+3s", got)
	}
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Done not closed")
	}
}

// TestLogicalDerived: contexts derived with the context package and nested
// logical timeouts end synchronously with the deadline that ends them,
// with DeadlineExceeded.
func TestLogicalDerived(t *testing.T) {
	c := NewLogical(t0)
	outer, cancel := c.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	child, cancelChild := context.WithCancel(outer)
	defer cancelChild()
	inner, cancelInner := c.WithTimeout(child, time.Minute)
	defer cancelInner()
	// Another deadline fires on the way without ending inner.
	other, cancelOther := c.WithTimeout(context.Background(), 2*time.Second)
	defer cancelOther()
	err := c.Sleep(inner, Forever)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sleep err %v", err)
	}
	for name, ctx := range map[string]context.Context{"outer": outer, "child": child, "inner": inner, "other": other} {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("%s: err %v, want DeadlineExceeded", name, ctx.Err())
		}
	}
	if got := c.Now().Sub(t0); got != 10*time.Second {
		t.Fatalf("now t0+%v, want t0+10s", got)
	}
}

// TestLogicalCancel: a cancelled timeout never fires, and Sleep returns at
// once on an ended context without moving the clock.
func TestLogicalCancel(t *testing.T) {
	c := NewLogical(t0)
	ctx, cancel := c.WithTimeout(context.Background(), time.Second)
	cancel()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("err %v", ctx.Err())
	}
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep on a cancelled ctx: %v", err)
	}
	if !c.Now().Equal(t0) {
		t.Fatal("clock moved")
	}
	if err := c.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(c.timers) != 0 {
		t.Fatalf("%d timers left", len(c.timers))
	}
}

// TestLogicalForeverCancelled: Forever under a context no deadline ends
// waits for its cancellation by another goroutine.
func TestLogicalForeverCancelled(t *testing.T) {
	c := NewLogical(t0)
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	if err := c.Sleep(ctx, Forever); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestRealClock(t *testing.T) {
	ctx, cancel := Real.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := Real.Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if Or(nil) != Real {
		t.Fatal("Or(nil) is not Real")
	}
}
