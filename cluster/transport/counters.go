package transport

import "palisade/cluster/wire"

// DropReason is why the receive path discarded a packet.
type DropReason int

const (
	DropTruncated DropReason = iota
	DropMalformed
	DropVersion
	DropWrongCluster
	DropUnknownKey
	DropBadMAC
	DropUnknownNode
	DropOldGeneration
	DropReplay
	DropNotForUs   // addressed to another node (seen on multicast/broadcast)
	DropQueueFull  // consumer of Messages() too slow
	numDropReasons // keep last
)

var dropNames = [numDropReasons]string{
	DropTruncated:     "truncated",
	DropMalformed:     "malformed",
	DropVersion:       "version",
	DropWrongCluster:  "wrong_cluster",
	DropUnknownKey:    "unknown_key",
	DropBadMAC:        "bad_mac",
	DropUnknownNode:   "unknown_node",
	DropOldGeneration: "old_generation",
	DropReplay:        "replay",
	DropNotForUs:      "not_for_us",
	DropQueueFull:     "queue_full",
}

// String is the stable counter name used in status output.
func (r DropReason) String() string {
	if r >= 0 && r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// DropReasons lists every reason, in counter order.
func DropReasons() []DropReason {
	out := make([]DropReason, numDropReasons)
	for i := range out {
		out[i] = DropReason(i)
	}
	return out
}

func dropFromWire(r wire.Reason) DropReason {
	switch r {
	case wire.ErrTruncated:
		return DropTruncated
	case wire.ErrVersion:
		return DropVersion
	case wire.ErrWrongCluster:
		return DropWrongCluster
	case wire.ErrUnknownKey:
		return DropUnknownKey
	case wire.ErrBadMAC:
		return DropBadMAC
	}
	return DropMalformed
}

// LinkCounters are one link's traffic figures.
type LinkCounters struct {
	Name       string
	RxPackets  uint64
	RxBytes    uint64
	TxPackets  uint64
	TxBytes    uint64
	TxErrors   uint64
	Duplicates uint64 // authentic copies already received on another link
	Self       uint64 // our own packets looped back (multicast/broadcast)
	// Coalesced heartbeats: authentic, first copies, kept out of
	// Messages because they said nothing new (Config.CoalesceHeartbeats).
	Coalesced uint64
	// Dropped by reason name (only non-zero entries).
	Dropped map[string]uint64
}

// Counters is a snapshot of the transport's counters.
type Counters struct {
	Delivered uint64 // accepted and handed to Messages()
	// Dropped by reason name, summed over links (every reason present,
	// zero or not, so status output has a stable shape).
	Dropped map[string]uint64
	Links   []LinkCounters
}
