package transport

import "testing"

func TestWindow(t *testing.T) {
	w := newWindow(128)
	steps := []struct {
		seq  uint64
		seen bool
	}{
		{1, false}, {1, true}, {3, false}, {2, false}, {2, true}, {3, true},
		{200, false}, {100, false}, {72, true /* 200-72 >= 128: too old */}, {73, false}, {73, true},
		{150, false}, {150, true}, {199, false}, {1000, false}, {999, false}, {872, true}, {873, false},
	}
	for i, s := range steps {
		if got := w.seen(s.seq); got != s.seen {
			t.Fatalf("step %d: seen(%d) = %v, want %v", i, s.seq, got, s.seen)
		}
		w.mark(s.seq)
		if !w.seen(s.seq) {
			t.Fatalf("step %d: %d not seen after mark", i, s.seq)
		}
	}
}
