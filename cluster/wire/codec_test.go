package wire

import (
	"bytes"
	"errors"
	"testing"
)

var (
	testKey   = Key{ID: 7, Secret: []byte("0123456789abcdef0123456789abcdef")}
	otherKey  = Key{ID: 7, Secret: []byte("another secret of thirty-two b..")}
	testHdr   = Header{Type: TypeHeartbeat, From: 3, To: 0, Generation: 42, Seq: 1000, SentAt: 1_700_000_000_000_000_000, Cluster: "prod", Link: 1}
	testBytes = []byte("hello payload")
)

func mustEncode(t testing.TB, k Key, h Header, payload []byte) []byte {
	t.Helper()
	pkt, err := NewEncoder(k).Append(nil, &h, payload)
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func TestRoundTrip(t *testing.T) {
	for _, payload := range [][]byte{nil, testBytes, bytes.Repeat([]byte{0xAB}, MaxPayload)} {
		h := testHdr
		h.To = 9
		pkt := mustEncode(t, testKey, h, payload)
		m, err := NewDecoder("prod", Key{ID: 1, Secret: []byte("x")}, testKey).Decode(pkt)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		h.KeyID = testKey.ID
		if m.Header != h {
			t.Errorf("header = %+v, want %+v", m.Header, h)
		}
		if !bytes.Equal(m.Payload, payload) {
			t.Errorf("payload mismatch (len %d vs %d)", len(m.Payload), len(payload))
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	enc := NewEncoder(testKey)
	h := testHdr
	h.Cluster = ""
	if _, err := enc.Append(nil, &h, nil); err == nil {
		t.Error("empty cluster accepted")
	}
	h.Cluster = string(make([]byte, MaxClusterName+1))
	if _, err := enc.Append(nil, &h, nil); err == nil {
		t.Error("long cluster accepted")
	}
	if _, err := enc.Append(nil, &testHdr, make([]byte, MaxPayload+1)); err == nil {
		t.Error("oversized payload accepted")
	}
}

func TestDecodeReasons(t *testing.T) {
	good := mustEncode(t, testKey, testHdr, testBytes)
	mod := func(f func(p []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		pkt  []byte
		want Reason
	}{
		{"empty", nil, ErrTruncated},
		{"three bytes", good[:3], ErrTruncated},
		{"bad magic", mod(func(p []byte) []byte { p[0] = 'X'; return p }), ErrMalformed},
		{"future version", mod(func(p []byte) []byte { p[2] = 9; return p }), ErrVersion},
		{"short header", good[:20], ErrTruncated},
		{"zero cluster len", mod(func(p []byte) []byte { p[38] = 0; return p }), ErrMalformed},
		{"huge cluster len", mod(func(p []byte) []byte { p[38] = 200; return p }), ErrMalformed},
		{"cut in payload", good[:len(good)-40], ErrTruncated},
		{"cut in mac", good[:len(good)-1], ErrTruncated},
		{"trailing byte", append(append([]byte(nil), good...), 0), ErrMalformed},
		{"wrong cluster", mustEncode(t, testKey, Header{Cluster: "test", From: 1}, nil), ErrWrongCluster},
		{"unknown key", mustEncode(t, Key{ID: 8, Secret: testKey.Secret}, testHdr, nil), ErrUnknownKey},
		{"wrong secret", mustEncode(t, otherKey, testHdr, nil), ErrBadMAC},
		{"flipped payload bit", mod(func(p []byte) []byte { p[len(p)-MACSize-1] ^= 1; return p }), ErrBadMAC},
		{"flipped seq bit", mod(func(p []byte) []byte { p[29] ^= 1; return p }), ErrBadMAC},
		{"flipped mac bit", mod(func(p []byte) []byte { p[len(p)-1] ^= 1; return p }), ErrBadMAC},
	}
	dec := NewDecoder("prod", testKey)
	for _, c := range cases {
		_, err := dec.Decode(c.pkt)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		var r Reason
		if !errors.As(err, &r) || r.String() == "unknown_reason" {
			t.Errorf("%s: error %v is not a named Reason", c.name, err)
		}
	}
	if _, err := dec.Decode(good); err != nil {
		t.Fatalf("good packet after bad ones: %v", err)
	}
}

func TestTypeString(t *testing.T) {
	if TypeReliableAck.String() != "reliable_ack" || Type(99).String() != "type_99" {
		t.Error("Type.String")
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	enc := NewEncoder(testKey)
	dec := NewDecoder("prod", testKey)
	buf := make([]byte, 0, MaxPacket)
	h := testHdr
	allocs := testing.AllocsPerRun(100, func() {
		pkt, _ := enc.Append(buf[:0], &h, testBytes)
		if _, err := dec.Decode(pkt); err != nil {
			t.Fatal(err)
		}
		dec.Decode(pkt[:10]) // an error path too
	})
	if allocs != 0 {
		t.Errorf("%v allocations per encode+decode, want 0", allocs)
	}
}
