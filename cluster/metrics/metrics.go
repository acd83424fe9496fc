// Package metrics exposes palisaded's figures to Prometheus: heartbeat age
// and loss per peer and link, dropped packets by reason, membership
// changes, quorum, fence operations by device, result and duration,
// resource operations by result and duration, and scheduler run time.
//
// The package owns its registry (nothing is registered globally). The
// daemon reports events through small typed methods and lends the
// transport's counters for each scrape:
//
//	m := metrics.New(metrics.Options{Cluster: "prod", Node: "n1", Keepalive: time.Second})
//	m.SetTransport(tr.Counters)                   // read at every scrape
//	m.Heartbeat("n2", "ring0", gen, now)          // each heartbeat, per link
//	m.FenceDone("bmc-n2", metrics.ResultSuccess, d)
//	srv, err := metrics.Listen("198.18.0.1:9664", m, log) // off unless configured
//	go srv.Serve(ctx)
//
// Every method is safe for concurrent use and cheap (no allocation on the
// heartbeat path once a peer/link pair is known).
package metrics

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"palisade/cluster/transport"
)

// Results used as the result label.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultTimeout = "timeout"
)

// Membership events for MembershipChange.
const (
	EventNodeJoined  = "node_joined"
	EventNodeLost    = "node_lost"
	EventNodeLeft    = "node_left" // clean shutdown
	EventViewChanged = "view_installed"
)

// Options identify the node and give what loss estimation needs.
type Options struct {
	Cluster string
	Node    string
	// Keepalive is the heartbeat interval peers send at; a gap of n
	// intervals between two heartbeats on a link counts n-1 as missed.
	Keepalive time.Duration
	// Now is the clock for heartbeat ages (default time.Now).
	Now func() time.Time
}

type linkKey struct{ peer, link string }

type linkState struct {
	gen      uint64
	last     time.Time
	heard    bool
	received prometheus.Counter
	missed   prometheus.Counter
}

// Metrics is the daemon's metric set and registry.
type Metrics struct {
	reg       *prometheus.Registry
	now       func() time.Time
	keepalive time.Duration

	mu          sync.Mutex
	links       map[linkKey]*linkState
	transport   func() transport.Counters
	quorumKnown bool
	quorumNow   bool

	hbReceived        *prometheus.CounterVec
	hbMissed          *prometheus.CounterVec
	membershipChanges *prometheus.CounterVec
	members           prometheus.Gauge
	view              prometheus.Gauge
	quorate           prometheus.Gauge
	votes             prometheus.Gauge
	expectedVotes     prometheus.Gauge
	quorumChanges     *prometheus.CounterVec
	fenceRequests     *prometheus.CounterVec
	fenceOps          *prometheus.CounterVec
	fenceDuration     *prometheus.HistogramVec
	rscOps            *prometheus.CounterVec
	rscDuration       *prometheus.HistogramVec
	schedDuration     prometheus.Histogram
	schedActions      prometheus.Counter
	alerts            *prometheus.CounterVec
}

// New builds the metric set and its registry (with the Go runtime and
// process collectors, for the daemon's own CPU and memory).
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{reg: prometheus.NewRegistry(), now: o.Now, keepalive: o.Keepalive, links: map[linkKey]*linkState{}}
	f := factory{m.reg}
	info := f.gaugeVec("palisade_node_info", "This node: always 1, with the cluster and node name as labels.", "cluster", "node")
	info.WithLabelValues(o.Cluster, o.Node).Set(1)
	m.hbReceived = f.counterVec("palisade_heartbeats_received_total", "Heartbeats received from a peer on a link (every copy, not only the first).", "peer", "link")
	m.hbMissed = f.counterVec("palisade_heartbeats_missed_total", "Heartbeats a peer sent on a link (one per keepalive) that did not arrive, estimated from the gaps between arrivals; a peer restart (new generation) is not counted.", "peer", "link")
	m.membershipChanges = f.counterVec("palisade_membership_changes_total", "Membership events by kind: node_joined, node_lost, node_left (clean shutdown), view_installed.", "event")
	m.members = f.gauge("palisade_membership_members", "Members of this node's current agreed view.")
	m.view = f.gauge("palisade_membership_view_id", "Id of this node's current agreed view.")
	m.quorate = f.gauge("palisade_quorum_quorate", "1 if this node's partition has quorum, else 0.")
	m.votes = f.gauge("palisade_quorum_votes", "Votes this node's partition holds.")
	m.expectedVotes = f.gauge("palisade_quorum_expected_votes", "Votes of the whole cluster (expected votes).")
	m.quorumChanges = f.counterVec("palisade_quorum_changes_total", "Quorum gained or lost.", "state")
	m.fenceRequests = f.counterVec("palisade_fence_requests_total", "Fence requests by target node.", "target")
	m.fenceOps = f.counterVec("palisade_fence_operations_total", "Fence operations by device and result (success means power-off confirmed).", "device", "result")
	m.fenceDuration = f.histogramVec("palisade_fence_duration_seconds", "Time of one fence operation on a device, login to confirmation.",
		[]float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}, "device", "result")
	m.rscOps = f.counterVec("palisade_resource_operations_total", "Resource agent operations by resource, operation (start, stop, monitor, ...) and result.", "resource", "op", "result")
	m.rscDuration = f.histogramVec("palisade_resource_operation_duration_seconds", "Time of resource agent operations by operation and result.",
		[]float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}, "op", "result")
	m.schedDuration = f.histogram("palisade_scheduler_run_duration_seconds", "Time of one scheduler run (placement and transition graph).",
		[]float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1})
	m.schedActions = f.counter("palisade_scheduler_actions_total", "Actions the scheduler's transitions asked for.")
	m.alerts = f.counterVec("palisade_alerts_total", "Alert commands run, by event kind and result (success, failure, timeout, dropped).", "kind", "result")
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), (*liveCollector)(m))
	return m
}

// Registry is the registry behind the handler, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// SetTransport lends the transport's counter snapshot, read at every
// scrape: packets and bytes per link, and drops by link and reason.
func (m *Metrics) SetTransport(counters func() transport.Counters) {
	m.mu.Lock()
	m.transport = counters
	m.mu.Unlock()
}

// Heartbeat records one heartbeat from peer on link (every copy, as the
// membership layer sees them) with the peer's generation.
func (m *Metrics) Heartbeat(peer, link string, generation uint64, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := linkKey{peer, link}
	ls := m.links[k]
	if ls == nil {
		ls = &linkState{received: m.hbReceived.WithLabelValues(peer, link), missed: m.hbMissed.WithLabelValues(peer, link)}
		m.links[k] = ls
	}
	ls.received.Inc()
	if ls.heard && ls.gen == generation && m.keepalive > 0 {
		gap := at.Sub(ls.last)
		// Heartbeats leave every keepalive; a gap of n intervals means
		// n-1 never arrived on this link. Rounding absorbs timer jitter.
		if n := math.Round(float64(gap) / float64(m.keepalive)); n > 1 {
			ls.missed.Add(n - 1)
		}
	}
	ls.gen, ls.last, ls.heard = generation, at, true
}

// MembershipChange counts a membership event (EventNodeJoined, ...).
func (m *Metrics) MembershipChange(event string) { m.membershipChanges.WithLabelValues(event).Inc() }

// View records the agreed view this node installed.
func (m *Metrics) View(id uint64, members int) {
	m.view.Set(float64(id))
	m.members.Set(float64(members))
	m.membershipChanges.WithLabelValues(EventViewChanged).Inc()
}

// Quorum records the partition's quorum state; a change of state is
// counted once.
func (m *Metrics) Quorum(quorate bool, votes, expected int) {
	v := 0.0
	if quorate {
		v = 1
	}
	m.mu.Lock()
	changed := !m.quorumKnown || m.quorumNow != quorate
	m.quorumKnown, m.quorumNow = true, quorate
	m.quorate.Set(v)
	m.mu.Unlock()
	m.votes.Set(float64(votes))
	m.expectedVotes.Set(float64(expected))
	if changed {
		m.quorumChanges.WithLabelValues(map[bool]string{true: "gained", false: "lost"}[quorate]).Inc()
	}
}

// FenceRequested counts a fence request for target.
func (m *Metrics) FenceRequested(target string) { m.fenceRequests.WithLabelValues(target).Inc() }

// FenceDone records one fence operation on device: result is
// ResultSuccess only when the power-off was confirmed.
func (m *Metrics) FenceDone(device, result string, d time.Duration) {
	m.fenceOps.WithLabelValues(device, result).Inc()
	m.fenceDuration.WithLabelValues(device, result).Observe(d.Seconds())
}

// ResourceOpDone records one resource agent operation (op: start, stop,
// monitor, promote, ...; result: ResultSuccess, ResultFailure,
// ResultTimeout or an OCF result name).
func (m *Metrics) ResourceOpDone(resource, op, result string, d time.Duration) {
	m.rscOps.WithLabelValues(resource, op, result).Inc()
	m.rscDuration.WithLabelValues(op, result).Observe(d.Seconds())
}

// SchedulerRun records one scheduler run and how many actions its
// transition has.
func (m *Metrics) SchedulerRun(d time.Duration, actions int) {
	m.schedDuration.Observe(d.Seconds())
	m.schedActions.Add(float64(actions))
}

// AlertDone counts one alert command (kind, result) for cluster/alert.
func (m *Metrics) AlertDone(kind, result string) { m.alerts.WithLabelValues(kind, result).Inc() }

// liveCollector reads what is computed at scrape time: heartbeat ages and
// the transport's counters.
type liveCollector Metrics

var (
	descAge     = prometheus.NewDesc("palisade_link_heartbeat_age_seconds", "Time since the last heartbeat from a peer on a link.", []string{"peer", "link"}, nil)
	descRx      = prometheus.NewDesc("palisade_link_received_packets_total", "Authentic packets received on a link (first copies and duplicates).", []string{"link"}, nil)
	descRxBytes = prometheus.NewDesc("palisade_link_received_bytes_total", "Bytes of packets received on a link.", []string{"link"}, nil)
	descTx      = prometheus.NewDesc("palisade_link_sent_packets_total", "Packets sent on a link.", []string{"link"}, nil)
	descTxBytes = prometheus.NewDesc("palisade_link_sent_bytes_total", "Bytes sent on a link.", []string{"link"}, nil)
	descTxErr   = prometheus.NewDesc("palisade_link_send_errors_total", "Sends that failed on a link.", []string{"link"}, nil)
	descDup     = prometheus.NewDesc("palisade_link_duplicate_packets_total", "Authentic copies already received on another link.", []string{"link"}, nil)
	descDropped = prometheus.NewDesc("palisade_packets_dropped_total", "Packets dropped by link and reason (truncated, malformed, version, wrong_cluster, unknown_key, bad_mac, unknown_node, old_generation, replay, not_for_us, queue_full).", []string{"link", "reason"}, nil)
	descDeliv   = prometheus.NewDesc("palisade_packets_delivered_total", "Packets accepted and handed to the daemon.", nil, nil)
)

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAge, descRx, descRxBytes, descTx, descTxBytes, descTxErr, descDup, descDropped, descDeliv} {
		ch <- d
	}
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*Metrics)(c)
	m.mu.Lock()
	now := m.now()
	type age struct {
		k linkKey
		d time.Duration
	}
	ages := make([]age, 0, len(m.links))
	for k, ls := range m.links {
		ages = append(ages, age{k, now.Sub(ls.last)})
	}
	counters := m.transport
	m.mu.Unlock()
	sort.Slice(ages, func(i, j int) bool {
		return ages[i].k.peer+"\x00"+ages[i].k.link < ages[j].k.peer+"\x00"+ages[j].k.link
	})
	for _, a := range ages {
		ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, a.d.Seconds(), a.k.peer, a.k.link)
	}
	if counters == nil {
		return
	}
	tc := counters()
	ch <- prometheus.MustNewConstMetric(descDeliv, prometheus.CounterValue, float64(tc.Delivered))
	reasons := make([]string, 0, len(transport.DropReasons()))
	for _, r := range transport.DropReasons() {
		reasons = append(reasons, r.String())
	}
	for _, l := range tc.Links {
		ch <- prometheus.MustNewConstMetric(descRx, prometheus.CounterValue, float64(l.RxPackets), l.Name)
		ch <- prometheus.MustNewConstMetric(descRxBytes, prometheus.CounterValue, float64(l.RxBytes), l.Name)
		ch <- prometheus.MustNewConstMetric(descTx, prometheus.CounterValue, float64(l.TxPackets), l.Name)
		ch <- prometheus.MustNewConstMetric(descTxBytes, prometheus.CounterValue, float64(l.TxBytes), l.Name)
		ch <- prometheus.MustNewConstMetric(descTxErr, prometheus.CounterValue, float64(l.TxErrors), l.Name)
		ch <- prometheus.MustNewConstMetric(descDup, prometheus.CounterValue, float64(l.Duplicates), l.Name)
		// Every reason, zero or not, so rate() works from the first drop.
		for _, r := range reasons {
			ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(l.Dropped[r]), l.Name, r)
		}
	}
}
