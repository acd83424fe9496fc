package reliable

import "palisade/cluster/wire"

// Frame is a packet the caller must transmit (transport.Send(Type, To, Payload)).
type Frame struct {
	To      uint32
	Type    wire.Type // TypeReliableData or TypeReliableAck
	Payload []byte
}

// Delivery is one message delivered in order from a peer.
type Delivery struct {
	From       uint32
	Generation uint64 // the sender's incarnation
	Payload    []byte
}

// Failure is a message that will never be delivered.
type Failure struct {
	To      uint32
	Payload []byte
	Err     error // ErrPeerRestarted or ErrPeerForgotten
}

// Ready is the output of the core since the last call to Ready.
type Ready struct {
	Frames    []Frame
	Delivered []Delivery
	Failed    []Failure
}

// Empty reports whether there is nothing to do.
func (r Ready) Empty() bool {
	return len(r.Frames) == 0 && len(r.Delivered) == 0 && len(r.Failed) == 0
}
