package pacemaker

import (
	"fmt"
	"strings"
	"time"
)

// Log is the text of a node's pacemaker.log.
type Log string

// Event is one log line with its time.
type Event struct {
	Time time.Time
	Line string
}

// logLayout is how Pacemaker 2.1 starts each line of its log file
// ("Dec 04 16:48:02.143 n1 pacemaker-controld [1887] (fn) notice: ...").
const logLayout = "Jan 02 15:04:05.000"

// Find returns the lines containing every one of subs, in order, with
// their times (the year is taken to be the current one: the log has none).
func (l Log) Find(subs ...string) []Event {
	var out []Event
	year := time.Now().Year()
	for _, line := range strings.Split(string(l), "\n") {
		ok := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if !ok || len(line) < len(logLayout) {
			continue
		}
		t, err := time.ParseInLocation(logLayout, line[:len(logLayout)], time.Local)
		if err != nil {
			continue
		}
		out = append(out, Event{Time: t.AddDate(year, 0, 0), Line: line})
	}
	return out
}

// First is the first line containing every one of subs at or after since.
func (l Log) First(since time.Time, subs ...string) (Event, error) {
	for _, e := range l.Find(subs...) {
		if !e.Time.Before(since.Truncate(time.Millisecond)) {
			return e, nil
		}
	}
	return Event{}, fmt.Errorf("pacemaker.log has no line with %q since %s", subs, since.Format(logLayout))
}
