package disk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"strings"
	"time"
	"unicode"
)

// On-disk format, version 1. Every structure fits in the first 512 bytes
// of its own sector (so a 512-byte device works) and ends with a CRC-32C
// of those 508 bytes; the rest of the sector is zero. Sector s starts at
// byte s*SectorSize:
//
//	sector 0           header: magic, version, sector size, slots, uuid,
//	                   cluster name, the timeouts (written once at create
//	                   so that every node agrees), creation time
//	sector 1+2i        slot i: written only by the node that owns it
//	                   (heartbeat counter, view, score, master role and
//	                   decision, the last mailbox message it handled)
//	sector 2+2i        mailbox i: written by senders (poison pills)
//
// A sector of zeros is an empty slot or an empty mailbox.
const (
	Version      = 1
	headerMagic  = "PALQDISK"
	slotMagic    = "SLOT"
	mailboxMagic = "MBOX"
	recordSize   = 512
	crcOffset    = recordSize - 4
	maxNameLen   = 63
	// MaxSlots is the most nodes a disk can hold (one bit each in a view
	// bitmap).
	MaxSlots = 255
	// DefaultSlots is the number of slots `palisade disk create` makes.
	DefaultSlots = 32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrEmpty is returned for an all-zero sector: a free slot, an empty
// mailbox, or a disk that was never created.
var ErrEmpty = errors.New("empty sector")

// ErrFormat wraps every decoding error except ErrEmpty.
var ErrFormat = errors.New("quorum disk format")

// Timeouts are the disk's timing, the same for every node.
type Timeouts struct {
	// Watchdog is the watchdog timeout the nodes run with.
	Watchdog time.Duration
	// MsgWait: a sender counts the target fenced this long after its pill
	// was written and read back.
	MsgWait time.Duration
	// Loop is the disk loop period (write own slot, read the others and
	// the mailbox).
	Loop time.Duration
	// IO bounds one disk operation; slower counts as failed.
	IO time.Duration
	// DeadAfter: a node whose counter has not advanced for this long is
	// dead on disk (also the lease of the master's vote).
	DeadAfter time.Duration
}

// DefaultTimeouts are sbd-like defaults (msgwait = 2 x watchdog).
var DefaultTimeouts = Timeouts{Watchdog: 5 * time.Second, MsgWait: 10 * time.Second, Loop: time.Second, IO: time.Second, DeadAfter: 6 * time.Second}

// Validate checks the timeouts among themselves (CheckTiming checks them
// against the node's watchdog and the cluster's timing).
func (t Timeouts) Validate() error {
	var errs []string
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"watchdog", t.Watchdog}, {"msgwait", t.MsgWait}, {"loop", t.Loop}, {"io-timeout", t.IO}, {"dead-after", t.DeadAfter}} {
		if f.v < time.Millisecond || f.v > time.Hour || f.v%time.Millisecond != 0 {
			errs = append(errs, fmt.Sprintf("%s %s: want a whole number of milliseconds between 1ms and 1h", f.name, f.v))
		}
	}
	if len(errs) == 0 {
		if t.DeadAfter < 2*(t.Loop+t.IO) {
			errs = append(errs, fmt.Sprintf("dead-after %s is less than twice loop + io-timeout (%s): one slow loop would make a live node look dead; raise dead-after to at least %s", t.DeadAfter, t.Loop+t.IO, 2*(t.Loop+t.IO)))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Header is sector 0.
type Header struct {
	SectorSize int
	Slots      int
	UUID       [16]byte
	Cluster    string
	Timeouts   Timeouts
	Created    time.Time
}

// Compatible reports why two disks' headers cannot serve one cluster
// ("" when they can): everything but the UUID and creation time must match.
func (h Header) Compatible(o Header) string {
	switch {
	case h.Cluster != o.Cluster:
		return fmt.Sprintf("cluster %q vs %q", h.Cluster, o.Cluster)
	case h.SectorSize != o.SectorSize:
		return fmt.Sprintf("sector size %d vs %d", h.SectorSize, o.SectorSize)
	case h.Slots != o.Slots:
		return fmt.Sprintf("%d slots vs %d", h.Slots, o.Slots)
	case h.Timeouts != o.Timeouts:
		return fmt.Sprintf("timeouts %+v vs %+v", h.Timeouts, o.Timeouts)
	}
	return ""
}

// Size is the number of bytes the layout needs.
func (h Header) Size() int64 { return int64(1+2*h.Slots) * int64(h.SectorSize) }

// SlotOffset and MailboxOffset locate slot i's sectors.
func (h Header) SlotOffset(i int) int64    { return int64(1+2*i) * int64(h.SectorSize) }
func (h Header) MailboxOffset(i int) int64 { return int64(2+2*i) * int64(h.SectorSize) }

func putName(b []byte, s string) { copy(b[:maxNameLen+1], s) }

func getName(what string, b []byte) (string, error) {
	b = b[:maxNameLen+1]
	n := bytes.IndexByte(b, 0)
	if n < 0 {
		return "", fmt.Errorf("%s: not NUL-terminated", what)
	}
	for _, c := range b[n:] {
		if c != 0 {
			return "", fmt.Errorf("%s: bytes after the terminating NUL", what)
		}
	}
	s := string(b[:n])
	if err := checkName(what, s, true); err != nil {
		return "", err
	}
	return s, nil
}

func checkName(what, s string, emptyOK bool) error {
	if s == "" {
		if emptyOK {
			return nil
		}
		return fmt.Errorf("%s: empty", what)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%s %q: longer than %d bytes", what, s, maxNameLen)
	}
	for _, r := range s {
		if r == ',' || unicode.IsSpace(r) || !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%s %q: contains %q", what, s, r)
		}
	}
	return nil
}

func seal(b []byte) {
	binary.LittleEndian.PutUint32(b[crcOffset:], crc32.Checksum(b[:crcOffset], castagnoli))
}

// open checks the common framing of a record: length, emptiness, magic,
// checksum and that the padding after the record is zero.
func open(what string, b []byte, magic string) error {
	if len(b) < recordSize {
		return fmt.Errorf("%w: %s: %d bytes, want at least %d", ErrFormat, what, len(b), recordSize)
	}
	if isZero(b) {
		return ErrEmpty
	}
	if string(b[:len(magic)]) != magic {
		return fmt.Errorf("%w: %s: bad magic %q (want %q)", ErrFormat, what, b[:len(magic)], magic)
	}
	if got, want := binary.LittleEndian.Uint32(b[crcOffset:]), crc32.Checksum(b[:crcOffset], castagnoli); got != want {
		return fmt.Errorf("%w: %s: checksum %08x, computed %08x (torn or corrupt write)", ErrFormat, what, got, want)
	}
	if !isZero(b[recordSize:]) {
		return fmt.Errorf("%w: %s: data after the record in its sector", ErrFormat, what)
	}
	return nil
}

var zeroSector [4096]byte

// isZero reports whether b is all zeros (bytes.Equal is vectorized: this
// runs for every sector of every loop).
func isZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroSector))
		if !bytes.Equal(b[:n], zeroSector[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

func ms(d time.Duration) uint32 { return uint32(d / time.Millisecond) }

// Encode writes h into a zeroed sector.
func (h Header) Encode(b []byte) {
	clear(b)
	copy(b, headerMagic)
	binary.LittleEndian.PutUint16(b[8:], Version)
	binary.LittleEndian.PutUint32(b[12:], uint32(h.SectorSize))
	binary.LittleEndian.PutUint16(b[16:], uint16(h.Slots))
	copy(b[24:40], h.UUID[:])
	putName(b[40:104], h.Cluster)
	t := h.Timeouts
	binary.LittleEndian.PutUint32(b[104:], ms(t.Watchdog))
	binary.LittleEndian.PutUint32(b[108:], ms(t.MsgWait))
	binary.LittleEndian.PutUint32(b[112:], ms(t.Loop))
	binary.LittleEndian.PutUint32(b[116:], ms(t.IO))
	binary.LittleEndian.PutUint32(b[120:], ms(t.DeadAfter))
	binary.LittleEndian.PutUint64(b[128:], uint64(max(h.Created.Unix(), 0)))
	seal(b)
}

// DecodeHeader decodes and validates sector 0. b may be longer than the
// sector (a 4096-byte read of a 512-byte-sector disk): what follows the
// sector is ignored.
func DecodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) >= 16 {
		if ss := int(binary.LittleEndian.Uint32(b[12:])); (ss == 512 || ss == 4096) && len(b) > ss {
			b = b[:ss]
		}
	}
	if err := open("header", b, headerMagic); err != nil {
		if err == ErrEmpty {
			return h, fmt.Errorf("%w: no quorum disk header (sector 0 is zero): run palisade disk create", ErrEmpty)
		}
		return h, err
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != Version {
		return h, fmt.Errorf("%w: header: version %d (this build reads %d)", ErrFormat, v, Version)
	}
	h.SectorSize = int(binary.LittleEndian.Uint32(b[12:]))
	if h.SectorSize != 512 && h.SectorSize != 4096 {
		return h, fmt.Errorf("%w: header: sector size %d (want 512 or 4096)", ErrFormat, h.SectorSize)
	}
	if len(b) != recordSize && len(b) != h.SectorSize {
		return h, fmt.Errorf("%w: header: read %d bytes of a %d-byte sector", ErrFormat, len(b), h.SectorSize)
	}
	h.Slots = int(binary.LittleEndian.Uint16(b[16:]))
	if h.Slots < 1 || h.Slots > MaxSlots {
		return h, fmt.Errorf("%w: header: %d slots (want 1 to %d)", ErrFormat, h.Slots, MaxSlots)
	}
	copy(h.UUID[:], b[24:40])
	var err error
	if h.Cluster, err = getName("header: cluster name", b[40:104]); err != nil {
		return h, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	d := func(off int) time.Duration {
		return time.Duration(binary.LittleEndian.Uint32(b[off:])) * time.Millisecond
	}
	h.Timeouts = Timeouts{Watchdog: d(104), MsgWait: d(108), Loop: d(112), IO: d(116), DeadAfter: d(120)}
	if err := h.Timeouts.Validate(); err != nil {
		return h, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	created := binary.LittleEndian.Uint64(b[128:])
	if created > 1<<40 {
		return h, fmt.Errorf("%w: header: creation time %d out of range", ErrFormat, created)
	}
	h.Created = time.Unix(int64(created), 0).UTC()
	for _, c := range b[136:crcOffset] {
		if c != 0 {
			return h, fmt.Errorf("%w: header: reserved bytes not zero", ErrFormat)
		}
	}
	return h, nil
}

// Bitmap is a set of slot indices (a view's members).
type Bitmap [32]byte

// Set adds slot i.
func (m *Bitmap) Set(i int) { m[i/8] |= 1 << (i % 8) }

// Has reports whether slot i is in the set.
func (m Bitmap) Has(i int) bool { return i >= 0 && i < 256 && m[i/8]&(1<<(i%8)) != 0 }

// Count is the number of slots in the set.
func (m Bitmap) Count() int {
	n := 0
	for _, b := range m {
		n += bits.OnesCount8(b)
	}
	return n
}

// Empty reports whether no slot is set.
func (m Bitmap) Empty() bool { return m == Bitmap{} }

// Indices lists the slots in the set, ascending.
func (m Bitmap) Indices() []int {
	var out []int
	for i := 0; i < 256; i++ {
		if m.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// SlotState is what a slot's owner says about itself.
type SlotState uint8

const (
	// StateAllocated: the slot is reserved for a node that has not run
	// on this disk yet (or has stopped cleanly).
	StateAllocated SlotState = 1
	// StateRunning: the node runs its disk loop.
	StateRunning SlotState = 2
	// StateFenced: the node read a pill (or was told to fence itself)
	// and is resetting or powering off.
	StateFenced SlotState = 3
	// StateStopped: the node stopped its disk loop cleanly.
	StateStopped SlotState = 4
)

func (s SlotState) String() string {
	switch s {
	case StateAllocated:
		return "allocated"
	case StateRunning:
		return "running"
	case StateFenced:
		return "fenced"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Role is a node's part in the master election.
type Role uint8

const (
	RoleNone    Role = 0
	RoleBidding Role = 1
	RoleMaster  Role = 2
)

func (r Role) String() string {
	switch r {
	case RoleNone:
		return "-"
	case RoleBidding:
		return "bidding"
	case RoleMaster:
		return "master"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Decision is the master's grant of the disk's votes: Seq increases with
// every change (across masters); an empty Members means no partition has
// the votes (a revocation).
type Decision struct {
	Seq     uint64
	View    uint64
	Members Bitmap
}

// Slot flags.
const (
	flagHeld       = 1 << 0 // the node's partition held the resources
	flagQuorate    = 1 << 1 // the node is quorate now
	flagWasQuorate = 1 << 2 // the node has been quorate since it started
)

// Slot is one node's sector.
type Slot struct {
	State       SlotState
	Role        Role
	Name        string
	Incarnation uint64
	Counter     uint64
	View        uint64
	Members     Bitmap
	Score       int
	Held        bool
	Quorate     bool
	WasQuorate  bool
	// SeenDecision is the highest decision Seq the node has seen.
	SeenDecision uint64
	// Handled is the nonce of the last mailbox message the node acted on.
	Handled  uint64
	Decision Decision
	// Successor is the slot a master hands its role to, plus one (0:
	// none): the successor takes over at once, without the election's
	// wait, so the winning partition keeps the disk's votes while the
	// master leaves.
	Successor int
}

// Encode writes s into a zeroed sector.
func (s Slot) Encode(b []byte) {
	clear(b)
	copy(b, slotMagic)
	b[4] = Version
	b[5] = byte(s.State)
	b[6] = byte(s.Role)
	var f byte
	if s.Held {
		f |= flagHeld
	}
	if s.Quorate {
		f |= flagQuorate
	}
	if s.WasQuorate {
		f |= flagWasQuorate
	}
	b[7] = f
	putName(b[8:72], s.Name)
	binary.LittleEndian.PutUint64(b[72:], s.Incarnation)
	binary.LittleEndian.PutUint64(b[80:], s.Counter)
	binary.LittleEndian.PutUint64(b[88:], s.View)
	copy(b[96:128], s.Members[:])
	binary.LittleEndian.PutUint32(b[128:], uint32(s.Score))
	binary.LittleEndian.PutUint64(b[136:], s.SeenDecision)
	binary.LittleEndian.PutUint64(b[144:], s.Handled)
	binary.LittleEndian.PutUint64(b[152:], s.Decision.Seq)
	binary.LittleEndian.PutUint64(b[160:], s.Decision.View)
	copy(b[168:200], s.Decision.Members[:])
	if s.Successor > 0 && s.Successor <= MaxSlots {
		b[200] = byte(s.Successor)
	}
	seal(b)
}

// DecodeSlot decodes and validates a slot sector.
func DecodeSlot(b []byte) (Slot, error) {
	var s Slot
	if err := open("slot", b, slotMagic); err != nil {
		return s, err
	}
	if b[4] != Version {
		return s, fmt.Errorf("%w: slot: version %d (this build reads %d)", ErrFormat, b[4], Version)
	}
	s.State, s.Role = SlotState(b[5]), Role(b[6])
	if s.State < StateAllocated || s.State > StateStopped {
		return s, fmt.Errorf("%w: slot: state %d", ErrFormat, b[5])
	}
	if s.Role > RoleMaster {
		return s, fmt.Errorf("%w: slot: role %d", ErrFormat, b[6])
	}
	if b[7]&^(flagHeld|flagQuorate|flagWasQuorate) != 0 {
		return s, fmt.Errorf("%w: slot: unknown flags %#x", ErrFormat, b[7])
	}
	s.Held, s.Quorate, s.WasQuorate = b[7]&flagHeld != 0, b[7]&flagQuorate != 0, b[7]&flagWasQuorate != 0
	var err error
	if s.Name, err = getName("slot: node name", b[8:72]); err != nil {
		return s, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if s.Name == "" {
		return s, fmt.Errorf("%w: slot: no node name", ErrFormat)
	}
	s.Incarnation = binary.LittleEndian.Uint64(b[72:])
	s.Counter = binary.LittleEndian.Uint64(b[80:])
	s.View = binary.LittleEndian.Uint64(b[88:])
	copy(s.Members[:], b[96:128])
	score := binary.LittleEndian.Uint32(b[128:])
	if score > 1_000_000_000 {
		return s, fmt.Errorf("%w: slot: score %d out of range", ErrFormat, score)
	}
	s.Score = int(score)
	s.SeenDecision = binary.LittleEndian.Uint64(b[136:])
	s.Handled = binary.LittleEndian.Uint64(b[144:])
	s.Decision.Seq = binary.LittleEndian.Uint64(b[152:])
	s.Decision.View = binary.LittleEndian.Uint64(b[160:])
	copy(s.Decision.Members[:], b[168:200])
	s.Successor = int(b[200])
	if s.Successor > 0 && s.Role != RoleMaster {
		return s, fmt.Errorf("%w: slot: a successor named by a node that is not master", ErrFormat)
	}
	for _, c := range append(b[132:136:136], b[201:crcOffset]...) {
		if c != 0 {
			return s, fmt.Errorf("%w: slot: reserved bytes not zero", ErrFormat)
		}
	}
	return s, nil
}

// MessageType is a mailbox message.
type MessageType uint8

const (
	// MsgNone: an empty (cleared) mailbox.
	MsgNone MessageType = 0
	// MsgTest asks the target to log it and acknowledge (its slot's
	// Handled becomes the nonce).
	MsgTest MessageType = 1
	// MsgReset asks the target to reset itself at once.
	MsgReset MessageType = 2
	// MsgOff asks the target to power itself off.
	MsgOff MessageType = 3
	// MsgClear empties the mailbox (written as MsgNone).
	MsgClear MessageType = 4
)

// ParseMessageType parses reset|off|clear|test.
func ParseMessageType(s string) (MessageType, error) {
	switch s {
	case "test":
		return MsgTest, nil
	case "reset":
		return MsgReset, nil
	case "off":
		return MsgOff, nil
	case "clear":
		return MsgClear, nil
	}
	return 0, fmt.Errorf("message %q: want reset, off, clear or test", s)
}

func (t MessageType) String() string {
	switch t {
	case MsgNone:
		return "clear"
	case MsgTest:
		return "test"
	case MsgReset:
		return "reset"
	case MsgOff:
		return "off"
	case MsgClear:
		return "clear"
	}
	return fmt.Sprintf("message(%d)", uint8(t))
}

// IsPill reports whether the message fences its target.
func (t MessageType) IsPill() bool { return t == MsgReset || t == MsgOff }

// Mailbox is a mailbox sector.
type Mailbox struct {
	Type   MessageType
	Nonce  uint64
	Sender string
	Target string
}

// Encode writes m into a zeroed sector.
func (m Mailbox) Encode(b []byte) {
	clear(b)
	copy(b, mailboxMagic)
	b[4] = Version
	t := m.Type
	if t == MsgClear {
		t = MsgNone
	}
	b[5] = byte(t)
	binary.LittleEndian.PutUint64(b[8:], m.Nonce)
	putName(b[16:80], m.Sender)
	putName(b[80:144], m.Target)
	seal(b)
}

// DecodeMailbox decodes and validates a mailbox sector; an all-zero sector
// is an empty mailbox (not an error).
func DecodeMailbox(b []byte) (Mailbox, error) {
	var m Mailbox
	if err := open("mailbox", b, mailboxMagic); err != nil {
		if err == ErrEmpty {
			return m, nil
		}
		return m, err
	}
	if b[4] != Version {
		return m, fmt.Errorf("%w: mailbox: version %d (this build reads %d)", ErrFormat, b[4], Version)
	}
	m.Type = MessageType(b[5])
	if m.Type > MsgOff {
		return m, fmt.Errorf("%w: mailbox: message type %d", ErrFormat, b[5])
	}
	if b[6] != 0 || b[7] != 0 {
		return m, fmt.Errorf("%w: mailbox: reserved bytes not zero", ErrFormat)
	}
	m.Nonce = binary.LittleEndian.Uint64(b[8:])
	var err error
	if m.Sender, err = getName("mailbox: sender", b[16:80]); err != nil {
		return m, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if m.Target, err = getName("mailbox: target", b[80:144]); err != nil {
		return m, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if m.Type != MsgNone && (m.Nonce == 0 || m.Target == "") {
		return m, fmt.Errorf("%w: mailbox: %s without nonce or target", ErrFormat, m.Type)
	}
	for _, c := range b[144:crcOffset] {
		if c != 0 {
			return m, fmt.Errorf("%w: mailbox: reserved bytes not zero", ErrFormat)
		}
	}
	return m, nil
}
