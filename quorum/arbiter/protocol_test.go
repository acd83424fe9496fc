package arbiter

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func sampleMessages() []Message {
	return []Message{
		&Hello{Cluster: "prod", Node: "n1", Algorithm: "ffsplit", TieBreaker: "n2", Nodes: []NodeVotes{{"n1", 1}, {"n2", 1}}},
		&Welcome{Server: "arb-1", LeaseMS: 6000, GraceMS: 1200},
		&Report{Seq: 7, View: 42, Members: []string{"n1", "n2"}, Score: 100, Held: true},
		&Vote{Seq: 7, View: 42, Decision: 3, Verdict: VerdictAck},
		&Vote{Seq: 8, View: 42, Decision: 3, Verdict: VerdictNack, Reason: "give up the vote"},
		&Vote{Seq: 9, View: 43, Verdict: VerdictWait, Reason: "reports disagree"},
		&Release{Decision: 3},
		&Error{Message: "certificate is for cluster \"beta\""},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	var stream []byte
	for _, m := range sampleMessages() {
		var err error
		if stream, err = AppendFrame(stream, m); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(bytes.NewReader(stream))
	for _, want := range sampleMessages() {
		got, err := ReadMessage(r)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, %v; want %#v", got, err, want)
		}
	}
	if _, err := ReadMessage(r); err != io.EOF {
		t.Fatalf("after the last frame: %v, want EOF", err)
	}
}

// Bad frames are refused with an error that says what was wrong.
func TestDecodeFrameErrors(t *testing.T) {
	good, _ := AppendFrame(nil, &Release{Decision: 1})
	frame := func(typ byte, body string) []byte {
		b := []byte{'P', 'A', 1, typ, 0, 0, 0, byte(len(body))}
		return append(b, body...)
	}
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{good[:5], "unexpected EOF"},
		{append([]byte("XA"), good[2:]...), "bad magic"},
		{append([]byte{'P', 'A', 9}, good[3:]...), "version 9 (this build speaks 1)"},
		{frame(77, "{}"), "unknown message type 77"},
		{[]byte{'P', 'A', 1, 5, 0, 1, 0, 1}, "payload of 65537 bytes exceeds 65536"},
		{frame(TypeRelease, `{"decision":1,"extra":2}`), `unknown field "extra"`},
		{frame(TypeRelease, `{"decision":0}`), "release of decision 0"},
		{frame(TypeRelease, `{"decision":1}{}`), "data after the JSON object"},
		{frame(TypeVote, `{"seq":1,"view":1,"decision":0,"verdict":"ack"}`), "ack without a decision id"},
		{frame(TypeVote, `{"seq":1,"view":1,"decision":0,"verdict":"maybe"}`), `verdict "maybe"`},
		{frame(TypeReport, `{"seq":1,"view":1,"members":["a b"],"score":0}`), `member "a b": contains ' '`},
		{frame(TypeReport, `{"seq":1,"view":1,"members":["a,b"],"score":0}`), `contains ','`},
		{frame(TypeHello, `{"cluster":"c","node":"n3","algorithm":"lms","nodes":[{"name":"n1","votes":1}]}`), `node "n3" is not in its own node list`},
		{frame(TypeHello, `{"cluster":"c","node":"n1","algorithm":"","nodes":[{"name":"n1","votes":1}]}`), `algorithm "": want ffsplit or lms`},
	} {
		_, _, err := DecodeFrame(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrFrame) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: %v does not wrap ErrFrame", tc.in, err)
		}
	}
}

// FuzzDecodeFrame: the decoder never panics, consumes no more than it was
// given, and whatever it accepts encodes back to a frame that decodes to
// the same message.
func FuzzDecodeFrame(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := AppendFrame(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("PA\x01\x03\x00\x00\x00\x02{}"))
	f.Add([]byte("PA\x01\x04\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if n > len(b) || n < frameHeader {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		again, err := AppendFrame(nil, m)
		if err != nil {
			t.Fatalf("accepted %#v but cannot encode it: %v", m, err)
		}
		m2, _, err := DecodeFrame(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %#v -> %v, %#v", m, err, m2)
		}
		// The stream reader agrees with the buffer decoder.
		m3, err := ReadMessage(bufio.NewReader(bytes.NewReader(b)))
		if err != nil || !reflect.DeepEqual(m, m3) {
			t.Fatalf("ReadMessage disagrees: %#v, %v", m3, err)
		}
	})
}
