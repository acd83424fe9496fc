package disk

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// Create formats devs as one quorum disk set: the same header on each
// (its own UUID), every slot and mailbox zeroed, and slots allocated to
// nodes in order. Every disk is written before any error is returned.
func Create(devs []*Device, h Header, nodes []string) error {
	if len(devs) != 1 && len(devs) != 3 {
		return fmt.Errorf("%d disks: want 1 or 3", len(devs))
	}
	if h.SectorSize != 512 && h.SectorSize != 4096 {
		return fmt.Errorf("sector size %d: want 512 or 4096", h.SectorSize)
	}
	if h.Slots < 1 || h.Slots > MaxSlots {
		return fmt.Errorf("%d slots: want 1 to %d", h.Slots, MaxSlots)
	}
	if err := checkName("cluster name", h.Cluster, false); err != nil {
		return err
	}
	if err := h.Timeouts.Validate(); err != nil {
		return err
	}
	if len(nodes) > h.Slots {
		return fmt.Errorf("%d nodes but %d slots: raise --slots", len(nodes), h.Slots)
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		if err := checkName("node name", n, false); err != nil {
			return err
		}
		if seen[n] {
			return fmt.Errorf("node %s listed twice", n)
		}
		seen[n] = true
	}
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	var errs []string
	for _, d := range devs {
		hh := h
		rand.Read(hh.UUID[:])
		b := AlignedBuffer(int(h.Size()))
		hh.Encode(b[:h.SectorSize])
		for i, n := range nodes {
			off := h.SlotOffset(i)
			Slot{State: StateAllocated, Name: n}.Encode(b[off : off+int64(h.SectorSize)])
		}
		if _, err := d.IO.WriteAt(b, 0); err != nil {
			errs = append(errs, fmt.Sprintf("%s: writing %d bytes: %v", d.Name, len(b), err))
			continue
		}
		// Read back: a device that drops writes must not pass for a disk.
		rb := AlignedBuffer(len(b))
		if _, err := d.IO.ReadAt(rb, 0); err != nil {
			errs = append(errs, fmt.Sprintf("%s: reading back: %v", d.Name, err))
			continue
		}
		if _, err := DecodeHeader(rb[:h.SectorSize]); err != nil {
			errs = append(errs, fmt.Sprintf("%s: read back: %v", d.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// ReadHeader reads one disk's header.
func ReadHeader(d *Device) (Header, error) {
	b := AlignedBuffer(4096)
	if _, err := d.IO.ReadAt(b, 0); err != nil {
		return Header{}, fmt.Errorf("%s: reading header: %w", d.Name, err)
	}
	h, err := DecodeHeader(b)
	if err != nil {
		return h, fmt.Errorf("%s: %w", d.Name, err)
	}
	return h, nil
}

// ReadHeaders reads every disk's header and checks that a majority is
// readable and that they belong together. It returns the common header and
// the per-disk errors (nil entries for good disks).
func ReadHeaders(devs []*Device) (Header, []error, error) {
	var ref *Header
	errs := make([]error, len(devs))
	good := 0
	for i, d := range devs {
		h, err := ReadHeader(d)
		if err != nil {
			errs[i] = err
			continue
		}
		if ref == nil {
			ref = &h
		} else if why := ref.Compatible(h); why != "" {
			errs[i] = fmt.Errorf("%s: not the same quorum disk set as %s: %s", d.Name, devs[0].Name, why)
			continue
		}
		d.hdr = &h
		good++
	}
	if ref == nil || 2*good <= len(devs) {
		var msgs []string
		for _, e := range errs {
			if e != nil {
				msgs = append(msgs, e.Error())
			}
		}
		return Header{}, errs, fmt.Errorf("quorum disk: %d of %d disks readable, need %d: %s", good, len(devs), len(devs)/2+1, strings.Join(msgs, "; "))
	}
	return *ref, errs, nil
}

// SlotCopy is one slot as read from one disk.
type SlotCopy struct {
	Index   int
	Slot    *Slot // nil: empty
	Mailbox Mailbox
	Err     error
}

// ReadSlots reads every slot and mailbox of one disk (for list/dump).
func ReadSlots(d *Device, h Header) ([]SlotCopy, error) {
	b := AlignedBuffer(2 * h.Slots * h.SectorSize)
	if _, err := d.IO.ReadAt(b, h.SlotOffset(0)); err != nil {
		return nil, fmt.Errorf("%s: reading slots: %w", d.Name, err)
	}
	ss := h.SectorSize
	out := make([]SlotCopy, h.Slots)
	for i := range out {
		out[i].Index = i
		s, err := DecodeSlot(b[2*i*ss : (2*i+1)*ss])
		switch {
		case err == nil:
			out[i].Slot = &s
		case err != ErrEmpty:
			out[i].Err = err
		}
		m, err := DecodeMailbox(b[(2*i+1)*ss : (2*i+2)*ss])
		if err != nil && out[i].Err == nil {
			out[i].Err = err
		}
		out[i].Mailbox = m
	}
	return out, nil
}

// FindSlot locates node's slot: the lowest index holding its name on a
// majority-readable set of disks.
func FindSlot(devs []*Device, h Header, node string) (int, error) {
	found := -1
	for _, d := range devs {
		if d.hdr == nil {
			continue
		}
		slots, err := ReadSlots(d, h)
		if err != nil {
			continue
		}
		for _, s := range slots {
			if s.Slot != nil && s.Slot.Name == node && (found < 0 || s.Index < found) {
				found = s.Index
			}
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("node %s has no slot on the quorum disk (it never ran on it, and palisade disk create did not list it)", node)
	}
	return found, nil
}

// Delivery is the outcome of writing a mailbox message.
type Delivery struct {
	Header   Header
	Slot     int
	Nonce    uint64
	Verified int // disks where the message was read back intact
	Disks    int
	Errors   []string
}

// Deliver writes m into its target's mailbox on every disk and reads it
// back. It succeeds only when a majority of the disks hold it: then any
// node that reaches a majority of its disks will read it. Headers must
// have been read (ReadHeaders).
func Deliver(devs []*Device, h Header, m Mailbox) (Delivery, error) {
	res := Delivery{Header: h, Disks: len(devs), Nonce: m.Nonce}
	if m.Type != MsgClear && m.Nonce == 0 {
		return res, fmt.Errorf("message without a nonce")
	}
	slot, err := FindSlot(devs, h, m.Target)
	if err != nil {
		return res, err
	}
	res.Slot = slot
	b := AlignedBuffer(h.SectorSize)
	m.Encode(b)
	rb := AlignedBuffer(h.SectorSize)
	for _, d := range devs {
		if d.hdr == nil {
			res.Errors = append(res.Errors, d.Name+": header unreadable")
			continue
		}
		if _, err := d.IO.WriteAt(b, h.MailboxOffset(slot)); err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("%s: writing: %v", d.Name, err))
			continue
		}
		if _, err := d.IO.ReadAt(rb, h.MailboxOffset(slot)); err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("%s: reading back: %v", d.Name, err))
			continue
		}
		if string(rb) != string(b) {
			res.Errors = append(res.Errors, d.Name+": read back differs from what was written")
			continue
		}
		res.Verified++
	}
	if 2*res.Verified <= len(devs) {
		return res, fmt.Errorf("%s message for %s verified on %d of %d disks (need %d): %s", m.Type, m.Target, res.Verified, len(devs), len(devs)/2+1, strings.Join(res.Errors, "; "))
	}
	return res, nil
}

// Acknowledged reports whether the target's slot shows it handled nonce
// (on any readable disk).
func Acknowledged(devs []*Device, h Header, slot int, nonce uint64) bool {
	b := AlignedBuffer(h.SectorSize)
	for _, d := range devs {
		if d.hdr == nil {
			continue
		}
		if _, err := d.IO.ReadAt(b, h.SlotOffset(slot)); err != nil {
			continue
		}
		if s, err := DecodeSlot(b); err == nil && s.Handled == nonce {
			return true
		}
	}
	return false
}
