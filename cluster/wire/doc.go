// Package wire is Palisade's cluster packet format: a compact, versioned
// binary header, a payload, and an HMAC-SHA256 over all of it.
//
// Layout (big endian, fixed header then variable parts):
//
//	off len  field
//	0   2    magic "PL"
//	2   1    version (1)
//	3   1    message type (Type)
//	4   2    key id (which shared key signed the packet)
//	6   4    sender node id (stable id from the configuration)
//	10  4    destination node id (0 = every node)
//	14  8    sender generation (incarnation, bumped at every start)
//	22  8    sequence number (per sender and generation, starts at 1)
//	30  8    send time, unix nanoseconds (informational: clocks may differ)
//	38  1    cluster name length n (1..MaxClusterName)
//	39  n    cluster name
//	    1    link index the packet was sent on
//	    2    payload length m (0..MaxPayload)
//	    m    payload
//	    32   HMAC-SHA256(key, every byte above)
//
// The destination and the link index are under the MAC, so a packet
// addressed to one node can not be re-aimed at another, nor one captured
// on one link be replayed on another to make a cut link look alive. The
// fixed header offsets (0..38) are stable for tools that peek at packets.
//
// Use an Encoder to sign and a Decoder to verify; both keep their HMAC
// state and scratch space so the hot path does not allocate. Neither is
// safe for concurrent use: give each goroutine its own.
//
//	enc := wire.NewEncoder(wire.Key{ID: 1, Secret: secret})
//	pkt, err := enc.Append(buf[:0], &wire.Header{Cluster: "prod", From: 1, Generation: g, Seq: s, Type: wire.TypeHeartbeat}, nil)
//
//	dec := wire.NewDecoder("prod", keys...)
//	msg, err := dec.Decode(pkt) // msg.Payload aliases pkt
//	var r wire.Reason
//	if errors.As(err, &r) { counters[r]++ }
//
// Decode never panics. Every error it returns is a Reason (ErrTruncated,
// ErrMalformed, ErrVersion, ErrWrongCluster, ErrUnknownKey, ErrBadMAC), so
// the receiver can count drops by cause without string matching. Checks run
// in that order: structure first, then the cluster name (so a neighbouring
// cluster on the same multicast group shows up as wrong_cluster, not as an
// attack), then the key id, then the MAC.
package wire
