package transport

// window remembers which of the last `size` sequence numbers were seen:
// the classic IPsec/DTLS anti-replay bitmap. Numbers older than the
// window are treated as already seen, which is the safe answer.
type window struct {
	top  uint64 // highest seq marked; 0 = nothing yet
	bits []uint64
}

func newWindow(size int) window {
	return window{bits: make([]uint64, (size+63)/64)}
}

func (w *window) size() uint64 { return uint64(len(w.bits)) * 64 }

// seen reports whether seq was marked or is too old to tell.
func (w *window) seen(seq uint64) bool {
	switch {
	case seq > w.top:
		return false
	case w.top-seq >= w.size():
		return true
	}
	i := seq % w.size()
	return w.bits[i/64]&(1<<(i%64)) != 0
}

// mark records seq, sliding the window forward if it is the newest.
func (w *window) mark(seq uint64) {
	if seq > w.top {
		if seq-w.top >= w.size() {
			clear(w.bits)
		} else {
			for s := w.top + 1; s < seq; s++ {
				i := s % w.size()
				w.bits[i/64] &^= 1 << (i % 64)
			}
		}
		w.top = seq
	} else if w.top-seq >= w.size() {
		return
	}
	i := seq % w.size()
	w.bits[i/64] |= 1 << (i % 64)
}
