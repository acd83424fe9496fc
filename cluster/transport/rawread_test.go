package transport

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
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
// receive loops do, and fails like UDPConn once the socket is closed.
func TestReaderOverLoopback(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := newReader(c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.WriteToUDPAddrPort([]byte("hello, world"), c.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5) // shorter than the datagram: truncated
	n, from, err := r.ReadFrom(buf)
	if err != nil || n != 5 || string(buf) != "hello" || from != s.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("ReadFrom = %d %q from %v, %v", n, buf[:n], from, err)
	}
	c.Close()
	if _, _, err := r.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("after Close: %v, want net.ErrClosed", err)
	}
}
