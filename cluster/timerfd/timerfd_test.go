package timerfd

import (
	"testing"
	"time"
)

// each runs f on a timerfd Timer and on the time.Timer fallback.
func each(t *testing.T, f func(t *testing.T, tm *Timer)) {
	t.Run("timerfd", func(t *testing.T) {
		tm := New()
		if !tm.Kernel() {
			t.Skip("no timerfd on this kernel: the fallback is tested below")
		}
		defer tm.Close()
		f(t, tm)
	})
	t.Run("fallback", func(t *testing.T) {
		tm := newFallback()
		defer tm.Close()
		f(t, tm)
	})
}

// noFiring fails the test if tm fires within 30 ms.
func noFiring(t *testing.T, tm *Timer, why string) {
	t.Helper()
	select {
	case <-tm.C:
		t.Fatal(why)
	case <-time.After(30 * time.Millisecond):
	}
}

func TestFiresNotBeforeDeadline(t *testing.T) {
	each(t, func(t *testing.T, tm *Timer) {
		for _, d := range []time.Duration{-time.Second, 0, time.Microsecond, 3 * time.Millisecond, 20 * time.Millisecond} {
			start := time.Now()
			tm.Reset(d)
			at := <-tm.C
			if got := at.Sub(start); got < d {
				t.Errorf("Reset(%v): fired after %v", d, got)
			}
		}
	})
}

func TestResetDiscardsStaleFiring(t *testing.T) {
	each(t, func(t *testing.T, tm *Timer) {
		tm.Reset(0)
		time.Sleep(5 * time.Millisecond) // the firing is delivered, not received
		start := time.Now()
		tm.Reset(30 * time.Millisecond)
		at := <-tm.C
		if got := at.Sub(start); got < 30*time.Millisecond {
			t.Fatalf("received a firing %v after Reset(30ms): the stale one was not discarded", got)
		}
	})
}

func TestStopDiscardsAndDisarms(t *testing.T) {
	each(t, func(t *testing.T, tm *Timer) {
		tm.Reset(0)
		time.Sleep(5 * time.Millisecond)
		tm.Reset(time.Millisecond)
		tm.Stop()
		noFiring(t, tm, "fired after Stop")
	})
}

// TestManyResets re-arms the timer many times before it can fire, as the
// loops do when each message moves the next deadline: only the last
// deadline fires, once.
func TestManyResets(t *testing.T) {
	each(t, func(t *testing.T, tm *Timer) {
		var start time.Time
		for range 1000 {
			start = time.Now()
			tm.Reset(10 * time.Millisecond)
		}
		at := <-tm.C
		if got := at.Sub(start); got < 10*time.Millisecond {
			t.Fatalf("fired %v after the last Reset(10ms)", got)
		}
		noFiring(t, tm, "fired twice")
	})
}

// TestConcurrentReset resets from several goroutines while the firing
// goroutine runs (for -race).
func TestConcurrentReset(t *testing.T) {
	each(t, func(t *testing.T, tm *Timer) {
		done := make(chan struct{})
		for range 4 {
			go func() {
				defer func() { done <- struct{}{} }()
				for i := range 200 {
					tm.Reset(time.Duration(i%3) * time.Microsecond)
				}
			}()
		}
		for range 4 {
			<-done
		}
		tm.Reset(time.Millisecond)
		<-tm.C
	})
}

func TestCloseEndsReader(t *testing.T) {
	tm := New()
	if !tm.Kernel() {
		t.Skip("no timerfd on this kernel")
	}
	tm.Reset(time.Hour)
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the reader goroutine; Stop, Reset and a second
	// Close after it are harmless no-ops.
	tm.Stop()
	tm.Reset(time.Millisecond)
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}
}
