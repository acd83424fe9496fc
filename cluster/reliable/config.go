package reliable

import (
	"errors"
	"fmt"

	"palisade/cluster/wire"
)

var (
	// ErrSendBufferFull is Send's back-pressure: the peer has SendBuffer
	// messages queued or unacknowledged.
	ErrSendBufferFull = errors.New("reliable: send buffer full")
	// ErrPeerRestarted fails messages queued for a peer incarnation that
	// has since been replaced by a new one.
	ErrPeerRestarted = errors.New("reliable: peer restarted before acknowledging")
	// ErrPeerForgotten fails messages queued for a peer passed to Forget.
	ErrPeerForgotten = errors.New("reliable: peer forgotten (declared dead)")
	// ErrTooLarge refuses a payload that would not fit one packet.
	ErrTooLarge = errors.New("reliable: payload too large")
	// ErrSelf refuses sending to ourselves or to node 0.
	ErrSelf = errors.New("reliable: bad destination")
	// ErrBadFrame is returned by Step for a frame it cannot parse.
	ErrBadFrame = errors.New("reliable: malformed frame")
)

// Config sizes an Endpoint. Zero values take the defaults.
type Config struct {
	Self       uint32
	Generation uint64
	// SendBuffer: messages queued or in flight per peer (default 256).
	SendBuffer int
	// Window: messages in flight (sent, unacked) per peer (default 32).
	Window int
	// RecvBuffer: out-of-order frames held per peer (default 64, max 64:
	// the selective ack bitmap covers 64 frames).
	RecvBuffer int
	// RetransmitTicks: first retransmission timeout (default 2 ticks).
	RetransmitTicks int
	// MaxRetransmitTicks caps the exponential backoff (default 32 ticks).
	MaxRetransmitTicks int
}

// MaxPayload is the largest message Send accepts (a wire payload minus
// the DATA frame header).
const MaxPayload = wire.MaxPayload - dataHeader

func (c Config) withDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.SendBuffer, 256)
	def(&c.Window, 32)
	def(&c.RecvBuffer, 64)
	def(&c.RetransmitTicks, 2)
	def(&c.MaxRetransmitTicks, 32)
	switch {
	case c.Self == 0:
		return c, fmt.Errorf("reliable: config: Self node id must be set")
	case c.Generation == 0:
		return c, fmt.Errorf("reliable: config: Generation must be set (>0)")
	case c.SendBuffer < 1 || c.Window < 1 || c.RecvBuffer < 1 || c.RecvBuffer > 64:
		return c, fmt.Errorf("reliable: config: SendBuffer %d, Window %d must be >= 1 and RecvBuffer %d in 1..64", c.SendBuffer, c.Window, c.RecvBuffer)
	case c.RetransmitTicks < 1 || c.MaxRetransmitTicks < c.RetransmitTicks:
		return c, fmt.Errorf("reliable: config: need 1 <= RetransmitTicks (%d) <= MaxRetransmitTicks (%d)", c.RetransmitTicks, c.MaxRetransmitTicks)
	}
	return c, nil
}
