package eventlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Mono returns CLOCK_MONOTONIC, the timebase shared by every process on the
// host (Go's own monotonic reading is process-relative and not exported).
func Mono() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		// CLOCK_MONOTONIC cannot fail on Linux; keep going with a best effort.
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// Log appends entries to a file (or any writer). The zero value discards.
type Log struct {
	mu     sync.Mutex
	w      io.Writer
	c      io.Closer
	writer string
}

// Open appends to path (created 0640) on behalf of node writer.
func Open(path, writer string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	return &Log{w: f, c: f, writer: writer}, nil
}

// New writes to w on behalf of node writer.
func New(w io.Writer, writer string) *Log { return &Log{w: w, writer: writer} }

// Append stamps e and writes it as one line. Errors are returned but the
// caller should not stop the cluster for a log failure.
func (l *Log) Append(e Entry) error {
	if l == nil || l.w == nil {
		return nil
	}
	if e.MonoNS == 0 {
		e.MonoNS = int64(Mono())
	}
	if e.Wall == "" {
		e.Wall = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if e.Writer == "" {
		e.Writer = l.writer
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.Event, err)
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(b); err != nil {
		return fmt.Errorf("write event %s: %w", e.Event, err)
	}
	return nil
}

// Close closes the underlying file, if any.
func (l *Log) Close() error {
	if l == nil || l.c == nil {
		return nil
	}
	return l.c.Close()
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
