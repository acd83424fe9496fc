package wire

import "testing"

func BenchmarkEncodeSign(b *testing.B) {
	enc := NewEncoder(testKey)
	buf := make([]byte, 0, MaxPacket)
	h := testHdr
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Seq = uint64(i)
		pkt, err := enc.Append(buf[:0], &h, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(pkt)))
	}
}

func BenchmarkVerifyDecode(b *testing.B) {
	pkt := mustEncode(b, testKey, testHdr, nil)
	dec := NewDecoder("prod", testKey)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyDecode1K is a control-sized message (1 KiB payload).
func BenchmarkVerifyDecode1K(b *testing.B) {
	pkt := mustEncode(b, testKey, testHdr, make([]byte, 1024))
	dec := NewDecoder("prod", testKey)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
