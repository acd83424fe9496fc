// Package vip is Palisade's built-in virtual IP agent, class "palisade",
// type "vip". Start adds the address with netlink and announces it with
// gratuitous ARP (a request and a reply per announcement, via
// mdlayher/arp) or, for IPv6, unsolicited neighbour advertisements (via
// mdlayher/ndp); stop removes it; monitor checks it is on the interface.
//
// Start refuses when another host already holds the address: for IPv4 it
// sends an RFC 5227 ARP probe (sender 0.0.0.0) and listens dad_timeout
// for a claim; for IPv6 it sends a neighbour solicitation for the address
// and listens dad_timeout for an advertisement, then adds the address with
// IFA_F_NODAD (the kernel's own DAD would add a second to every start). An
// interface without an IPv6 link-local address falls back to kernel DAD,
// and a "dadfailed" address is removed again. Either way the result is a
// generic error with an exit reason naming the other host's MAC.
//
// Usage:
//
//	v := vip.NewAgent(vip.Options{OnEvent: func(ev vip.Event) { timeline <- ev }})
//	reg := agent.NewRegistry(agent.Options{})
//	reg.RegisterBuiltin("vip", v)
//	in := agent.Instance{ID: "web-ip", Class: "palisade", Type: "vip",
//		Params: map[string]string{"ip": "198.18.0.50", "cidr_netmask": "24",
//			"nic": "eth0", "arp_count": "5", "arp_interval": "200", "dad_timeout": "100"}}
//	res := reg.Run(ctx, agent.Start, in)  // or v.Run directly
//	go v.Reannounce(ctx)                  // after a partition heals
//
// Parameters are documented on ParseParams. Start returns after the VIP is
// added and the first announcement is sent; the rest of the burst (Count
// announcements Interval apart, default 5 × 200 ms) and the optional
// periodic re-announcement run in the background until stop. Every step
// is logged with slog and passed to Options.OnEvent as an Event with a
// timestamp: "VIP added", "GARP sent" (one request+reply pair, Seq 1..Count),
// "NA sent", "VIP removed", "duplicate address".
//
// The agent works in the network namespace of the calling process.
// The default dad_timeout (300 ms) delays every start by that much when
// no one answers; lower it where failover time matters and the segment is
// known to answer fast (a local bridge answers in well under 10 ms).
package vip
