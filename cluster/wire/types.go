package wire

import "fmt"

// Type says what a packet carries. Transport treats every type alike;
// the meaning belongs to the layer that registers it.
type Type uint8

const (
	// TypeHeartbeat is the periodic liveness message (payload usually empty).
	TypeHeartbeat Type = 1
	// TypeReliableData carries one frame of package reliable's stream.
	TypeReliableData Type = 2
	// TypeReliableAck acknowledges reliable frames.
	TypeReliableAck Type = 3
)

// String names the type for logs and status output.
func (t Type) String() string {
	switch t {
	case TypeHeartbeat:
		return "heartbeat"
	case TypeReliableData:
		return "reliable_data"
	case TypeReliableAck:
		return "reliable_ack"
	}
	return fmt.Sprintf("type_%d", uint8(t))
}

// Key is one shared secret and the id that names it on the wire.
type Key struct {
	ID     uint16
	Secret []byte
}

// Header is everything in a packet except the payload and the MAC.
type Header struct {
	Type       Type
	KeyID      uint16 // set by Encoder.Append from its key; filled by Decode
	From       uint32
	To         uint32 // 0 = every node
	Generation uint64
	Seq        uint64
	SentAt     int64 // unix nanoseconds
	Cluster    string
	// Link is the index of the link the packet was sent on (the cluster
	// configuration's link order). Under the MAC, so a packet captured on
	// one link and replayed on another is recognisable.
	Link uint8
}

// Message is a decoded, verified packet. Payload aliases the decoded
// buffer: copy it before the buffer is reused.
type Message struct {
	Header
	Payload []byte
}
