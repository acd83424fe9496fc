package reliable_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"palisade/cluster/auth"
	"palisade/cluster/reliable"
	"palisade/cluster/transport"
)

// Two nodes on loopback: node 1 sends node 2 a control message over a
// transport with one unicast link, through a reliable.Conn on each side.
func Example() {
	keys, _ := auth.Parse("example", []byte("key 1 hex:00112233445566778899aabbccddeeff\nactive 1\n"))
	quiet := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := func(n uint32) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 33, byte(n)}) }
	conns := map[uint32]*reliable.Conn{}
	for _, self := range []uint32{1, 2} {
		link := transport.Link{Name: "ring0", Kind: transport.Unicast, Local: addr(self), Port: 16940, Peers: []transport.Peer{
			{Node: 1, Addr: netip.AddrPortFrom(addr(1), 0)},
			{Node: 2, Addr: netip.AddrPortFrom(addr(2), 0)},
		}}
		tr, err := transport.New(transport.Config{Cluster: "example", Node: self, Generation: 1, Nodes: []uint32{1, 2},
			Keys: keys, Links: []transport.Link{link}, Logger: quiet})
		if err != nil {
			panic(err)
		}
		if err := tr.Start(); err != nil {
			panic(err)
		}
		defer tr.Close()
		c, _ := reliable.NewConn(tr, reliable.Config{Self: self, Generation: 1}, reliable.DefaultTick, quiet)
		go c.Run(ctx)
		go func() {
			for m := range tr.Messages() {
				c.Handle(m) // heartbeats would also go to membership
			}
		}()
		conns[self] = c
	}
	if err := conns[1].Send(2, []byte("fence node 3")); err != nil {
		panic(err)
	}
	d := <-conns[2].Deliveries()
	fmt.Printf("node 2 got %q from node %d\n", d.Payload, d.From)
	// Output: node 2 got "fence node 3" from node 1
}
