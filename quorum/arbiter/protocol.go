package arbiter

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// Wire format: every message is one frame
//
//	'P' 'A' | version (1) | type (1) | payload length (uint32, big endian) | payload
//
// and the payload is a JSON object of the message type, decoded strictly
// (unknown fields are errors) and validated. A session is:
//
//	client: Hello            server: Welcome (or Error, then close)
//	client: Report (on every view change and every interval)
//	server: Vote (the answer to each Report, and pushed when the decision changes)
//	client: Release (after a non-ack Vote, when it held an ack: "I no longer count it")
const (
	frameMagic0   = 'P'
	frameMagic1   = 'A'
	frameVersion  = 1
	frameHeader   = 8
	maxPayload    = 64 << 10
	maxName       = 64
	maxNodes      = 256
	maxReasonText = 512
	maxScore      = 1_000_000_000
)

// Message types.
const (
	TypeHello   byte = 1
	TypeWelcome byte = 2
	TypeReport  byte = 3
	TypeVote    byte = 4
	TypeRelease byte = 5
	TypeError   byte = 6
)

// Message is one protocol message.
type Message interface {
	Type() byte
	validate() error
}

// NodeVotes is one configured node in a Hello.
type NodeVotes struct {
	Name  string `json:"name"`
	Votes int    `json:"votes"`
}

// Hello opens a session: which cluster and node, and the cluster's
// arbitration rules (every node of a cluster must send the same).
type Hello struct {
	Cluster    string      `json:"cluster"`
	Node       string      `json:"node"`
	Algorithm  string      `json:"algorithm"`
	TieBreaker string      `json:"tie_breaker,omitempty"`
	Nodes      []NodeVotes `json:"nodes"`
}

// Welcome accepts a session.
type Welcome struct {
	// Server identifies the arbiter process; it changes at every start, so
	// a client can tell a restart from a reconnect.
	Server string `json:"server"`
	// LeaseMS: an ack counts for this long after the report it answers was
	// sent.
	LeaseMS int64 `json:"lease_ms"`
	// GraceMS: the arbiter gives no ack for this much longer (start-up
	// grace, so that acks of a previous instance have expired).
	GraceMS int64 `json:"grace_ms"`
}

// Report is a node's current view, heuristics score and whether its
// partition held the resources. Seq increases with every report of a
// session.
type Report struct {
	Seq     uint64   `json:"seq"`
	View    uint64   `json:"view"`
	Members []string `json:"members"`
	Score   int      `json:"score"`
	Held    bool     `json:"held,omitempty"`
}

// Verdicts.
const (
	VerdictAck  = "ack"
	VerdictNack = "nack"
	VerdictWait = "wait"
)

// Vote is the arbiter's verdict for a node's view.
type Vote struct {
	// Seq is the latest report of this session the arbiter had when it
	// decided: an ack's lease runs from that report's send time.
	Seq  uint64 `json:"seq"`
	View uint64 `json:"view"`
	// Decision identifies a grant: acks carry the grant they belong to,
	// nacks the grant the node must give up (0: none).
	Decision uint64 `json:"decision"`
	Verdict  string `json:"verdict"`
	Reason   string `json:"reason,omitempty"`
}

// Release confirms that the node no longer counts grant Decision.
type Release struct {
	Decision uint64 `json:"decision"`
}

// Error refuses a session; the server closes the connection after it.
type Error struct {
	Message string `json:"message"`
}

func (*Hello) Type() byte   { return TypeHello }
func (*Welcome) Type() byte { return TypeWelcome }
func (*Report) Type() byte  { return TypeReport }
func (*Vote) Type() byte    { return TypeVote }
func (*Release) Type() byte { return TypeRelease }
func (*Error) Type() byte   { return TypeError }

// ErrFrame wraps every decoding error.
var ErrFrame = errors.New("arbiter protocol")

// checkName accepts what a node or cluster name may be: 1-64 printable
// characters without spaces or commas (names are joined with commas in
// partition keys).
func checkName(what, s string) error {
	if s == "" || len(s) > maxName {
		return fmt.Errorf("%s %q: want 1 to %d characters", what, s, maxName)
	}
	for _, r := range s {
		if r == ',' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q: contains %q", what, s, r)
		}
	}
	return nil
}

func (h *Hello) validate() error {
	if err := checkName("cluster", h.Cluster); err != nil {
		return err
	}
	if err := checkName("node", h.Node); err != nil {
		return err
	}
	if _, err := quorum.ParseAlgorithm(h.Algorithm, quorum.DeviceArbiter); err != nil || h.Algorithm == "" {
		return fmt.Errorf("algorithm %q: want ffsplit or lms", h.Algorithm)
	}
	if len(h.Nodes) == 0 || len(h.Nodes) > maxNodes {
		return fmt.Errorf("%d nodes: want 1 to %d", len(h.Nodes), maxNodes)
	}
	if err := h.Rules().Validate(); err != nil {
		return err
	}
	for _, n := range h.Nodes {
		if err := checkName("node", n.Name); err != nil {
			return err
		}
		if n.Votes > 1000 {
			return fmt.Errorf("node %s: %d votes: want at most 1000", n.Name, n.Votes)
		}
	}
	found := false
	for _, n := range h.Nodes {
		found = found || n.Name == h.Node
	}
	if !found {
		return fmt.Errorf("node %q is not in its own node list", h.Node)
	}
	return nil
}

// Rules are the arbitration rules a Hello announces.
func (h *Hello) Rules() arbitration.Rules {
	r := arbitration.Rules{Algorithm: quorum.Algorithm(h.Algorithm), TieBreaker: h.TieBreaker}
	for _, n := range h.Nodes {
		r.Nodes = append(r.Nodes, arbitration.Node{Name: n.Name, Votes: n.Votes})
	}
	return r
}

func (w *Welcome) validate() error {
	if err := checkName("server id", w.Server); err != nil {
		return err
	}
	if w.LeaseMS <= 0 || w.LeaseMS > 3600_000 || w.GraceMS < 0 || w.GraceMS > 3600_000 {
		return fmt.Errorf("lease %dms / grace %dms out of range", w.LeaseMS, w.GraceMS)
	}
	return nil
}

func (r *Report) validate() error {
	if r.Seq == 0 {
		return fmt.Errorf("report seq 0")
	}
	if len(r.Members) == 0 || len(r.Members) > maxNodes {
		return fmt.Errorf("%d members: want 1 to %d", len(r.Members), maxNodes)
	}
	for _, m := range r.Members {
		if err := checkName("member", m); err != nil {
			return err
		}
	}
	if r.Score < 0 || r.Score > maxScore {
		return fmt.Errorf("score %d: want 0 to %d", r.Score, maxScore)
	}
	return nil
}

func (v *Vote) validate() error {
	switch v.Verdict {
	case VerdictAck:
		if v.Decision == 0 {
			return fmt.Errorf("ack without a decision id")
		}
	case VerdictNack, VerdictWait:
	default:
		return fmt.Errorf("verdict %q: want ack, nack or wait", v.Verdict)
	}
	if len(v.Reason) > maxReasonText {
		return fmt.Errorf("reason of %d bytes: want at most %d", len(v.Reason), maxReasonText)
	}
	return nil
}

func (r *Release) validate() error {
	if r.Decision == 0 {
		return fmt.Errorf("release of decision 0")
	}
	return nil
}

func (e *Error) validate() error {
	if len(e.Message) > maxReasonText {
		return fmt.Errorf("error message of %d bytes: want at most %d", len(e.Message), maxReasonText)
	}
	return nil
}

func newMessage(t byte) Message {
	switch t {
	case TypeHello:
		return &Hello{}
	case TypeWelcome:
		return &Welcome{}
	case TypeReport:
		return &Report{}
	case TypeVote:
		return &Vote{}
	case TypeRelease:
		return &Release{}
	case TypeError:
		return &Error{}
	}
	return nil
}

// AppendFrame appends m's frame to dst.
func AppendFrame(dst []byte, m Message) ([]byte, error) {
	if err := m.validate(); err != nil {
		return dst, fmt.Errorf("%w: encoding type %d: %w", ErrFrame, m.Type(), err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return dst, fmt.Errorf("%w: encoding type %d: %w", ErrFrame, m.Type(), err)
	}
	if len(body) > maxPayload {
		return dst, fmt.Errorf("%w: type %d payload of %d bytes exceeds %d", ErrFrame, m.Type(), len(body), maxPayload)
	}
	dst = append(dst, frameMagic0, frameMagic1, frameVersion, m.Type())
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...), nil
}

// DecodeFrame decodes the frame at the start of b and returns the message
// and the number of bytes used. io.ErrUnexpectedEOF means b holds only
// part of a frame.
func DecodeFrame(b []byte) (Message, int, error) {
	if len(b) < frameHeader {
		return nil, 0, io.ErrUnexpectedEOF
	}
	if b[0] != frameMagic0 || b[1] != frameMagic1 {
		return nil, 0, fmt.Errorf("%w: bad magic %#02x%02x (want \"PA\")", ErrFrame, b[0], b[1])
	}
	if b[2] != frameVersion {
		return nil, 0, fmt.Errorf("%w: version %d (this build speaks %d)", ErrFrame, b[2], frameVersion)
	}
	m := newMessage(b[3])
	if m == nil {
		return nil, 0, fmt.Errorf("%w: unknown message type %d", ErrFrame, b[3])
	}
	n := binary.BigEndian.Uint32(b[4:8])
	if n > maxPayload {
		return nil, 0, fmt.Errorf("%w: type %d payload of %d bytes exceeds %d", ErrFrame, b[3], n, maxPayload)
	}
	if len(b) < frameHeader+int(n) {
		return nil, 0, io.ErrUnexpectedEOF
	}
	body := b[frameHeader : frameHeader+int(n)]
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return nil, 0, fmt.Errorf("%w: type %d payload: %w", ErrFrame, b[3], err)
	}
	if dec.More() {
		return nil, 0, fmt.Errorf("%w: type %d payload: data after the JSON object", ErrFrame, b[3])
	}
	if err := m.validate(); err != nil {
		return nil, 0, fmt.Errorf("%w: type %d: %w", ErrFrame, b[3], err)
	}
	return m, frameHeader + int(n), nil
}

// ReadMessage reads one frame from r.
func ReadMessage(r *bufio.Reader) (Message, error) {
	hdr, err := r.Peek(frameHeader)
	if err != nil {
		if err == io.EOF && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[4:8])
	if hdr[0] != frameMagic0 || hdr[1] != frameMagic1 || n > maxPayload {
		_, _, err := DecodeFrame(hdr)
		return nil, err
	}
	buf := make([]byte, frameHeader+int(n))
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	m, _, err := DecodeFrame(buf)
	return m, err
}

// WriteMessage writes one frame to w.
func WriteMessage(w io.Writer, m Message) error {
	b, err := AppendFrame(nil, m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// describe is a one-line rendering of a message for logs and tests.
func describe(m Message) string {
	switch m := m.(type) {
	case *Hello:
		return fmt.Sprintf("hello %s/%s %s nodes=%d", m.Cluster, m.Node, m.Algorithm, len(m.Nodes))
	case *Welcome:
		return fmt.Sprintf("welcome lease=%dms grace=%dms", m.LeaseMS, m.GraceMS)
	case *Report:
		return fmt.Sprintf("report seq=%d v%d {%s} score=%d held=%v", m.Seq, m.View, strings.Join(m.Members, ","), m.Score, m.Held)
	case *Vote:
		s := fmt.Sprintf("%s v%d decision=%d seq=%d", m.Verdict, m.View, m.Decision, m.Seq)
		if m.Reason != "" {
			s += ": " + m.Reason
		}
		return s
	case *Release:
		return fmt.Sprintf("release decision=%d", m.Decision)
	case *Error:
		return "error: " + m.Message
	}
	return fmt.Sprintf("%T", m)
}
