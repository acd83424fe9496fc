// Package transport moves signed cluster packets over UDP links and
// filters what comes back.
//
// A node has one or more links (Link); each is unicast to listed peer
// addresses, multicast (group, TTL, loop, interface) or broadcast on an
// interface, over IPv4 or IPv6, on port 694 (Heartbeat's) by default.
// Every outgoing packet is sent on every link, so losing one link loses
// nothing while another is up.
//
// The receive path, per packet: decode and verify (package wire), then
// known sender, then generation not older than the newest seen from that
// node, then the sequence number against a sliding replay window per
// sender and generation. Rejected packets are dropped and counted by
// DropReason. A packet whose sequence number already arrived on another
// link is a normal duplicate: counted as duplicate, not delivered again,
// but it still refreshes that link's last-heard time. The same sequence
// number seen twice on one link is a replay, and so is a packet signed
// for another link (each copy carries its link index under the MAC), so
// an attacker can not keep a cut link looking alive with captures from
// another. Links are therefore identified by their index, which must be
// the same on every node (the cluster configuration's link order).
//
// Use:
//
//	t, err := transport.New(transport.Config{
//		Cluster: "prod", Node: 1, Generation: gen, Nodes: []uint32{1, 2, 3},
//		Keys: keyring, Links: links, Logger: log,
//	})
//	err = t.Start()
//	defer t.Close()
//	go func() { for m := range t.Messages() { ... } }()
//	t.SendHeartbeat()
//	t.Send(wire.TypeReliableData, 2, frame) // to node 2 only; 0 = all
//	t.LastHeard()  // per peer, per link: membership input
//	t.Counters()   // drop counters for `palisade status`
//
// Heartbeats mostly repeat themselves. With Config.CoalesceHeartbeats set,
// a heartbeat that carries the same payload as the last one queued from
// its sender (same generation, sender heard within the window) only
// refreshes LastHeard and is counted as coalesced: the consumer, which
// polls LastHeard before acting on the clock, then wakes for what changed
// instead of once per peer per link per keepalive.
//
// System calls per packet are kept down because at a 100 ms keepalive a
// node of a 16-node mesh sends 300 and receives 300 packets a second: a
// packet to all peers of a unicast link goes out in one sendmmsg, the
// receive loops take every queued packet with one recvmmsg, and both are
// issued raw from inside RawConn (see reader and batchWriter), which
// spares the Go runtime's monitor thread a wake-up per system call.
//
// Nothing received from the network blocks the receive loops: if the
// consumer of Messages() falls behind, messages are dropped and counted
// as queue_full (heartbeats are periodic and reliable retransmits).
//
// Inside network namespaces, each link binds to its Interface with
// SO_BINDTODEVICE (needs CAP_NET_RAW, which the daemon has as root) and/or
// to its Local address, so two links in one namespace never see each
// other's traffic.
package transport
