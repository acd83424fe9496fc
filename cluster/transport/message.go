package transport

import (
	"time"

	"palisade/cluster/wire"
)

// Message is an accepted packet.
type Message struct {
	From       uint32
	Link       int // index in Config.Links of the first link it arrived on
	Generation uint64
	Seq        uint64
	SentAt     time.Time // sender's clock
	ReceivedAt time.Time // our clock
	Type       wire.Type
	To         uint32 // 0 if sent to all
	Payload    []byte // owned by the receiver (a copy)
}

// LinkHeard is when we last heard a peer on one link.
type LinkHeard struct {
	Link string
	// At is the receive time of the last authentic packet (zero: never).
	At time.Time
}

// Heard is when one peer was last heard on one link: the flat form of
// LastHeard that AppendHeard fills without allocating.
type Heard struct {
	Node       uint32
	Link       int    // index into the configured links
	Generation uint64 // newest generation seen from Node
	At         time.Time
}

// PeerHeard is one peer's liveness input for membership.
type PeerHeard struct {
	Node       uint32
	Generation uint64 // newest generation seen (0: never heard)
	Links      []LinkHeard
}
