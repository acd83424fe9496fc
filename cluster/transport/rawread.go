package transport

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// reader receives one link's datagrams with recvmmsg issued as a raw
// system call from inside RawConn.Read (the socket is non-blocking, so the
// call never blocks; RawConn.Read parks the goroutine in the poller when
// nothing is queued).
//
// Why not UDPConn.ReadFrom: the net package enters every system call
// through the scheduler (entersyscall), and the first system call after
// the process went idle wakes the runtime's monitor thread, which then
// spins for a while in 20µs naps. A node of a 16-node mesh receives a
// datagram every 3ms, each arriving to an idle process: those wake-ups
// were a third of its CPU time (perf, bench-mesh). A raw system call that
// cannot block tells the scheduler nothing and wakes nobody.
//
// Why recvmmsg: the heartbeats of a round arrive together (see
// node.Options.WallClock), and one call takes all that are queued. A call
// that returns fewer than it had room for has emptied the queue, so the
// reader then waits for the poller without the extra call that would
// only have said EAGAIN: the poller is edge-triggered and reports every
// datagram queued after that call. That holds only within one
// RawConn.Read (each Read starts by clearing what the poller reported
// before it), which is why Each handles the datagrams inside the
// callback instead of returning them one Read at a time.
type reader struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool // r.recv, bound once
	bufs  [][]byte
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrAny
	msgs  []mmsghdr

	handle func(pkt []byte, from netip.AddrPort) // Each's fn
	calls  int                                   // recvmmsg calls made (tests)
	err    error
}

// readBatch is how many datagrams one call takes at most: a round of
// heartbeats from a few peers, without holding many maximum-size buffers
// (untouched pages of a buffer cost no memory).
const readBatch = 8

func newReader(c *net.UDPConn, size int) (*reader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	r := &reader{rc: rc, bufs: make([][]byte, readBatch), iovs: make([]syscall.Iovec, readBatch),
		names: make([]syscall.RawSockaddrAny, readBatch), msgs: make([]mmsghdr, readBatch)}
	for i := range r.msgs {
		r.bufs[i] = make([]byte, size)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
		r.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		r.msgs[i].hdr.Iov = &r.iovs[i]
		r.msgs[i].hdr.Iovlen = 1
	}
	r.fn = r.recv
	return r, nil
}

// Each reads datagrams (each truncated to the reader's buffer size) and
// calls fn with every one and its source, in order; pkt is valid only
// during the call. It returns when the socket reports an error (call it
// again to go on) or is closed (an error matching net.ErrClosed).
func (r *reader) Each(fn func(pkt []byte, from netip.AddrPort)) error {
	r.handle, r.err = fn, nil
	if err := r.rc.Read(r.fn); err != nil {
		return err
	}
	return r.err
}

// recv is RawConn.Read's callback: false means "wait for the poller".
func (r *reader) recv(fd uintptr) bool {
	for {
		for i := range r.msgs {
			r.msgs[i].hdr.Namelen = syscall.SizeofSockaddrAny
			r.msgs[i].hdr.Flags = 0
		}
		r.calls++
		n, _, errno := syscall.RawSyscall6(unix.SYS_RECVMMSG, fd,
			uintptr(unsafe.Pointer(&r.msgs[0])), uintptr(len(r.msgs)), 0, 0, 0)
		switch errno {
		case 0:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			r.err = fmt.Errorf("recvmmsg: %w", errno)
			return true
		}
		for i := range int(n) {
			r.handle(r.bufs[i][:r.msgs[i].len], sockaddrPort(&r.names[i]))
		}
		if int(n) < len(r.msgs) {
			return false // emptied the queue
		}
	}
}

// sockaddrPort converts a received source address; the zone of a scoped
// IPv6 address is the interface index (it only shows in logs).
func sockaddrPort(sa *syscall.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case syscall.AF_INET:
		p := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), netPort(p.Port))
	case syscall.AF_INET6:
		p := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		a := netip.AddrFrom16(p.Addr)
		if p.Scope_id != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(p.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, netPort(p.Port))
	}
	return netip.AddrPort{}
}

// netPort reads a port stored in network byte order.
func netPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
