// Package model holds the scheduler's input types: the resource
// configuration (what should run, with which constraints) and the cluster
// status (what runs where, which nodes are up, which operations failed).
//
// The types decode from YAML; the `resources:` section of cluster.yaml is a
// Config. Schema (all keys optional unless noted):
//
//	options:                      # cluster options (Pacemaker crm_config names)
//	  stonith-enabled: true       # default true
//	  symmetric-cluster: true     # default true: every node allowed at score 0
//	  no-quorum-policy: stop      # stop | freeze | ignore | demote | suicide (quorum.NoQuorumPolicy)
//	  placement-strategy: default # default | utilization | balanced | minimal
//	  maintenance-mode: false
//	  stop-all-resources: false
//	  start-failure-is-fatal: true
//	  stonith-action: reboot      # reboot | off (Pacemaker's defaults: options.go)
//	rsc_defaults:                 # meta attributes every resource inherits
//	  resource-stickiness: 100
//	  migration-threshold: 3
//	  failure-timeout: 60s        # Go duration or plain seconds
//	  multiple-active: stop_start # found active on several nodes: stop_start (default:
//	                              # stop every copy, start one), stop_only, block (leave
//	                              # it alone, unmanaged), stop_unexpected (stop only the
//	                              # copies off the chosen node)
//	nodes:
//	  - name: n1                  # required
//	    attributes: {rack: a}     # for location rules and colocation node-attribute
//	    utilization: {cpu: 8}
//	    standby: false
//	    maintenance: false
//	  - {name: r1, connection: r1} # Pacemaker Remote node: up while resource r1 runs
//	resources:                    # primitives, groups and clones, in priority order
//	  - id: vip                   # primitive (the default kind)
//	    class: ocf                # ocf | lsb | heartbeat | palisade | systemd
//	    provider: heartbeat
//	    type: IPaddr2
//	    params: {ip: 198.18.0.50}
//	    meta: {resource-stickiness: 100, priority: 10, target-role: Started, multiple-active: stop_start}
//	    utilization: {cpu: 1}
//	    ops: [{name: monitor, interval: 10s, timeout: 20s, on-fail: restart, role: Promoted}]
//	  - id: web
//	    kind: group               # members are primitives, started in order
//	    members: [{id: fs, type: Filesystem}, {id: httpd, type: apache}]
//	  - id: db-clone
//	    kind: clone               # exactly one member: a primitive or a group
//	    meta: {clone-max: 2, clone-node-max: 1, promotable: true, promoted-max: 1}
//	    members: [{id: db, type: Stateful, provider: pacemaker}]
//	constraints:
//	  locations:
//	    - {id: l1, rsc: web, node: n1, score: 200}
//	    - id: l2
//	      rsc: web
//	      role: Promoted          # only for promotable clones: promotion score
//	      rules:
//	        - score: -INFINITY    # or score-attribute: some-node-attribute
//	          boolean-op: or      # and (default) | or
//	          expressions: [{attribute: "#uname", operation: eq, value: n3}]
//	  colocations:
//	    - {id: c1, rsc: web, with: db-clone, score: INFINITY, rsc-role: Started, with-role: Promoted, node-attribute: rack}
//	  orders:
//	    - {id: o1, first: db-clone, first-action: promote, then: web, then-action: start, kind: Mandatory, symmetrical: true}
//	    - {id: o2, first: db-clone, then: web, require-all: false}  # one instance of the clone suffices
//	    - {id: o3, first-any: [nfs-a, nfs-b], then: web}           # any one of them suffices
//
// Scores are integers or INFINITY/+INFINITY/-INFINITY (1,000,000).
// Status (what the scheduler observes) is a separate document, see Status.
//
// Decoding is strict: DecodeYAMLFile reads a `palisade simulate` document
// and StrictDecoder a yaml.Node; cluster/config decodes the resources
// section of cluster.yaml in place with the same walk, so lines stay the
// file's. Unknown keys and wrong types are all reported at once in the
// configuration's one error type (DecodeErrors = strict.Errors),
// "FILE:LINE: key.path: reason", with the valid keys taken from the types'
// yaml tags.
package model

import "time"

// Config is the resource configuration: the `resources:` section of
// cluster.yaml, or the configuration section of a Pacemaker CIB.
type Config struct {
	Options     Options           `yaml:"options,omitempty" json:"options,omitempty"`
	RscDefaults map[string]string `yaml:"rsc_defaults,omitempty" json:"rsc_defaults,omitempty"`
	Nodes       []Node            `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	Resources   []*Resource       `yaml:"resources,omitempty" json:"resources,omitempty"`
	Constraints Constraints       `yaml:"constraints,omitempty" json:"constraints,omitempty"`
	// NoFenceDevice: a CIB read for scheduling that has no stonith
	// resource, so Pacemaker cannot fence whatever stonith-enabled says.
	// Palisade's own configuration fences through its fence topology and
	// never sets it.
	NoFenceDevice bool `yaml:"-" json:"-"`
}

// Options are the cluster-wide scheduler options. Strings keep the
// Pacemaker spelling; empty means the Pacemaker default.
type Options struct {
	StonithEnabled      *bool  `yaml:"stonith-enabled,omitempty" json:"stonith-enabled,omitempty"`
	SymmetricCluster    *bool  `yaml:"symmetric-cluster,omitempty" json:"symmetric-cluster,omitempty"`
	NoQuorumPolicy      string `yaml:"no-quorum-policy,omitempty" json:"no-quorum-policy,omitempty"`
	PlacementStrategy   string `yaml:"placement-strategy,omitempty" json:"placement-strategy,omitempty"`
	MaintenanceMode     bool   `yaml:"maintenance-mode,omitempty" json:"maintenance-mode,omitempty"`
	StopAllResources    bool   `yaml:"stop-all-resources,omitempty" json:"stop-all-resources,omitempty"`
	StartFailureIsFatal *bool  `yaml:"start-failure-is-fatal,omitempty" json:"start-failure-is-fatal,omitempty"`
	StonithAction       string `yaml:"stonith-action,omitempty" json:"stonith-action,omitempty"`
	// NodeHealthStrategy: none (default), migrate-on-red, only-green,
	// progressive or custom; nodes' #health-* attributes (red, yellow,
	// green or a score) then add to every resource's score there.
	NodeHealthStrategy string `yaml:"node-health-strategy,omitempty" json:"node-health-strategy,omitempty"`
	NodeHealthBase     string `yaml:"node-health-base,omitempty" json:"node-health-base,omitempty"`
	NodeHealthRed      string `yaml:"node-health-red,omitempty" json:"node-health-red,omitempty"`
	NodeHealthYellow   string `yaml:"node-health-yellow,omitempty" json:"node-health-yellow,omitempty"`
	NodeHealthGreen    string `yaml:"node-health-green,omitempty" json:"node-health-green,omitempty"`
	// StopOrphanResources false leaves resources that are no longer
	// configured running where they are (default true: stop them).
	StopOrphanResources *bool `yaml:"stop-orphan-resources,omitempty" json:"stop-orphan-resources,omitempty"`
	// ShutdownLock keeps the resources of a node shut down cleanly on it
	// (stopped, not recovered elsewhere) until it rejoins or
	// ShutdownLockLimit passes.
	ShutdownLock      bool     `yaml:"shutdown-lock,omitempty" json:"shutdown-lock,omitempty"`
	ShutdownLockLimit Duration `yaml:"shutdown-lock-limit,omitempty" json:"shutdown-lock-limit,omitempty"`
}

// Node is a configured cluster node.
type Node struct {
	Name string `yaml:"name" json:"name"`
	// ID is the cluster layer's node id (rules' #id); default the name.
	ID          string            `yaml:"id,omitempty" json:"id,omitempty"`
	Attributes  map[string]string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	Utilization map[string]int    `yaml:"utilization,omitempty" json:"utilization,omitempty"`
	Standby     bool              `yaml:"standby,omitempty" json:"standby,omitempty"`
	Maintenance bool              `yaml:"maintenance,omitempty" json:"maintenance,omitempty"`
	// Connection makes this a Pacemaker Remote node, present while that
	// resource runs: an ocf:pacemaker:remote connection (a remote node),
	// or for a guest node the connection whose container meta attribute
	// names the resource (a VM or container) the node lives in. Remote
	// nodes run neither fence devices nor connections; a guest node's
	// container runs on cluster nodes only.
	Connection string `yaml:"connection,omitempty" json:"connection,omitempty"`
}

// Resource kinds.
const (
	KindPrimitive = "primitive"
	KindGroup     = "group"
	KindClone     = "clone"
	KindBundle    = "bundle"
)

// Bundle describes a Pacemaker bundle (Kind bundle): Replicas containers
// of Runtime (docker, podman or rkt), at most ReplicasPerHost a node,
// each with an IP address from IPRangeStart on when it is set, and, when
// the bundle has a member primitive, a guest node named ID-N inside
// replica N (its connection, ID-N, runs with the container) where
// instance N of the member runs. PromotedMax > 0 makes the member
// promotable.
type Bundle struct {
	Runtime         string `yaml:"runtime,omitempty" json:"runtime,omitempty"`
	Replicas        int    `yaml:"replicas,omitempty" json:"replicas,omitempty"`
	ReplicasPerHost int    `yaml:"replicas-per-host,omitempty" json:"replicas-per-host,omitempty"`
	PromotedMax     int    `yaml:"promoted-max,omitempty" json:"promoted-max,omitempty"`
	IPRangeStart    string `yaml:"ip-range-start,omitempty" json:"ip-range-start,omitempty"`
}

// Resource is a primitive, a group (Members are primitives), a clone
// (one member, a primitive or a group) or a bundle (Bundle set, at most
// one member, a primitive). Kind defaults to primitive.
type Resource struct {
	ID          string            `yaml:"id" json:"id"`
	Kind        string            `yaml:"kind,omitempty" json:"kind,omitempty"`
	Class       string            `yaml:"class,omitempty" json:"class,omitempty"`
	Provider    string            `yaml:"provider,omitempty" json:"provider,omitempty"`
	Type        string            `yaml:"type,omitempty" json:"type,omitempty"`
	Params      map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
	Meta        map[string]string `yaml:"meta,omitempty" json:"meta,omitempty"`
	Utilization map[string]int    `yaml:"utilization,omitempty" json:"utilization,omitempty"`
	Ops         []Op              `yaml:"ops,omitempty" json:"ops,omitempty"`
	Members     []*Resource       `yaml:"members,omitempty" json:"members,omitempty"`
	Bundle      *Bundle           `yaml:"bundle,omitempty" json:"bundle,omitempty"`
}

// KindOf returns the resource kind with the default applied.
func (r *Resource) KindOf() string {
	if r.Kind == "" {
		return KindPrimitive
	}
	return r.Kind
}

// Op is an operation definition (recurring monitor, start/stop timeouts).
type Op struct {
	Name     string   `yaml:"name" json:"name"`
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	Timeout  Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	OnFail   string   `yaml:"on-fail,omitempty" json:"on-fail,omitempty"`
	Role     string   `yaml:"role,omitempty" json:"role,omitempty"`
}

// Constraints groups the three constraint kinds.
type Constraints struct {
	Locations   []Location   `yaml:"locations,omitempty" json:"locations,omitempty"`
	Colocations []Colocation `yaml:"colocations,omitempty" json:"colocations,omitempty"`
	Orders      []Order      `yaml:"orders,omitempty" json:"orders,omitempty"`
	Tickets     []Ticket     `yaml:"tickets,omitempty" json:"tickets,omitempty"`
}

// Ticket makes Rsc depend on a ticket (Pacemaker's rsc_ticket, for
// multi-site clusters): while the ticket is not granted (or in standby)
// the resource may not run, or with RscRole Promoted may not be promoted.
// LossPolicy says what happens when a granted ticket is revoked while the
// resource runs: stop (default), demote (default with RscRole Promoted),
// fence (the nodes running it) or freeze (leave it as it is).
type Ticket struct {
	ID         string `yaml:"id" json:"id"`
	Ticket     string `yaml:"ticket" json:"ticket"`
	Rsc        string `yaml:"rsc" json:"rsc"`
	RscRole    string `yaml:"rsc-role,omitempty" json:"rsc-role,omitempty"`
	LossPolicy string `yaml:"loss-policy,omitempty" json:"loss-policy,omitempty"`
}

// Location prefers (or forbids) nodes for a resource: either Node+Score or
// Rules evaluated against node attributes (#uname is the node name).
//
// Discovery exclusive (Pacemaker's resource-discovery) confines Rsc to
// the nodes its exclusive locations name: every other node is banned.
// always (the default) and never change probing only.
type Location struct {
	ID        string `yaml:"id" json:"id"`
	Rsc       string `yaml:"rsc" json:"rsc"`
	Node      string `yaml:"node,omitempty" json:"node,omitempty"`
	Score     Score  `yaml:"score,omitempty" json:"score,omitempty"`
	Role      string `yaml:"role,omitempty" json:"role,omitempty"`
	Rules     []Rule `yaml:"rules,omitempty" json:"rules,omitempty"`
	Discovery string `yaml:"discovery,omitempty" json:"discovery,omitempty"`
}

// Rule gives Score (or the node's value of ScoreAttribute) to every node
// matching its expressions.
type Rule struct {
	ID             string       `yaml:"id,omitempty" json:"id,omitempty"`
	Score          Score        `yaml:"score,omitempty" json:"score,omitempty"`
	ScoreAttribute string       `yaml:"score-attribute,omitempty" json:"score-attribute,omitempty"`
	BooleanOp      string       `yaml:"boolean-op,omitempty" json:"boolean-op,omitempty"`
	Role           string       `yaml:"role,omitempty" json:"role,omitempty"`
	Expressions    []Expression `yaml:"expressions" json:"expressions"`
	// Dates are conditions on the evaluation time, Rules nested rules;
	// all combine with BooleanOp like the expressions.
	Dates []DateExpression `yaml:"dates,omitempty" json:"dates,omitempty"`
	Rules []Rule           `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// Expression tests one node attribute. Operation: lt gt lte gte eq ne
// defined not_defined; Type: string (default), number/integer, version.
type Expression struct {
	Attribute string `yaml:"attribute" json:"attribute"`
	Operation string `yaml:"operation" json:"operation"`
	Value     string `yaml:"value,omitempty" json:"value,omitempty"`
	Type      string `yaml:"type,omitempty" json:"type,omitempty"`
	// ValueSource param or meta: Value names an instance or meta
	// attribute of the constrained resource (the CIB reader resolves it).
	ValueSource string `yaml:"value-source,omitempty" json:"value-source,omitempty"`
}

// Colocation places Rsc relative to With (the primary). Positive scores
// attract, negative repel, ±INFINITY are mandatory.
type Colocation struct {
	ID            string `yaml:"id" json:"id"`
	Rsc           string `yaml:"rsc" json:"rsc"`
	With          string `yaml:"with" json:"with"`
	Score         Score  `yaml:"score" json:"score"`
	RscRole       string `yaml:"rsc-role,omitempty" json:"rsc-role,omitempty"`
	WithRole      string `yaml:"with-role,omitempty" json:"with-role,omitempty"`
	NodeAttribute string `yaml:"node-attribute,omitempty" json:"node-attribute,omitempty"`
	// Influence false stops the dependent from pulling an active primary.
	Influence *bool `yaml:"influence,omitempty" json:"influence,omitempty"`
}

// Order makes Then's ThenAction wait for First's FirstAction.
// Kind: Mandatory (default), Optional, Serialize. Symmetrical defaults to
// true for Mandatory: stops run in the reverse order.
//
// A Mandatory order whose First is a clone lets Then start once one
// instance of First can; the clone's clone-min meta attribute raises that
// to clone-min instances, and both that and RequireAll false (one
// instance, unless clone-min says otherwise) wait for the clone as a
// whole even when Then is an interleaved clone. FirstAny instead of First
// lists resources of which any one will do (Pacemaker's resource set with
// require-all=false).
type Order struct {
	ID          string   `yaml:"id" json:"id"`
	First       string   `yaml:"first,omitempty" json:"first,omitempty"`
	FirstAny    []string `yaml:"first-any,omitempty" json:"first-any,omitempty"`
	FirstAction string   `yaml:"first-action,omitempty" json:"first-action,omitempty"`
	Then        string   `yaml:"then" json:"then"`
	ThenAction  string   `yaml:"then-action,omitempty" json:"then-action,omitempty"`
	Kind        string   `yaml:"kind,omitempty" json:"kind,omitempty"`
	Symmetrical *bool    `yaml:"symmetrical,omitempty" json:"symmetrical,omitempty"`
	RequireAll  *bool    `yaml:"require-all,omitempty" json:"require-all,omitempty"`
}

// Status is what the cluster currently observes.
//
//	status:
//	  no-quorum: false            # true when this partition lacks quorum
//	  nodes:                      # nodes not listed are offline (cleanly down)
//	    - {name: n1, state: online}          # online | offline | unclean
//	    - {name: n2, state: unclean}         # lost and not yet fenced
//	    - {name: n3, state: online, standby: true, attributes: {master-db: "10"}}
//	  resources:                  # active resources (primitive ids)
//	    - {rsc: vip, node: n1}               # role Started by default
//	    - {rsc: db, node: n1, role: Promoted}
//	    - {rsc: web, node: n3, failed: true} # last monitor failed: recover
//	  failures:
//	    - {rsc: vip, node: n1, op: monitor, count: 2, last-failure: 2026-01-01T10:00:00Z}
type Status struct {
	NoQuorum bool `yaml:"no-quorum,omitempty" json:"no-quorum,omitempty"`
	// DC names the designated controller (rules' #is_dc).
	DC        string           `yaml:"dc,omitempty" json:"dc,omitempty"`
	Nodes     []NodeState      `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	Resources []ResourceStatus `yaml:"resources,omitempty" json:"resources,omitempty"`
	Failures  []Failure        `yaml:"failures,omitempty" json:"failures,omitempty"`
	// Tickets are the granted (or standby) tickets; a ticket not listed
	// is not granted.
	Tickets []TicketState `yaml:"tickets,omitempty" json:"tickets,omitempty"`
	// HardErrors are operation results that forbid a resource a node
	// (agent not installed, invalid parameters: Node set) or every node
	// (not configured: Node empty) until the failure is cleaned up.
	HardErrors []HardError `yaml:"hard-errors,omitempty" json:"hard-errors,omitempty"`
	// Locks are resources stopped by a clean shutdown of Node while
	// shutdown-lock was on: they stay off every other node until Node
	// rejoins or shutdown-lock-limit passes.
	Locks []ShutdownLock `yaml:"locks,omitempty" json:"locks,omitempty"`
}

// ShutdownLock locks Rsc to Node since Since.
type ShutdownLock struct {
	Rsc   string    `yaml:"rsc" json:"rsc"`
	Node  string    `yaml:"node" json:"node"`
	Since time.Time `yaml:"since" json:"since"`
}

// HardError bans Rsc from Node, or from every node when Node is empty.
// Like a fail count it expires after the resource's failure-timeout.
type HardError struct {
	Rsc         string    `yaml:"rsc" json:"rsc"`
	Node        string    `yaml:"node,omitempty" json:"node,omitempty"`
	Reason      string    `yaml:"reason,omitempty" json:"reason,omitempty"`
	LastFailure time.Time `yaml:"last-failure,omitempty" json:"last-failure,omitempty"`
}

// TicketState is the state of one ticket in this site.
type TicketState struct {
	ID      string `yaml:"id" json:"id"`
	Granted bool   `yaml:"granted,omitempty" json:"granted,omitempty"`
	Standby bool   `yaml:"standby,omitempty" json:"standby,omitempty"`
}

// Node states.
const (
	NodeOnline  = "online"
	NodeOffline = "offline"
	NodeUnclean = "unclean"
)

// NodeState is the observed state of one node. Standby, Maintenance and
// Attributes add to the configured node (transient attributes).
type NodeState struct {
	Name        string `yaml:"name" json:"name"`
	State       string `yaml:"state,omitempty" json:"state,omitempty"`
	Standby     bool   `yaml:"standby,omitempty" json:"standby,omitempty"`
	Maintenance bool   `yaml:"maintenance,omitempty" json:"maintenance,omitempty"`
	// Shutdown: the node is shutting down cleanly; it runs nothing more.
	Shutdown   bool              `yaml:"shutdown,omitempty" json:"shutdown,omitempty"`
	Attributes map[string]string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	// Pending: the node is joining (Pacemaker's pending state): it runs
	// nothing and nothing can be probed there yet, so a resource active
	// nowhere whose state on it is unknown may not start anywhere.
	// Probed lists the resources whose state there is known (a clone's
	// primitive id stands for every instance of an anonymous clone).
	Pending bool     `yaml:"pending,omitempty" json:"pending,omitempty"`
	Probed  []string `yaml:"probed,omitempty" json:"probed,omitempty"`
}

// Roles.
const (
	RoleStopped    = "Stopped"
	RoleStarted    = "Started"
	RoleUnpromoted = "Unpromoted"
	RolePromoted   = "Promoted"
)

// ResourceStatus says a primitive (or clone instance "prim:N" for
// globally-unique clones) is active on a node.
//
// The parameter fields say what it runs with, as Pacemaker records it on
// the start (or reload, or the probe that found it): Digest is the
// op-digest of its parameters (empty: unknown, nothing is compared);
// RestartDigest and ForceRestart are set only when its agent can reload
// (op-restart-digest over the parameters named in op-force-restart, those
// a reload cannot apply); Private names the parameters whose values are
// secrets (op-secure-params) and Params holds the others. When the
// configured parameters no longer match, the scheduler reloads or
// restarts it (see CompareParams):
//
//	resources: [{rsc: vip, node: n1, digest: 0c2b..., params: {ip: 198.18.0.50}}]
type ResourceStatus struct {
	Rsc    string `yaml:"rsc" json:"rsc"`
	Node   string `yaml:"node" json:"node"`
	Role   string `yaml:"role,omitempty" json:"role,omitempty"`
	Failed bool   `yaml:"failed,omitempty" json:"failed,omitempty"`

	Digest        string            `yaml:"digest,omitempty" json:"digest,omitempty"`
	RestartDigest string            `yaml:"restart-digest,omitempty" json:"restart-digest,omitempty"`
	ForceRestart  []string          `yaml:"force-restart,omitempty" json:"force-restart,omitempty"`
	Private       []string          `yaml:"private,omitempty" json:"private,omitempty"`
	Params        map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
}

// Failure is a fail count for a resource operation on a node.
type Failure struct {
	Rsc         string    `yaml:"rsc" json:"rsc"`
	Node        string    `yaml:"node" json:"node"`
	Op          string    `yaml:"op,omitempty" json:"op,omitempty"`
	Count       Score     `yaml:"count" json:"count"`
	LastFailure time.Time `yaml:"last-failure,omitempty" json:"last-failure,omitempty"`
}
