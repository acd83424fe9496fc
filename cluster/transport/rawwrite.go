package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchWriter sends one packet to all of a link's destinations with
// sendmmsg issued as a raw system call from inside RawConn.Write, for the
// reason reader receives that way (see reader): the net package's and
// x/net's WriteBatch enter the system call through the scheduler, which
// on a process that was idle wakes the runtime's monitor thread. The
// socket is non-blocking, so the call never blocks; a full send buffer
// parks the goroutine in the poller until the socket is writable.
type batchWriter struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool // w.send, bound once
	msgs  []mmsghdr             // one per destination, all pointing at iov
	names []syscall.RawSockaddrInet6
	iov   syscall.Iovec

	off  int   // first message not yet sent
	n    int   // messages the last call sent
	werr error // the last call's error
}

// mmsghdr is Linux's struct mmsghdr; Go pads it to the alignment of
// Msghdr as C does, on 32- and 64-bit platforms alike.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
}

func newBatchWriter(c *net.UDPConn, dests []netip.AddrPort) (*batchWriter, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	// The destinations take the socket's family: an IPv6 socket sends to
	// an IPv4 peer at its 4-in-6 address, as the net package would.
	var v6 bool
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa syscall.Sockaddr
		if sa, serr = syscall.Getsockname(int(fd)); serr == nil {
			_, v6 = sa.(*syscall.SockaddrInet6)
		}
	}); err != nil || serr != nil {
		return nil, fmt.Errorf("socket address: %w", errors.Join(err, serr))
	}
	w := &batchWriter{rc: rc, msgs: make([]mmsghdr, len(dests)), names: make([]syscall.RawSockaddrInet6, len(dests))}
	for i, d := range dests {
		namelen := rawSockaddr(&w.names[i], d, v6)
		w.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
		w.msgs[i].hdr.Namelen = namelen
		w.msgs[i].hdr.Iov = &w.iov
		w.msgs[i].hdr.Iovlen = 1
	}
	w.fn = w.send
	return w, nil
}

// rawSockaddr writes d as a sockaddr_in6 (v6: for an IPv6 socket, an
// IPv4 address in its 4-in-6 form) or a sockaddr_in into sa (large enough
// for either) and returns its length.
func rawSockaddr(sa *syscall.RawSockaddrInet6, d netip.AddrPort, v6 bool) uint32 {
	a := d.Addr()
	if v6 && a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	if !v6 {
		a = a.Unmap()
	}
	if a.Is4() {
		p := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		p.Family = syscall.AF_INET
		p.Port = netPort(d.Port()) // the swap is its own inverse
		p.Addr = a.As4()
		return syscall.SizeofSockaddrInet4
	}
	sa.Family = syscall.AF_INET6
	sa.Port = netPort(d.Port())
	sa.Addr = a.As16()
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.Scope_id = uint32(ifi.Index)
		} else if i, err := strconv.ParseUint(z, 10, 32); err == nil {
			sa.Scope_id = uint32(i)
		}
	}
	return syscall.SizeofSockaddrInet6
}

// writeBatch sends pkt to the destinations from index off on, as many as
// one sendmmsg call takes: it returns how many were sent and, when that
// is none, the error of the first (sendmmsg's own contract, which
// sendBatch relies on to skip a failing destination and go on).
func (w *batchWriter) writeBatch(pkt []byte, off int) (int, error) {
	if len(pkt) == 0 || off >= len(w.msgs) {
		return 0, nil
	}
	w.iov.Base = &pkt[0]
	w.iov.SetLen(len(pkt))
	w.off, w.n, w.werr = off, 0, nil
	if err := w.rc.Write(w.fn); err != nil {
		return 0, fmt.Errorf("sendmmsg: %w", err) // net.ErrClosed after Close
	}
	return w.n, w.werr
}

// send is RawConn.Write's callback: false means "not writable, wait".
func (w *batchWriter) send(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall6(unix.SYS_SENDMMSG, fd,
			uintptr(unsafe.Pointer(&w.msgs[w.off])), uintptr(len(w.msgs)-w.off), 0, 0, 0)
		switch errno {
		case 0:
			w.n = int(n)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			w.werr = fmt.Errorf("sendmmsg: %w", errno)
		}
		return true
	}
}
