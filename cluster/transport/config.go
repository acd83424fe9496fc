package transport

import (
	"log/slog"
	"net/netip"
	"time"

	"palisade/cluster/auth"
)

// DefaultPort is Heartbeat's UDP port, kept for firewall compatibility.
const DefaultPort = 694

// Kind is how a link reaches its peers.
type Kind int

const (
	Unicast Kind = iota + 1
	Multicast
	Broadcast
)

func (k Kind) String() string {
	switch k {
	case Unicast:
		return "ucast"
	case Multicast:
		return "mcast"
	case Broadcast:
		return "bcast"
	}
	return "unknown"
}

// Peer is one node's address on a unicast link.
type Peer struct {
	Node uint32
	// Addr is the peer's address; port 0 means the link's Port.
	Addr netip.AddrPort
}

// Link is one network path to the other nodes.
type Link struct {
	// Name shows in logs and status (e.g. "ring0"); defaults to "link<i>".
	Name string
	Kind Kind
	// Interface, if set, pins the socket to that device (SO_BINDTODEVICE)
	// and is the multicast/broadcast interface. Required for Multicast
	// and Broadcast.
	Interface string
	// Local, if valid, is the address to bind; otherwise the wildcard of
	// the link's address family. Unicast links should set it (or
	// Interface) when several links share a host.
	Local netip.Addr
	// Port to bind and to send to; 0 means DefaultPort.
	Port uint16
	// Peers are the unicast destinations (Unicast only). Sending "to all"
	// goes to every listed peer; sending to one node to its entries.
	Peers []Peer
	// Group is the multicast group (Multicast only).
	Group netip.Addr
	// TTL for multicast (default 1: stay on the segment).
	TTL int
	// Loop delivers our own multicast to local sockets (tests on one host).
	Loop bool
	// BroadcastAddr is where Broadcast links send; if invalid, the
	// interface's IPv4 broadcast address is used. (IPv6 has no broadcast:
	// use Multicast with ff02::1-style groups.)
	BroadcastAddr netip.Addr
}

// Config is everything New needs.
type Config struct {
	Cluster    string
	Node       uint32 // our own id
	Generation uint64 // our incarnation, increased at every start
	// Nodes are the configured node ids; packets from others are dropped
	// (unknown_node). Our own id may be listed: our own multicast echoes
	// are dropped silently (counted as self).
	Nodes  []uint32
	Keys   *auth.Keyring
	Links  []Link
	Logger *slog.Logger // nil: slog.Default()
	// QueueLen is the Messages() channel capacity (default 1024).
	QueueLen int
	// ReplayWindow is how many sequence numbers behind the newest are
	// remembered per sender (default 1024, rounded up to a multiple of 64).
	ReplayWindow int
	// CoalesceHeartbeats, if positive, keeps heartbeats that say nothing
	// new out of Messages: a heartbeat (wire.TypeHeartbeat) is queued only
	// if it is the first of its sender's generation, if its payload
	// differs from the last heartbeat queued from that sender, or if the
	// sender had not been heard on any link for CoalesceHeartbeats. The
	// others still count as signs of life in LastHeard, which the
	// consumer polls. This spares the consumer a wake-up per peer per
	// keepalive per link; 0 queues every heartbeat.
	CoalesceHeartbeats time.Duration
}
