package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestSockaddrPort converts the source addresses recvfrom fills in.
func TestSockaddrPort(t *testing.T) {
	var v4 syscall.RawSockaddrAny
	p4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&v4))
	p4.Family = syscall.AF_INET
	p4.Addr = [4]byte{198, 18, 0, 7}
	*(*[2]byte)(unsafe.Pointer(&p4.Port)) = [2]byte{0x02, 0xb6} // 694
	if got, want := sockaddrPort(&v4), netip.MustParseAddrPort("198.18.0.7:694"); got != want {
		t.Errorf("IPv4: %v, want %v", got, want)
	}
	var v6 syscall.RawSockaddrAny
	p6 := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&v6))
	p6.Family = syscall.AF_INET6
	p6.Addr = netip.MustParseAddr("fe80::1").As16()
	p6.Scope_id = 3
	*(*[2]byte)(unsafe.Pointer(&p6.Port)) = [2]byte{0x02, 0xb6}
	if got, want := sockaddrPort(&v6), netip.MustParseAddrPort("[fe80::1%3]:694"); got != want {
		t.Errorf("IPv6: %v, want %v", got, want)
	}
	var unknown syscall.RawSockaddrAny
	if got := sockaddrPort(&unknown); got.IsValid() {
		t.Errorf("unknown family: %v", got)
	}
}

// TestReaderOverLoopback reads datagrams through the raw reader as the
// receive loops do: in order, several per system call, truncated to the
// buffer, one sent after the queue was emptied (the reader then waits for
// the poller without asking the socket again), and returns like UDPConn
// once the socket is closed.
func TestReaderOverLoopback(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := newReader(c, 8) // shorter than some datagrams: truncated
	if err != nil {
		t.Fatal(err)
	}
	s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	to, src := c.LocalAddr().(*net.UDPAddr).AddrPort(), s.LocalAddr().(*net.UDPAddr).AddrPort()
	send := func(p string) {
		t.Helper()
		if _, err := s.WriteToUDPAddrPort([]byte(p), to); err != nil {
			t.Error(err)
		}
	}
	// Queued before the reader asks, more than one call takes.
	send("hello, world")
	for i := range 2 * readBatch {
		send(fmt.Sprintf("dgram %d", i))
	}
	type dgram struct {
		p    string
		from netip.AddrPort
	}
	got := make(chan dgram, 100)
	done := make(chan error)
	go func() {
		done <- r.Each(func(pkt []byte, from netip.AddrPort) { got <- dgram{string(pkt), from} })
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case d := <-got:
			if d.p != want || d.from != src {
				t.Fatalf("got %q from %v; want %q from %v", d.p, d.from, want, src)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no datagram; want %q", want)
		}
	}
	expect("hello, w")
	for i := range 2 * readBatch {
		expect(fmt.Sprintf("dgram %d", i))
	}
	// Sent while the reader waits, after it emptied the queue: the
	// poller reports it; the reader did not ask the socket in between.
	time.Sleep(20 * time.Millisecond)
	send("later")
	expect("later")
	c.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("after Close: %v, want net.ErrClosed", err)
	}
	// 17 datagrams: 8, 8, then 1 with room to spare (emptied: no EAGAIN
	// call), then "later" alone; one call for EAGAIN at most in between.
	if r.calls > 5 {
		t.Errorf("%d recvmmsg calls for 18 datagrams, want at most 5", r.calls)
	}
}
