package config

import (
	"net/netip"

	"gopkg.in/yaml.v3"

	"palisade/cluster/membership"
)

// Defaults, from Heartbeat's ha.cf where it has one.
const (
	DefaultPath     = "/etc/palisade/cluster.yaml"
	DefaultPort     = 694
	DefaultStateDir = "/var/lib/palisade"
	DefaultSocket   = "/run/palisade/palisade.sock"
	// DefaultRunDir holds what must not survive a reboot, such as the
	// resource agents' state files (HA_RSCTMP): /run is a tmpfs, so after
	// a reboot a probe finds nothing running, as is true.
	DefaultRunDir = "/run/palisade"
)

// Link kinds.
const (
	KindUnicast   = "ucast"
	KindMulticast = "mcast"
	KindBroadcast = "bcast"
)

// Cluster is a validated configuration.
type Cluster struct {
	File      string // the file it was loaded from
	Name      string
	Nodes     []Node // sorted by ID
	Links     []Link // in file order; a link's index is its wire link number
	Timing    membership.Timing
	KeyFile   string
	StateDir  string
	RunDir    string
	Socket    string
	Quorum    *yaml.Node // raw sections for later stages; nil if absent
	Fencing   *yaml.Node
	Resources *yaml.Node
	Alerts    *yaml.Node // the alerts section (cluster/alert.Decode)
}

// Node is one cluster member.
type Node struct {
	ID        uint32
	Name      string
	Addresses map[string]netip.Addr // by link name
	// Interfaces overrides a link's interface on this node (by link
	// name): machines of one cluster need not name their NICs alike.
	Interfaces map[string]string
	Line       int
}

// Link is one heartbeat path.
type Link struct {
	Name      string
	Kind      string // KindUnicast, KindMulticast or KindBroadcast
	Interface string
	Port      uint16
	Group     netip.Addr // mcast only
	TTL       int        // mcast only
	Loop      bool       // mcast only: deliver to local sockets too
	Line      int
}

// Node returns the node with the given id.
func (c *Cluster) Node(id uint32) (Node, bool) {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// NodeIDs lists the configured node ids, ascending.
func (c *Cluster) NodeIDs() []uint32 {
	ids := make([]uint32, len(c.Nodes))
	for i, n := range c.Nodes {
		ids[i] = n.ID
	}
	return ids
}

// LinkInterface is the interface link l uses on node n: the node's own
// override, else the link's.
func (c *Cluster) LinkInterface(n Node, l Link) string {
	if ifc, ok := n.Interfaces[l.Name]; ok {
		return ifc
	}
	return l.Interface
}
