package eventlog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Mono returns CLOCK_MONOTONIC, the timebase shared by every process on the
// host (Go's own monotonic reading is process-relative and not exported).
//
// It is read once, at start-up, and carried forward with Go's monotonic
// clock, which on Linux is the same CLOCK_MONOTONIC read through the vDSO:
// the offset between the two never changes, and a clock_gettime system
// call on every reading (the DC runtime takes several per heartbeat) would
// cost a kernel entry each time and, entered through the scheduler, wake
// the runtime's monitor thread into a spell of 20µs naps.
func Mono() time.Duration { return monoAt + time.Since(monoRef) }

// monoRef and monoAt are one instant as Go's clock and as CLOCK_MONOTONIC.
var monoRef, monoAt = calibrateMono()

func calibrateMono() (ref time.Time, at time.Duration) {
	// The reading lies between before and after: take the middle, of
	// the tightest of a few tries (a try the scheduler interrupted
	// between the two is wide, and discarded).
	width := time.Duration(-1)
	for range 5 {
		before := time.Now()
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			// CLOCK_MONOTONIC cannot fail on Linux; keep going with a best effort.
			return before, time.Duration(before.UnixNano())
		}
		w := time.Since(before)
		if width < 0 || w < width {
			width, ref, at = w, before.Add(w/2), time.Duration(ts.Nano())
		}
	}
	return ref, at
}

// Log appends entries to a file (or any writer). The zero value and a
// nil *Log discard. Logs made with Source share one file.
type Log struct {
	s      *sink
	source string
}

// sink is what the Logs of one file share.
type sink struct {
	mu     sync.Mutex
	w      io.Writer
	c      io.Closer
	writer string
	// Rotation (files only): the size written so far and the bound.
	path    string
	size    int64
	max     int64
	keep    int
	log     *slog.Logger
	observe []func(source string, e Entry)
}

// Defaults of Options.
const (
	DefaultMaxBytes = 64 << 20
	DefaultKeep     = 3
)

// Options bound a log file and mirror it.
type Options struct {
	// MaxBytes rotates the file when an entry would take it past this
	// size: PATH becomes PATH.1, PATH.1 becomes PATH.2, ... up to Keep
	// (the oldest is removed), so the log takes at most (Keep+1) x
	// MaxBytes. 0: DefaultMaxBytes; negative: never rotate.
	MaxBytes int64
	// Keep is the number of rotated files kept (0: DefaultKeep).
	Keep int
	// Logger, if set, also receives every entry as a log line (Describe):
	// the daemon's default log states every decision the event log does.
	Logger *slog.Logger
}

// Open appends to path (created 0640) on behalf of node writer, without
// rotation.
func Open(path, writer string) (*Log, error) {
	return OpenWith(path, writer, Options{MaxBytes: -1})
}

// OpenWith appends to path (created 0640) on behalf of node writer,
// rotated and mirrored as o says.
func OpenWith(path, writer string, o Options) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	s := newSink(f, writer, o)
	s.c, s.path, s.size = f, path, size
	return &Log{s: s}, nil
}

// New writes to w on behalf of node writer.
func New(w io.Writer, writer string) *Log { return NewWith(w, writer, Options{}) }

// NewWith writes to w (io.Discard: only the Logger mirror) on behalf of
// node writer. Rotation does not apply to a writer.
func NewWith(w io.Writer, writer string, o Options) *Log {
	return &Log{s: newSink(w, writer, o)}
}

func newSink(w io.Writer, writer string, o Options) *sink {
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	return &sink{w: w, writer: writer, max: o.MaxBytes, keep: o.Keep, log: o.Logger}
}

// Sources the daemon uses. Entries from SourceMembership are not
// mirrored to the log: membership logs its changes in its own lines.
const (
	SourceMembership = "membership"
	SourceDC         = "dc"
)

// Source returns a Log writing to the same file whose entries observers
// see as coming from source (the daemon tells the DC runtime's entries
// from the node's own this way).
func (l *Log) Source(source string) *Log {
	if l == nil {
		return nil
	}
	return &Log{s: l.s, source: source}
}

// Observe registers fn, called with every entry after it was written (in
// order, under the log's lock: fn must be quick and must not append).
func (l *Log) Observe(fn func(source string, e Entry)) {
	if l == nil || l.s == nil {
		return
	}
	l.s.mu.Lock()
	l.s.observe = append(l.s.observe, fn)
	l.s.mu.Unlock()
}

// Path is the file written ("" for a writer).
func (l *Log) Path() string {
	if l == nil || l.s == nil {
		return ""
	}
	return l.s.path
}

// Append stamps e and writes it as one line. Errors are returned but the
// caller should not stop the cluster for a log failure.
func (l *Log) Append(e Entry) error {
	if l == nil || l.s == nil || l.s.w == nil {
		return nil
	}
	s := l.s
	if e.MonoNS == 0 {
		e.MonoNS = int64(Mono())
	}
	if e.Wall == "" {
		e.Wall = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if e.Writer == "" {
		e.Writer = s.writer
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.Event, err)
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log != nil && l.source != SourceMembership {
		if lvl, msg, attrs, ok := Describe(e); ok {
			s.log.Log(context.Background(), lvl, msg, attrs...)
		}
	}
	if s.path != "" && s.max > 0 && s.size > 0 && s.size+int64(len(b)) > s.max {
		if err := s.rotate(); err != nil && s.log != nil {
			s.log.Warn("event log rotation failed; appending to the current file", "file", s.path, "err", err)
		}
	}
	n, err := s.w.Write(b)
	s.size += int64(n)
	for _, fn := range s.observe {
		fn(l.source, e)
	}
	if err != nil {
		return fmt.Errorf("write event %s: %w", e.Event, err)
	}
	return nil
}

// rotate shifts PATH.k to PATH.k+1 (dropping the oldest), PATH to PATH.1,
// and reopens PATH (lock held).
func (s *sink) rotate() error {
	for k := s.keep; k >= 1; k-- {
		from := s.path
		if k > 1 {
			from = fmt.Sprintf("%s.%d", s.path, k-1)
		}
		if err := os.Rename(from, fmt.Sprintf("%s.%d", s.path, k)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate %s: %w", from, err)
		}
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("reopen event log: %w", err)
	}
	if s.c != nil {
		s.c.Close()
	}
	s.w, s.c, s.size = f, f, 0
	return nil
}

// Close closes the underlying file, if any.
func (l *Log) Close() error {
	if l == nil || l.s == nil || l.s.c == nil {
		return nil
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.c.Close()
}

// Read decodes a log. A line that is not a JSON entry is an error naming
// the line; a torn last line (a writer killed mid-write) is skipped.
func Read(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var pending error
	for ln := 1; sc.Scan(); ln++ {
		if pending != nil {
			return nil, pending
		}
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil || e.Event == "" {
			if err == nil {
				err = fmt.Errorf("no \"event\" field")
			}
			pending = fmt.Errorf("event log line %d: %w", ln, err)
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	return out, nil
}

// ReadFiles reads and merges several logs by monotonic time.
func ReadFiles(paths ...string) ([]Entry, error) {
	var all []Entry
	for _, p := range paths {
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open event log: %w", err)
		}
		es, err := Read(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, es...)
	}
	Sort(all)
	return all, nil
}

// Sort orders entries by monotonic time, keeping the order of equal stamps.
func Sort(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].MonoNS < es[j].MonoNS })
}
