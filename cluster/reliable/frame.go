package reliable

import (
	"encoding/binary"
	"fmt"
)

// DATA: dstGen(8) epoch(4) seq(8) payload
// ACK:  dstGen(8) epoch(4) cum(8) sack(8)
//
// dstGen is the receiver's generation as the sender of the frame knows it
// (0: not yet known); epoch numbers the sender's stream to that receiver
// and grows each time the stream is reset (peer restart, Forget), so a
// receiver can tell a fresh stream from old frames without a handshake.
const (
	dataHeader = 20
	ackLen     = 28
)

type dataFrame struct {
	dstGen  uint64
	epoch   uint32
	seq     uint64
	payload []byte
}

type ackFrame struct {
	dstGen uint64
	epoch  uint32
	cum    uint64 // every seq <= cum was delivered
	sack   uint64 // bit i: seq cum+2+i is held
}

func (d dataFrame) encode() []byte {
	b := make([]byte, dataHeader, dataHeader+len(d.payload))
	binary.BigEndian.PutUint64(b, d.dstGen)
	binary.BigEndian.PutUint32(b[8:], d.epoch)
	binary.BigEndian.PutUint64(b[12:], d.seq)
	return append(b, d.payload...)
}

func (a ackFrame) encode() []byte {
	b := make([]byte, ackLen)
	binary.BigEndian.PutUint64(b, a.dstGen)
	binary.BigEndian.PutUint32(b[8:], a.epoch)
	binary.BigEndian.PutUint64(b[12:], a.cum)
	binary.BigEndian.PutUint64(b[20:], a.sack)
	return b
}

func decodeData(b []byte) (dataFrame, error) {
	if len(b) < dataHeader {
		return dataFrame{}, fmt.Errorf("%w: data frame of %d bytes, header is %d", ErrBadFrame, len(b), dataHeader)
	}
	d := dataFrame{
		dstGen:  binary.BigEndian.Uint64(b),
		epoch:   binary.BigEndian.Uint32(b[8:]),
		seq:     binary.BigEndian.Uint64(b[12:]),
		payload: b[dataHeader:],
	}
	if d.seq == 0 || d.epoch == 0 {
		return dataFrame{}, fmt.Errorf("%w: data frame with seq %d epoch %d (both start at 1)", ErrBadFrame, d.seq, d.epoch)
	}
	return d, nil
}

func decodeAck(b []byte) (ackFrame, error) {
	if len(b) != ackLen {
		return ackFrame{}, fmt.Errorf("%w: ack frame of %d bytes, want %d", ErrBadFrame, len(b), ackLen)
	}
	return ackFrame{
		dstGen: binary.BigEndian.Uint64(b),
		epoch:  binary.BigEndian.Uint32(b[8:]),
		cum:    binary.BigEndian.Uint64(b[12:]),
		sack:   binary.BigEndian.Uint64(b[20:]),
	}, nil
}
