package reliable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"palisade/cluster/auth"
	"palisade/cluster/transport"
	"palisade/cluster/wire"
)

// lossy drops a share of outgoing frames, on top of the real network.
type lossy struct {
	tr   *transport.Transport
	mu   sync.Mutex
	rng  *rand.Rand
	loss float64
}

func (l *lossy) Send(typ wire.Type, to uint32, payload []byte) error {
	l.mu.Lock()
	drop := l.rng.Float64() < l.loss
	l.mu.Unlock()
	if drop {
		return nil
	}
	return l.tr.Send(typ, to, payload)
}

func freePort(t *testing.T) uint16 {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// TestConnOverLoopback runs two nodes over real UDP with two links, one
// of which is dead from the start for node 1 (its peer address has no
// listener), plus 20% frame loss, and sends both ways concurrently.
func TestConnOverLoopback(t *testing.T) {
	kr, err := auth.Parse("keys", []byte("key 1 hex:00112233445566778899aabbccddeeff\nactive 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := func(link int, n uint32) netip.Addr {
		return netip.AddrFrom4([4]byte{127, 0, byte(20 + link), byte(10 + n)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conns := map[uint32]*Conn{}
	for _, self := range []uint32{1, 2} {
		cfg := transport.Config{Cluster: "t", Node: self, Generation: uint64(self) * 1000, Nodes: []uint32{1, 2}, Keys: kr}
		for l := range 2 {
			lk := transport.Link{Kind: transport.Unicast, Local: addr(l, self), Port: port}
			for _, p := range []uint32{1, 2} {
				a := addr(l, p)
				if self == 1 && l == 0 {
					a = addr(5, p) // link 0 of node 1 is cut
				}
				lk.Peers = append(lk.Peers, transport.Peer{Node: p, Addr: netip.AddrPortFrom(a, 0)})
			}
			cfg.Links = append(cfg.Links, lk)
		}
		tr, err := transport.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		c, err := NewConn(&lossy{tr: tr, rng: rand.New(rand.NewPCG(uint64(self), 2)), loss: 0.2},
			Config{Self: self, Generation: cfg.Generation, RetransmitTicks: 1}, 5*time.Millisecond, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns[self] = c
		go c.Run(ctx)
		go func() {
			for m := range tr.Messages() {
				c.Handle(m)
			}
		}()
	}
	const n = 300
	var wg sync.WaitGroup
	for _, dir := range [][2]uint32{{1, 2}, {2, 1}} {
		from, to := dir[0], dir[1]
		wg.Add(2)
		go func() { // sender, retrying on back-pressure
			defer wg.Done()
			for i := 0; i < n; {
				err := conns[from].Send(to, fmt.Appendf(nil, "%d", i))
				if err == nil {
					i++
					continue
				}
				time.Sleep(time.Millisecond)
			}
		}()
		go func() { // receiver
			defer wg.Done()
			timeout := time.After(20 * time.Second) // hang guard only
			for i := range n {
				select {
				case d := <-conns[to].Deliveries():
					if d.From != from || string(d.Payload) != fmt.Sprint(i) {
						t.Errorf("%d->%d: message %d is %q from %d", from, to, i, d.Payload, d.From)
						return
					}
				case <-timeout:
					t.Errorf("%d->%d: only %d of %d delivered", from, to, i, n)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// blackhole records the frames a Conn sends and delivers none.
type blackhole struct{ frames chan wire.Type }

func (b *blackhole) Send(typ wire.Type, _ uint32, _ []byte) error {
	select {
	case b.frames <- typ:
	default:
	}
	return nil
}

// TestConnRetransmitsOnItsOwn: with no traffic coming in, the timer
// armed at the next due retransmission is what sends it, again and again
// with back-off; Forget ends it.
func TestConnRetransmitsOnItsOwn(t *testing.T) {
	bh := &blackhole{frames: make(chan wire.Type, 16)}
	c, err := NewConn(bh, Config{Self: 1, Generation: 1, RetransmitTicks: 1, MaxRetransmitTicks: 2}, time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if err := c.Send(2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(20 * time.Second) // hang guard only
	for i := range 4 {                      // the first send and three retransmissions
		select {
		case typ := <-bh.frames:
			if typ != wire.TypeReliableData {
				t.Fatalf("frame %d: %s, want data", i, typ)
			}
		case <-timeout:
			t.Fatalf("only %d frames sent", i)
		}
	}
	c.Forget(2)
	if n := c.Pending(2); n != 0 {
		t.Fatalf("pending after Forget: %d", n)
	}
	if _, err := NewConn(bh, Config{Self: 1, Generation: 1}, 0, nil); err == nil {
		t.Fatal("tick 0 accepted")
	}
}
