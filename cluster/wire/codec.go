package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

const (
	// Version is the wire version this build writes and reads.
	Version = 1
	// MACSize is the length of the trailing HMAC-SHA256.
	MACSize = sha256.Size
	// MaxClusterName is the longest cluster name a packet can carry.
	MaxClusterName = 64
	// MaxPayload keeps a whole packet inside one IPv4/IPv6 UDP datagram.
	MaxPayload = 60000
	// fixedHeader is the length up to and including the cluster length byte.
	fixedHeader = 39
	// MinPacket is the smallest well-formed packet (1-byte cluster name).
	MinPacket = fixedHeader + 1 + 3 + MACSize
	// MaxPacket is the largest well-formed packet.
	MaxPacket = fixedHeader + MaxClusterName + 3 + MaxPayload + MACSize
)

var magic = [2]byte{'P', 'L'}

// Encoder signs packets with one key. Not safe for concurrent use.
type Encoder struct {
	keyID uint16
	mac   hash.Hash
}

// NewEncoder returns an Encoder that signs with key.
func NewEncoder(key Key) *Encoder {
	return &Encoder{keyID: key.ID, mac: hmac.New(sha256.New, key.Secret)}
}

// KeyID is the id of the key this Encoder signs with.
func (e *Encoder) KeyID() uint16 { return e.keyID }

// Append encodes h and payload, signs them, and appends the packet to dst.
// h.KeyID is ignored: the Encoder's key id is written. Pass a dst with
// spare capacity (MaxPacket) to avoid allocation.
func (e *Encoder) Append(dst []byte, h *Header, payload []byte) ([]byte, error) {
	if len(h.Cluster) == 0 || len(h.Cluster) > MaxClusterName {
		return dst, fmt.Errorf("wire: encode: cluster name %q must be 1..%d bytes", h.Cluster, MaxClusterName)
	}
	if len(payload) > MaxPayload {
		return dst, fmt.Errorf("wire: encode %s: payload of %d bytes exceeds %d", h.Type, len(payload), MaxPayload)
	}
	start := len(dst)
	dst = append(dst, magic[0], magic[1], Version, byte(h.Type))
	dst = binary.BigEndian.AppendUint16(dst, e.keyID)
	dst = binary.BigEndian.AppendUint32(dst, h.From)
	dst = binary.BigEndian.AppendUint32(dst, h.To)
	dst = binary.BigEndian.AppendUint64(dst, h.Generation)
	dst = binary.BigEndian.AppendUint64(dst, h.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.SentAt))
	dst = append(dst, byte(len(h.Cluster)))
	dst = append(dst, h.Cluster...)
	dst = append(dst, h.Link)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(payload)))
	dst = append(dst, payload...)
	e.mac.Reset()
	e.mac.Write(dst[start:])
	return e.mac.Sum(dst), nil
}

type decodeKey struct {
	id  uint16
	mac hash.Hash
}

// Decoder verifies packets for one cluster against a set of accepted keys.
// Not safe for concurrent use.
type Decoder struct {
	cluster string
	keys    []decodeKey
	sum     [MACSize]byte
}

// NewDecoder returns a Decoder accepting packets of cluster signed with
// any of keys (normally auth.Keyring.Accepted()).
func NewDecoder(cluster string, keys ...Key) *Decoder {
	d := &Decoder{cluster: cluster}
	for _, k := range keys {
		d.keys = append(d.keys, decodeKey{id: k.ID, mac: hmac.New(sha256.New, k.Secret)})
	}
	return d
}

// Decode parses and verifies pkt. On success the returned Message's
// Payload aliases pkt; its Cluster is the Decoder's own string (the bytes
// compared equal), so decoding does not allocate. Every error is a Reason.
func (d *Decoder) Decode(pkt []byte) (Message, error) {
	var m Message
	if len(pkt) < 4 {
		return m, ErrTruncated
	}
	if pkt[0] != magic[0] || pkt[1] != magic[1] {
		return m, ErrMalformed
	}
	if pkt[2] != Version {
		return m, ErrVersion
	}
	if len(pkt) < fixedHeader {
		return m, ErrTruncated
	}
	m.Type = Type(pkt[3])
	m.KeyID = binary.BigEndian.Uint16(pkt[4:])
	m.From = binary.BigEndian.Uint32(pkt[6:])
	m.To = binary.BigEndian.Uint32(pkt[10:])
	m.Generation = binary.BigEndian.Uint64(pkt[14:])
	m.Seq = binary.BigEndian.Uint64(pkt[22:])
	m.SentAt = int64(binary.BigEndian.Uint64(pkt[30:]))
	n := int(pkt[38])
	if n == 0 || n > MaxClusterName {
		return m, ErrMalformed
	}
	off := fixedHeader
	if len(pkt) < off+n+3 {
		return m, ErrTruncated
	}
	cluster := pkt[off : off+n]
	off += n
	m.Link = pkt[off]
	off++
	plen := int(binary.BigEndian.Uint16(pkt[off:]))
	off += 2
	if plen > MaxPayload {
		return m, ErrMalformed
	}
	end := off + plen
	switch {
	case len(pkt) < end+MACSize:
		return m, ErrTruncated
	case len(pkt) > end+MACSize:
		return m, ErrMalformed
	}
	// string(cluster) in a comparison does not allocate.
	if string(cluster) != d.cluster {
		return m, ErrWrongCluster
	}
	var mac hash.Hash
	for i := range d.keys {
		if d.keys[i].id == m.KeyID {
			mac = d.keys[i].mac
			break
		}
	}
	if mac == nil {
		return m, ErrUnknownKey
	}
	mac.Reset()
	mac.Write(pkt[:end])
	if !hmac.Equal(mac.Sum(d.sum[:0]), pkt[end:]) {
		return m, ErrBadMAC
	}
	m.Cluster = d.cluster
	m.Payload = pkt[off:end:end]
	return m, nil
}
