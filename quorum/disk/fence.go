package disk

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"palisade/fence"
)

// FenceDevice is the quorum disk as a fence device (fence.Device): it
// fences one node by writing a poison pill into its mailbox. SetPower(off)
// writes the pill on every disk and reads it back (a majority must hold
// it); Status reports OFF only once msgwait has passed since then, with
// the pill still in the mailbox or handled by its target. It never reports
// OFF for a pill it did not write itself.
type FenceDevice struct {
	devs   []*Device
	disks  []*Disk
	hdr    Header
	target string
	sender string
	pill   MessageType
	// now is the clock (time.Now outside tests).
	now     func() time.Time
	written time.Time
	nonce   uint64
	slot    int
}

// OpenFenceDevice opens the disks for one fence request against target.
// pill is MsgReset (reboot) or MsgOff.
func OpenFenceDevice(paths []string, target, sender string, pill MessageType) (*FenceDevice, error) {
	if !pill.IsPill() {
		return nil, fmt.Errorf("%w: quorum disk fencing sends reset or off, not %s", fence.ErrConfig, pill)
	}
	probe, probeDisks := OpenDevices(paths, 0)
	hdr, _, err := ReadHeaders(probe)
	for _, d := range probeDisks {
		d.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", fence.ErrUnreachable, err)
	}
	devs, disks := OpenDevices(paths, hdr.Timeouts.IO)
	if _, _, err := ReadHeaders(devs); err != nil {
		for _, d := range disks {
			d.Close()
		}
		return nil, fmt.Errorf("%w: %w", fence.ErrUnreachable, err)
	}
	return &FenceDevice{devs: devs, disks: disks, hdr: hdr, target: target, sender: sender, pill: pill, now: time.Now, slot: -1}, nil
}

// Header is the disks' header (msgwait).
func (d *FenceDevice) Header() Header { return d.hdr }

// Status: OFF once msgwait has passed since our pill was verified, ON
// before (the node is not proven dead), an error if our pill vanished.
func (d *FenceDevice) Status(ctx context.Context, plug string) (fence.PowerState, error) {
	if d.written.IsZero() {
		if _, err := FindSlot(d.devs, d.hdr, d.target); err != nil {
			return fence.PowerUnknown, err
		}
		return fence.PowerOn, nil
	}
	if d.now().Sub(d.written) < d.hdr.Timeouts.MsgWait {
		return fence.PowerOn, nil
	}
	// msgwait has passed: the pill must still be there (or have been
	// handled by the target). An operator's "clear" before the target
	// read it would mean the target may be alive.
	if d.pillStands() {
		return fence.PowerOff, nil
	}
	return fence.PowerUnknown, fmt.Errorf("the %s pill for %s is no longer in its mailbox and the node never handled it (cleared or overwritten before it was read?)", d.pill, d.target)
}

func (d *FenceDevice) pillStands() bool {
	if Acknowledged(d.devs, d.hdr, d.slot, d.nonce) {
		return true
	}
	b := AlignedBuffer(d.hdr.SectorSize)
	n := 0
	for _, dev := range d.devs {
		if dev.hdr == nil {
			continue
		}
		if _, err := dev.IO.ReadAt(b, d.hdr.MailboxOffset(d.slot)); err != nil {
			continue
		}
		if m, err := DecodeMailbox(b); err == nil && m.Type.IsPill() && m.Target == d.target {
			n++ // ours, or another pill for the same node: either kills it
		}
	}
	return 2*n > len(d.devs)
}

// SetPower(off) writes the pill; on is refused (a node reset by a pill
// boots by itself; one powered off needs its BMC or a person).
func (d *FenceDevice) SetPower(ctx context.Context, plug string, on bool) error {
	if on {
		return fmt.Errorf("%w: a poison pill cannot power a node on", fence.ErrUnsupported)
	}
	var nb [8]byte
	rand.Read(nb[:])
	nonce := binary.LittleEndian.Uint64(nb[:]) | 1
	res, err := Deliver(d.devs, d.hdr, Mailbox{Type: d.pill, Nonce: nonce, Sender: d.sender, Target: d.target})
	if err != nil {
		return err
	}
	d.written, d.nonce, d.slot = d.now(), nonce, res.Slot
	return nil
}

// List shows the slots (fence-agents' list action).
func (d *FenceDevice) List(ctx context.Context) ([]fence.Plug, error) {
	for _, dev := range d.devs {
		if dev.hdr == nil {
			continue
		}
		slots, err := ReadSlots(dev, d.hdr)
		if err != nil {
			continue
		}
		var out []fence.Plug
		for _, s := range slots {
			if s.Slot != nil {
				out = append(out, fence.Plug{ID: s.Slot.Name, Alias: strconv.Itoa(s.Index), State: fence.PowerUnknown})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: no disk readable", fence.ErrUnreachable)
}

// Monitor checks that a majority of the disks is readable.
func (d *FenceDevice) Monitor(ctx context.Context) error {
	_, _, err := ReadHeaders(d.devs)
	return err
}

// Close closes the disks.
func (d *FenceDevice) Close() error {
	var errs []error
	for _, k := range d.disks {
		errs = append(errs, k.Close())
	}
	return errors.Join(errs...)
}

// FenceAgent is the quorum disk as a device of a fencing topology (it
// satisfies fence/topology.Agent: Do(ctx, action) fence.Result). Its
// parameters (topology device params):
//
//	devices        comma-separated disk paths (1 or 3), required
//	plug           the node to fence (its slot name), required
//	delay          seconds to wait before fencing (fence races), default 0
//	power_timeout  seconds to wait for msgwait to pass, default PillTimeout
//
// off sends an "off" pill, reboot a "reset" pill (the node reboots by
// itself; the fence counts as OFF verified once msgwait has passed).
type FenceAgent struct {
	Paths        []string
	Target       string
	Sender       string
	Delay        time.Duration
	PowerTimeout time.Duration
}

// NewFenceAgent builds an agent from topology parameters; sender names
// this node in the pills it writes.
func NewFenceAgent(params map[string]string, sender string) (*FenceAgent, error) {
	a := &FenceAgent{Sender: sender}
	for k, v := range params {
		switch k {
		case "devices":
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					a.Paths = append(a.Paths, p)
				}
			}
		case "plug", "port":
			a.Target = v
		case "delay", "power_timeout":
			sec, err := strconv.ParseFloat(v, 64)
			if err != nil || sec < 0 {
				return nil, fmt.Errorf("%w: quorum disk device: %s %q: want seconds", fence.ErrConfig, k, v)
			}
			d := time.Duration(sec * float64(time.Second))
			if k == "delay" {
				a.Delay = d
			} else {
				a.PowerTimeout = d
			}
		default:
			return nil, fmt.Errorf("%w: quorum disk device: unknown parameter %q (valid: devices, plug, delay, power_timeout)", fence.ErrConfig, k)
		}
	}
	if len(a.Paths) != 1 && len(a.Paths) != 3 {
		return nil, fmt.Errorf("%w: quorum disk device: devices lists %d disks, want 1 or 3", fence.ErrConfig, len(a.Paths))
	}
	if a.Target == "" {
		return nil, fmt.Errorf("%w: quorum disk device: plug (the node to fence) is required", fence.ErrConfig)
	}
	if err := checkName("plug", a.Target, false); err != nil {
		return nil, fmt.Errorf("%w: quorum disk device: %w", fence.ErrConfig, err)
	}
	return a, nil
}

// PillTimeout is how long a pill fence waits for its target to count as
// off by default: msgwait, the loops and I/O that writing and reading
// back the pill take, and slack for the status polls of a loaded host (a
// poll that comes a little late must not fail a fence that worked; the
// slack delays nothing, the fence counts as soon as msgwait has passed).
func PillTimeout(t Timeouts) time.Duration { return t.MsgWait + 2*t.Loop + t.IO + 2*time.Second }

// Do runs one fence action through fence.Execute (so delays, the
// verification loop and the Result are the fencing core's).
func (a *FenceAgent) Do(ctx context.Context, action fence.Action) fence.Result {
	pill := MsgOff
	req := fence.Request{Action: action, Plug: a.Target, Method: fence.MethodOnOff, Delay: a.Delay, StatusSleep: 250 * time.Millisecond}
	switch action {
	case fence.ActionReboot:
		// The node reboots by itself after a reset pill: for the fencing
		// core this is "off, verified".
		pill, req.Action = MsgReset, fence.ActionOff
	case fence.ActionOff, fence.ActionStatus, fence.ActionMonitor, fence.ActionList, fence.ActionListStatus:
	default:
		return fence.Result{Action: action, Plug: a.Target, Err: fmt.Errorf("%w: %s through the quorum disk", fence.ErrUnsupported, action)}
	}
	// msgwait comes from the header: read it before the request starts,
	// because the request's power_timeout must exceed it.
	probe, disks := OpenDevices(a.Paths, 0)
	h, _, err := ReadHeaders(probe)
	for _, d := range disks {
		d.Close()
	}
	if err != nil {
		return fence.Result{Action: action, Plug: a.Target, Err: fmt.Errorf("%w: %w", fence.ErrUnreachable, err)}
	}
	t := h.Timeouts
	if req.PowerTimeout = a.PowerTimeout; req.PowerTimeout == 0 {
		req.PowerTimeout = PillTimeout(t)
	}
	if req.PowerTimeout <= t.MsgWait {
		return fence.Result{Action: action, Plug: a.Target, Err: fmt.Errorf("%w: quorum disk device: power_timeout %s must exceed msgwait %s", fence.ErrConfig, req.PowerTimeout, t.MsgWait)}
	}
	open := func(ctx context.Context) (fence.Device, error) {
		return OpenFenceDevice(a.Paths, a.Target, a.Sender, pill)
	}
	res := fence.Execute(ctx, open, req)
	res.Action = action
	return res
}
