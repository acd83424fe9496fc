package pdusim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// outlet is one switched outlet. On is the state it is in or switching
// to; the switch takes effect at At (Unix ns), before which the outlet is
// still in the opposite state (a PDU with a power-on/off delay).
type outlet struct {
	Name string `json:"name"`
	On   bool   `json:"on"`
	At   int64  `json:"at,omitempty"`
}

func (o outlet) on(now int64) bool {
	if now < o.At {
		return !o.On
	}
	return o.On
}

// state is the simulated PDU, kept in a file that the pass_persist helper
// (run by snmpd) and the test process share under an flock.
type state struct {
	Kind    Kind     `json:"kind"`
	Outlets []outlet `json:"outlets"`
	// Transition is the delay of a power change, in ns.
	Transition int64 `json:"transition,omitempty"`
	// FailSet is the pass_persist error every SET gets ("" = none):
	// not-writable, wrong-value, ...
	FailSet string `json:"fail_set,omitempty"`
	// IgnoreSet accepts SETs and changes nothing.
	IgnoreSet bool `json:"ignore_set,omitempty"`
	// Sets logs every SET as "OID=VALUE".
	Sets []string `json:"sets,omitempty"`
	// Reads counts GET/GETNEXT requests.
	Reads int `json:"reads,omitempty"`
	// Feeds are the machines the outlets power (see Feed).
	Feeds []feed `json:"feeds,omitempty"`
}

// feed is one machine powered by some outlets: when all of them are off,
// the machine loses power and OnPowerOff runs (once, until an outlet is
// on again).
type feed struct {
	Outlets    []int  `json:"outlets"`
	OnPowerOff string `json:"on_power_off"`
	// Cut: the hook ran and no outlet of the feed has been on since.
	Cut bool `json:"cut,omitempty"`
	// CutAt is when it ran (Unix ns).
	CutAt int64 `json:"cut_at,omitempty"`
}

// offAt is the first time at or after now when every outlet of the feed
// is off (0: never, as things stand).
func (f feed) offAt(st *state, now int64) int64 {
	if len(f.Outlets) == 0 {
		return 0
	}
	candidates := []int64{now}
	for _, i := range f.Outlets {
		if i >= 1 && i <= len(st.Outlets) {
			if o := st.Outlets[i-1]; !o.On && o.At > now {
				candidates = append(candidates, o.At)
			}
		}
	}
	slices.Sort(candidates)
	for _, t := range candidates {
		all := true
		for _, i := range f.Outlets {
			if i < 1 || i > len(st.Outlets) || st.Outlets[i-1].on(t) {
				all = false
				break
			}
		}
		if all {
			return t
		}
	}
	return 0
}

func (st *state) now() int64 { return time.Now().UnixNano() }

// rearm forgets the cut of feeds that have an outlet on again (switched
// behind the PDU's back by a test: the machine has power, and is booted by
// the test when it wants).
func (st *state) rearm() {
	for i := range st.Feeds {
		if st.Feeds[i].Cut && st.Feeds[i].offAt(st, st.now()) == 0 {
			st.Feeds[i].Cut = false
		}
	}
}

// store is the state file and its lock.
type store struct{ dir string }

func (s store) path() string { return filepath.Join(s.dir, "state.json") }

// update runs fn on the state under an exclusive lock and writes it back
// when fn returns true.
func (s store) update(fn func(*state) bool) error {
	lk, err := os.OpenFile(filepath.Join(s.dir, "state.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("pdusim: opening lock: %w", err)
	}
	defer lk.Close()
	if err := syscall.Flock(int(lk.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("pdusim: locking state: %w", err)
	}
	defer syscall.Flock(int(lk.Fd()), syscall.LOCK_UN)
	b, err := os.ReadFile(s.path())
	if err != nil {
		return fmt.Errorf("pdusim: reading state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("pdusim: decoding %s: %w", s.path(), err)
	}
	if !fn(&st) {
		return nil
	}
	return s.write(&st)
}

func (s store) write(st *state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := s.path() + ".new"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("pdusim: writing state: %w", err)
	}
	if err := os.Rename(tmp, s.path()); err != nil {
		return fmt.Errorf("pdusim: writing state: %w", err)
	}
	return nil
}
