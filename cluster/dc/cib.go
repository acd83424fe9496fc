package dc

import (
	"fmt"

	"palisade/resources/model"
)

// Version orders CIB copies like Pacemaker: admin_epoch, then epoch, then
// num_updates.
type Version struct {
	AdminEpoch uint64 `json:"admin_epoch"`
	Epoch      uint64 `json:"epoch"`
	NumUpdates uint64 `json:"num_updates"`
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.AdminEpoch != w.AdminEpoch {
		return v.AdminEpoch < w.AdminEpoch
	}
	if v.Epoch != w.Epoch {
		return v.Epoch < w.Epoch
	}
	return v.NumUpdates < w.NumUpdates
}

func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.AdminEpoch, v.Epoch, v.NumUpdates)
}

// CIB is the replicated cluster information: configuration and the last
// status snapshot the DC published.
type CIB struct {
	Version Version       `json:"version"`
	Config  *model.Config `json:"config,omitempty"`
	Status  model.Status  `json:"status"`
	// Reported lists the nodes whose status in Status came from the node
	// itself (as opposed to "never known").
	Reported []string `json:"reported,omitempty"`
	// Left lists nodes that stopped everything and are shutting down
	// cleanly: their disappearance needs no fencing (every member's gate
	// learns it from here, so a future DC knows too).
	Left []string `json:"left,omitempty"`
}

// Newer returns whichever of a and b has the higher version (a on ties,
// so the local copy is kept).
func Newer(a, b *CIB) *CIB {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.Version.Less(b.Version):
		return b
	}
	return a
}
