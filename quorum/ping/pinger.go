package ping

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// payloadMagic marks our echo requests, so replies to other programs'
// pings (a raw socket sees them all) are ignored.
const payloadMagic = "palisade-ping"

// Pinger sends the echo requests and feeds the replies to a Tracker.
type Pinger struct {
	t     *Tracker
	log   *slog.Logger
	start time.Time
	id    int

	mu      sync.Mutex
	conns   map[int]*icmp.PacketConn // 4 or 6
	raw     map[int]bool
	seq     int
	last    Status
	changes chan struct{}
}

// NewPinger opens the ICMP sockets now, in the caller's network
// namespace: a raw socket when allowed (root), else an unprivileged ICMP
// datagram socket (net.ipv4.ping_group_range).
func NewPinger(cfg Config, log *slog.Logger) (*Pinger, error) {
	t, err := NewTracker(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Pinger{t: t, log: log.With("component", "ping"), start: time.Now(), id: rand.IntN(0xffff) + 1,
		conns: map[int]*icmp.PacketConn{}, raw: map[int]bool{}, changes: make(chan struct{}, 1)}
	need := map[int]bool{}
	for _, a := range t.Addresses() {
		if a.Is4() {
			need[4] = true
		} else {
			need[6] = true
		}
	}
	for fam := range need {
		c, raw, err := listen(fam)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.conns[fam], p.raw[fam] = c, raw
	}
	p.last = t.Status(0)
	return p, nil
}

func listen(fam int) (*icmp.PacketConn, bool, error) {
	rawNet, dgramNet, addr := "ip4:icmp", "udp4", "0.0.0.0"
	if fam == 6 {
		rawNet, dgramNet, addr = "ip6:ipv6-icmp", "udp6", "::"
	}
	c, rawErr := icmp.ListenPacket(rawNet, addr)
	if rawErr == nil {
		return c, true, nil
	}
	c, err := icmp.ListenPacket(dgramNet, addr)
	if err == nil {
		return c, false, nil
	}
	return nil, false, fmt.Errorf("ping: no ICMP socket for IPv%d: raw: %v; unprivileged: %v (run as root, or widen net.ipv4.ping_group_range)", fam, rawErr, err)
}

// Close closes the sockets.
func (p *Pinger) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, c := range p.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Status is the current verdict.
func (p *Pinger) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.t.Status(time.Since(p.start))
}

// Changes fires (coalesced) when a group goes up or down.
func (p *Pinger) Changes() <-chan struct{} { return p.changes }

// Run pings until ctx ends, then closes the sockets.
func (p *Pinger) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for fam, c := range p.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.receive(fam, c)
		}()
	}
	t := time.NewTicker(p.t.cfg.Interval)
	defer t.Stop()
	p.send()
	for {
		select {
		case <-ctx.Done():
			p.Close()
			wg.Wait()
			return nil
		case <-t.C:
			p.send()
			p.evaluate()
		}
	}
}

func (p *Pinger) evaluate() {
	p.mu.Lock()
	st := p.t.Status(time.Since(p.start))
	changed := st.Score != p.last.Score
	for i := range st.Groups {
		if i < len(p.last.Groups) && st.Groups[i].Up != p.last.Groups[i].Up {
			changed = true
			p.log.Info("ping group "+map[bool]string{true: "up", false: "down"}[st.Groups[i].Up], "group", st.Groups[i].Name, "score", st.Score)
		}
	}
	p.last = st
	p.mu.Unlock()
	if changed {
		select {
		case p.changes <- struct{}{}:
		default:
		}
	}
}

func (p *Pinger) send() {
	p.mu.Lock()
	p.seq = (p.seq + 1) & 0xffff
	seq := p.seq
	p.mu.Unlock()
	data := make([]byte, len(payloadMagic)+8)
	copy(data, payloadMagic)
	binary.BigEndian.PutUint64(data[len(payloadMagic):], uint64(time.Since(p.start)))
	for _, a := range p.t.Addresses() {
		fam, typ := 4, icmp.Type(ipv4.ICMPTypeEcho)
		if !a.Is4() {
			fam, typ = 6, ipv6.ICMPTypeEchoRequest
		}
		m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: p.id, Seq: seq, Data: data}}
		b, err := m.Marshal(nil)
		if err != nil {
			continue
		}
		var dst net.Addr = &net.IPAddr{IP: a.AsSlice()}
		if !p.raw[fam] {
			dst = &net.UDPAddr{IP: a.AsSlice()}
		}
		if _, err := p.conns[fam].WriteTo(b, dst); err != nil {
			p.log.Debug("echo request failed", "addr", a.String(), "err", err)
		}
	}
}

func (p *Pinger) receive(fam int, c *icmp.PacketConn) {
	proto := 1
	if fam == 6 {
		proto = 58
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		if m.Type != ipv4.ICMPTypeEchoReply && m.Type != ipv6.ICMPTypeEchoReply {
			continue
		}
		echo, ok := m.Body.(*icmp.Echo)
		if !ok || len(echo.Data) < len(payloadMagic) || string(echo.Data[:len(payloadMagic)]) != payloadMagic {
			continue
		}
		// Datagram sockets rewrite the id (the kernel owns it); raw ones
		// see every reply on the host, so they check it.
		if p.raw[fam] && echo.ID != p.id {
			continue
		}
		var ip net.IP
		switch a := from.(type) {
		case *net.IPAddr:
			ip = a.IP
		case *net.UDPAddr:
			ip = a.IP
		}
		addr, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		p.mu.Lock()
		p.t.Reply(addr.Unmap(), time.Since(p.start))
		p.mu.Unlock()
	}
}
