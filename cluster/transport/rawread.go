package transport

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"
)

// reader receives one link's datagrams with recvfrom issued as a raw
// system call from inside RawConn.Read (the socket is non-blocking, so the
// call never blocks; RawConn.Read parks the goroutine in the poller when
// nothing is queued).
//
// Why not UDPConn.ReadFrom: the net package enters every system call
// through the scheduler (entersyscall), and the first system call after
// the process went idle wakes the runtime's monitor thread, which then
// spins for a while in 20µs naps. A node of a 16-node mesh receives a
// datagram every 3ms, each arriving to an idle process: those wake-ups
// were a third of its CPU time (perf, bench-mesh). A raw recvfrom that
// cannot block tells the scheduler nothing and wakes nobody.
type reader struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool // r.recv, bound once
	buf  []byte
	n    int
	from netip.AddrPort
	err  error
}

func newReader(c *net.UDPConn) (*reader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	r := &reader{rc: rc}
	r.fn = r.recv
	return r, nil
}

// ReadFrom reads one datagram into buf (truncated to len(buf)), as
// UDPConn.ReadFromUDPAddrPort does; after Close it fails with an error
// matching net.ErrClosed.
func (r *reader) ReadFrom(buf []byte) (int, netip.AddrPort, error) {
	r.buf = buf
	if err := r.rc.Read(r.fn); err != nil {
		return 0, netip.AddrPort{}, err
	}
	return r.n, r.from, r.err
}

// recv is RawConn.Read's callback: false means "not ready, wait".
func (r *reader) recv(fd uintptr) bool {
	var sa syscall.RawSockaddrAny
	salen := uint32(syscall.SizeofSockaddrAny)
	for {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&r.buf[0])), uintptr(len(r.buf)), 0,
			uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
		switch errno {
		case 0:
			r.n, r.from, r.err = int(n), sockaddrPort(&sa), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			r.n, r.from, r.err = 0, netip.AddrPort{}, fmt.Errorf("recvfrom: %w", errno)
		}
		return true
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
