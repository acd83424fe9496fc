package failover

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"palisade/hw-tests/lab"
)

// relay forwards UDP datagrams from a socket in a lab namespace to an
// upstream address in the root namespace (an ipmi_sim on loopback), one
// upstream socket per client so replies find their way back.
type relay struct {
	ns       string
	listen   netip.AddrPort
	upText   string
	ln       *net.UDPConn
	upstream *net.UDPAddr
	mu       sync.Mutex
	conns    map[string]*net.UDPConn
	done     chan struct{}
}

func startRelay(ns string, listen netip.AddrPort, upstream string) (*relay, error) {
	up, err := net.ResolveUDPAddr("udp4", upstream)
	if err != nil {
		return nil, fmt.Errorf("relay to %s: %w", upstream, err)
	}
	r := &relay{ns: ns, listen: listen, upText: upstream, upstream: up, conns: map[string]*net.UDPConn{}, done: make(chan struct{})}
	err = lab.InNetns(ns, func() error {
		var err error
		r.ln, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(listen))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("relay %s in %s: %w", listen, ns, err)
	}
	go r.serve()
	return r, nil
}

func (r *relay) serve() {
	buf := make([]byte, 64*1024)
	for {
		n, from, err := r.ln.ReadFromUDP(buf)
		if err != nil {
			return
		}
		c, err := r.conn(from)
		if err != nil {
			continue
		}
		_, _ = c.Write(buf[:n])
	}
}

func (r *relay) conn(client *net.UDPAddr) (*net.UDPConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.conns[client.String()]; c != nil {
		return c, nil
	}
	c, err := net.DialUDP("udp4", nil, r.upstream)
	if err != nil {
		return nil, err
	}
	r.conns[client.String()] = c
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			_, _ = r.ln.WriteToUDP(buf[:n], client)
		}
	}()
	return c, nil
}

func (r *relay) Close() {
	r.ln.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
}
