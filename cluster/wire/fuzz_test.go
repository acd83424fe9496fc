package wire

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary datagrams to the decoder: it must never
// panic, must fail only with a Reason, and whatever it accepts must
// re-encode to the identical bytes (so there is one encoding per message).
func FuzzDecode(f *testing.F) {
	f.Add(mustEncode(f, testKey, testHdr, testBytes))
	f.Add(mustEncode(f, testKey, Header{Type: TypeReliableAck, From: 1, To: 2, Cluster: "prod"}, nil))
	f.Add([]byte("PL\x01"))
	dec := NewDecoder("prod", testKey)
	enc := NewEncoder(testKey)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		m, err := dec.Decode(pkt)
		if err != nil {
			var r Reason
			if !errors.As(err, &r) {
				t.Fatalf("error %v is not a Reason", err)
			}
			return
		}
		again, err := enc.Append(nil, &m.Header, m.Payload)
		if err != nil {
			t.Fatalf("re-encode of accepted packet: %v", err)
		}
		if !bytes.Equal(again, pkt) {
			t.Fatalf("re-encode differs:\n got %x\nwant %x", again, pkt)
		}
	})
}
