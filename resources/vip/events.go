package vip

import (
	"context"
	"log/slog"
	"net/netip"
	"time"
)

// EventKind names a step in a VIP's life, as the demo timeline prints it.
type EventKind string

// Event kinds.
const (
	EventDuplicate EventKind = "duplicate address" // start refused
	EventAdded     EventKind = "VIP added"
	EventGARP      EventKind = "GARP sent" // one request+reply pair
	EventNA        EventKind = "NA sent"   // one unsolicited neighbour advertisement
	EventRemoved   EventKind = "VIP removed"
)

// Event is reported through Options.OnEvent and logged with slog.
type Event struct {
	Time     time.Time
	Kind     EventKind
	Resource string
	IP       netip.Addr
	NIC      string
	Seq      int    // announcement number in its burst, from 1
	Reason   string // start, reannounce or timer (announcements); the peer MAC (duplicates)
}

func (a *Agent) emit(ev Event) {
	ev.Time = time.Now()
	attrs := []any{"resource", ev.Resource, "ip", ev.IP.String(), "nic", ev.NIC}
	if ev.Seq > 0 {
		attrs = append(attrs, "seq", ev.Seq)
	}
	if ev.Reason != "" {
		attrs = append(attrs, "reason", ev.Reason)
	}
	level := slog.LevelInfo
	if ev.Kind == EventDuplicate {
		level = slog.LevelWarn
	}
	a.log.Log(context.Background(), level, string(ev.Kind), attrs...)
	if a.onEvent != nil {
		a.onEvent(ev)
	}
}
