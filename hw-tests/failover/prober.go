package failover

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/mdlayher/arp"

	"palisade/cluster/eventlog"
	"palisade/hw-tests/lab"
)

// Reply is one ARP answer for the VIP seen by the client.
type Reply struct {
	Mono time.Duration // CLOCK_MONOTONIC when it arrived
	MAC  string
	// Solicited: an ARP reply to the client's own request (not a
	// gratuitous announcement).
	Solicited bool
}

// prober asks "who has VIP" every interval from the client namespace and
// records every answer (requests and gratuitous announcements alike).
type prober struct {
	c        *arp.Client
	vip      netip.Addr
	self     netip.Addr
	interval time.Duration
	mu       sync.Mutex
	replies  []Reply
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startProber(ns, iface string, self, vip netip.Addr, interval time.Duration) (*prober, error) {
	p := &prober{vip: vip, self: self, interval: interval, stop: make(chan struct{})}
	err := lab.InNetns(ns, func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		p.c, err = arp.Dial(ifi)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("arp prober in %s on %s: %w", ns, iface, err)
	}
	p.wg.Add(2)
	go p.send()
	go p.read()
	return p, nil
}

func (p *prober) send() {
	defer p.wg.Done()
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			_ = p.c.Request(p.vip)
		}
	}
}

func (p *prober) read() {
	defer p.wg.Done()
	for {
		_ = p.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		pkt, _, err := p.c.Read()
		select {
		case <-p.stop:
			return
		default:
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			continue
		}
		// Replies to our requests, and gratuitous ARP (requests or replies
		// whose sender is the VIP).
		if pkt.SenderIP != p.vip {
			continue
		}
		p.mu.Lock()
		p.replies = append(p.replies, Reply{Mono: eventlog.Mono(), MAC: pkt.SenderHardwareAddr.String(),
			Solicited: pkt.Operation == arp.OperationReply && pkt.TargetIP == p.self})
		p.mu.Unlock()
	}
}

// Replies returns what was seen so far.
func (p *prober) Replies() []Reply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Reply(nil), p.replies...)
}

func (p *prober) Close() {
	close(p.stop)
	p.c.Close()
	p.wg.Wait()
}
