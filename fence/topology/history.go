package topology

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"palisade/fence"
)

// HistoryEntry is one entry of the cluster-wide fence history: an attempt
// on a target through its topology, an operator's confirmation, or a fence
// order that a node refused. The node that executed it makes the entry;
// the DC keeps the newest HistoryLimit of them in the replicated CIB, so
// every member shows the same history and it survives restarts.
type HistoryEntry struct {
	// ID identifies the entry cluster-wide (executor, target, attempt and
	// start time), so copies merged from several nodes are counted once.
	ID     string `json:"id"`
	Target string `json:"target"`
	// Action is off or reboot for an attempt, confirm for an operator's
	// confirmation, refuse for a fence order a node refused.
	Action string `json:"action"`
	// Level is the level that fenced the node, or the last level tried.
	Level   int    `json:"level,omitempty"`
	Devices string `json:"devices,omitempty"`
	// Origin is who asked: the DC whose recovery gate decided, or
	// operator:NAME.
	Origin   string `json:"origin,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Executor string `json:"executor,omitempty"`
	Attempt  int    `json:"attempt,omitempty"`
	// Start and End are the executor's wall clock.
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end"`
	Result fence.Class   `json:"result"`
	Error  string        `json:"error,omitempty"`
	Steps  []HistoryStep `json:"steps,omitempty"`
}

// HistoryStep is one device's part of an attempt.
type HistoryStep struct {
	Level   int           `json:"level"`
	Device  string        `json:"device"`
	Result  fence.Class   `json:"result"`
	Error   string        `json:"error,omitempty"`
	Delay   time.Duration `json:"delay_ns,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Note    string        `json:"note,omitempty"`
}

// Fenced reports whether the entry proves the target off (a verified
// fence, or an operator's confirmation).
func (e HistoryEntry) Fenced() bool { return e.Result == fence.ClassOK }

// Actions of history entries that are not device attempts.
const (
	ActionConfirm = "confirm" // an operator confirmed the node down
	ActionRefuse  = "refuse"  // a node refused a fence order
)

// HistoryLimit and HistoryBudget bound the replicated history: the CIB
// travels in one message (wire.MaxPayload, 60,000 bytes, with the
// configuration and the status), so the history keeps at most
// HistoryLimit entries and HistoryBudget bytes of JSON, the newest, and
// its error texts are cut at MaxErrorText.
const (
	HistoryLimit  = 32
	HistoryBudget = 12 << 10
	MaxErrorText  = 160
	// MaxHistorySteps bounds the steps kept of one entry (the last ones:
	// they say how it ended).
	MaxHistorySteps = 12
)

// HistoryID makes an entry's ID.
func HistoryID(executor, target string, attempt int, start time.Time) string {
	return fmt.Sprintf("%s/%s/%d/%d", executor, target, attempt, start.UnixNano())
}

// Entry turns an attempt's outcome into a history entry: executor ran it,
// origin asked for it, for reason (attempt numbers the recovery gate's
// requests for the target).
func (o Outcome) Entry(executor, origin, reason string, attempt int) HistoryEntry {
	e := HistoryEntry{ID: HistoryID(executor, o.Target, attempt, o.Start), Target: o.Target, Action: string(o.Action),
		Level: o.Level, Devices: o.Devices, Origin: origin, Reason: Clip(reason), Executor: executor, Attempt: attempt,
		Start: o.Start, End: o.End, Result: o.Result, Error: Clip(o.Cause)}
	if e.Error == "" && len(o.Steps) == 0 {
		e.Error = Clip(o.Error)
	}
	if e.Level == 0 {
		e.Level = o.LastLevel
	}
	if e.Result == "" {
		e.Result = fence.Classify(o.Err)
	}
	for _, s := range o.Steps {
		e.Steps = append(e.Steps, HistoryStep{Level: s.Level, Device: s.Device, Result: s.Result, Error: Clip(s.Err), Delay: s.Delay, Elapsed: s.Elapsed, Note: Clip(s.Note)})
	}
	return e
}

// Clip cuts s to MaxErrorText bytes (at a rune boundary), marking the cut.
func Clip(s string) string {
	if len(s) <= MaxErrorText {
		return s
	}
	cut := MaxErrorText - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// bounded returns e with its texts clipped and at most MaxHistorySteps
// steps: entries come from other nodes, and one oversized entry must not
// push the others out of the budget.
func (e HistoryEntry) bounded() HistoryEntry {
	for _, s := range []*string{&e.ID, &e.Target, &e.Action, &e.Devices, &e.Origin, &e.Reason, &e.Executor, &e.Error} {
		*s = Clip(*s)
	}
	e.Result = fence.Class(Clip(string(e.Result)))
	if len(e.Steps) > MaxHistorySteps {
		e.Steps = e.Steps[len(e.Steps)-MaxHistorySteps:]
	}
	steps := make([]HistoryStep, len(e.Steps))
	for i, s := range e.Steps {
		s.Device, s.Error, s.Note, s.Result = Clip(s.Device), Clip(s.Error), Clip(s.Note), fence.Class(Clip(string(s.Result)))
		steps[i] = s
	}
	if len(steps) == 0 {
		steps = nil
	}
	e.Steps = steps
	return e
}

// MergeHistory returns the union of a and b (an ID present in both is
// taken from a), oldest first by start time, cut to the newest limit
// entries and to HistoryBudget bytes of JSON, each entry bounded (texts
// clipped, MaxHistorySteps steps). Neither input is changed.
func MergeHistory(a, b []HistoryEntry, limit int) []HistoryEntry {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]HistoryEntry, 0, len(a)+len(b))
	for _, l := range [][]HistoryEntry{a, b} {
		for _, e := range l {
			e = e.bounded()
			if !seen[e.ID] {
				seen[e.ID] = true
				out = append(out, e)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y HistoryEntry) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	total := 0
	for i := len(out) - 1; i >= 0; i-- {
		b, err := json.Marshal(out[i])
		if total += len(b) + 1; err != nil || total > HistoryBudget {
			return out[i+1:]
		}
	}
	return out
}
