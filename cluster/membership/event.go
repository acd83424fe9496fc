package membership

import (
	"fmt"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

const (
	EventNode          EventKind = iota + 1 // a peer changed state
	EventLink                               // one link to a peer changed state
	EventRestart                            // a peer came back with a higher generation
	EventView                               // the view changed (members or id)
	EventViewAgreed                         // every member now advertises the view
	EventViewDisagreed                      // a member no longer advertises the (same) view
)

// Event is one output of the state machine, returned by Ready.
type Event struct {
	Kind          EventKind
	At            time.Duration
	Node          NodeID
	Link          int
	From, To      State
	Generation    uint64 // the peer's generation (new one for EventRestart)
	OldGeneration uint64 // EventRestart only
	View          View   // EventView and EventViewAgreed
}

func (e Event) String() string {
	switch e.Kind {
	case EventNode:
		return fmt.Sprintf("node %d %s->%s gen=%d", e.Node, e.From, e.To, e.Generation)
	case EventLink:
		return fmt.Sprintf("link %d/%d %s->%s", e.Node, e.Link, e.From, e.To)
	case EventRestart:
		return fmt.Sprintf("restart %d gen %d->%d", e.Node, e.OldGeneration, e.Generation)
	case EventView:
		return e.View.String()
	case EventViewAgreed:
		return fmt.Sprintf("agreed view %d", e.View.ID)
	case EventViewDisagreed:
		return fmt.Sprintf("view %d no longer agreed", e.View.ID)
	}
	return "unknown event"
}
