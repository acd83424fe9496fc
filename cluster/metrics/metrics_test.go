package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"palisade/cluster/transport"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// scrape fetches /metrics over a real HTTP endpoint and parses it with
// Prometheus' own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	return fams
}

// value finds the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("%s: no sample with labels %v", name, want)
	return 0
}

func TestScrape(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	m := New(Options{Cluster: "prod", Node: "n1", Keepalive: 100 * time.Millisecond, Now: clk.now})
	tc := transport.Counters{Delivered: 42, Links: []transport.LinkCounters{
		{Name: "ring0", RxPackets: 10, RxBytes: 780, TxPackets: 11, TxBytes: 858, Duplicates: 3, Dropped: map[string]uint64{"bad_mac": 2, "replay": 1}},
		{Name: "ring1", RxPackets: 7},
	}}
	m.SetTransport(func() transport.Counters { return tc })

	// Heartbeats from n2: ring0 every keepalive, ring1 loses two in a row
	// (a gap of 3 intervals), then n2 restarts (new generation) after a
	// long silence, which is no loss.
	t0 := clk.now()
	for i := range 5 {
		m.Heartbeat("n2", "ring0", 7, t0.Add(time.Duration(i)*100*time.Millisecond))
	}
	m.Heartbeat("n2", "ring1", 7, t0)
	m.Heartbeat("n2", "ring1", 7, t0.Add(100*time.Millisecond))
	m.Heartbeat("n2", "ring1", 7, t0.Add(400*time.Millisecond+3*time.Millisecond)) // jitter
	m.Heartbeat("n2", "ring1", 8, t0.Add(30*time.Second))
	clk.add(30*time.Second + 250*time.Millisecond)

	m.View(4, 2)
	m.MembershipChange(EventNodeLost)
	m.MembershipChange(EventNodeJoined)
	m.Quorum(true, 2, 3)
	m.Quorum(true, 2, 3)
	m.Quorum(false, 1, 3)
	m.FenceRequested("n3")
	m.FenceDone("bmc-n3", ResultFailure, 1500*time.Millisecond)
	m.FenceDone("bmc-n3", ResultSuccess, 300*time.Millisecond)
	m.ResourceOpDone("vip", "start", ResultSuccess, 40*time.Millisecond)
	m.ResourceOpDone("vip", "monitor", ResultTimeout, 5*time.Second)
	m.SchedulerRun(2*time.Millisecond, 3)
	m.AlertDone("fence_failed", ResultSuccess)

	srv, err := Listen("127.0.0.1:0", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	fams := scrape(t, fmt.Sprintf("http://%s/metrics", srv.Addr()))

	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"palisade_node_info", map[string]string{"cluster": "prod", "node": "n1"}, 1},
		{"palisade_heartbeats_received_total", map[string]string{"peer": "n2", "link": "ring0"}, 5},
		{"palisade_heartbeats_missed_total", map[string]string{"peer": "n2", "link": "ring0"}, 0},
		{"palisade_heartbeats_received_total", map[string]string{"peer": "n2", "link": "ring1"}, 4},
		{"palisade_heartbeats_missed_total", map[string]string{"peer": "n2", "link": "ring1"}, 2},
		{"palisade_link_heartbeat_age_seconds", map[string]string{"peer": "n2", "link": "ring1"}, 0.25},
		{"palisade_link_heartbeat_age_seconds", map[string]string{"peer": "n2", "link": "ring0"}, 29.85},
		{"palisade_packets_dropped_total", map[string]string{"link": "ring0", "reason": "bad_mac"}, 2},
		{"palisade_packets_dropped_total", map[string]string{"link": "ring0", "reason": "replay"}, 1},
		{"palisade_packets_dropped_total", map[string]string{"link": "ring1", "reason": "unknown_key"}, 0},
		{"palisade_packets_delivered_total", nil, 42},
		{"palisade_link_duplicate_packets_total", map[string]string{"link": "ring0"}, 3},
		{"palisade_link_sent_bytes_total", map[string]string{"link": "ring0"}, 858},
		{"palisade_membership_view_id", nil, 4},
		{"palisade_membership_members", nil, 2},
		{"palisade_membership_changes_total", map[string]string{"event": "node_lost"}, 1},
		{"palisade_membership_changes_total", map[string]string{"event": "view_installed"}, 1},
		{"palisade_quorum_quorate", nil, 0},
		{"palisade_quorum_votes", nil, 1},
		{"palisade_quorum_expected_votes", nil, 3},
		{"palisade_quorum_changes_total", map[string]string{"state": "gained"}, 1},
		{"palisade_quorum_changes_total", map[string]string{"state": "lost"}, 1},
		{"palisade_fence_requests_total", map[string]string{"target": "n3"}, 1},
		{"palisade_fence_operations_total", map[string]string{"device": "bmc-n3", "result": "failure"}, 1},
		{"palisade_fence_operations_total", map[string]string{"device": "bmc-n3", "result": "success"}, 1},
		{"palisade_fence_duration_seconds", map[string]string{"device": "bmc-n3", "result": "success"}, 1},
		{"palisade_resource_operations_total", map[string]string{"resource": "vip", "op": "monitor", "result": "timeout"}, 1},
		{"palisade_resource_operation_duration_seconds", map[string]string{"op": "start", "result": "success"}, 1},
		{"palisade_scheduler_run_duration_seconds", nil, 1},
		{"palisade_scheduler_actions_total", nil, 3},
		{"palisade_alerts_total", map[string]string{"kind": "fence_failed", "result": "success"}, 1},
	}
	for _, c := range checks {
		if got := value(t, fams, c.name, c.labels); fmt.Sprintf("%.3f", got) != fmt.Sprintf("%.3f", c.want) {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The fence histogram put 0.3 s in the 0.5 s bucket and not in 0.25.
	for _, m := range fams["palisade_fence_duration_seconds"].Metric {
		if m.Label[1].GetValue() != "success" {
			continue
		}
		for _, b := range m.Histogram.Bucket {
			want := uint64(0)
			if b.GetUpperBound() >= 0.5 {
				want = 1
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("fence duration bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
	if _, ok := fams["process_cpu_seconds_total"]; !ok {
		t.Error("no process metrics")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestListenRefusesBadAddress: a bad metrics address fails at start-up.
func TestListenRefusesBadAddress(t *testing.T) {
	if _, err := Listen("198.51.100.1:notaport", New(Options{}), nil); err == nil {
		t.Fatal("Listen accepted a bad address")
	}
}

// BenchmarkHeartbeat is the per-heartbeat cost on the receive path (every
// copy on every link calls it).
func BenchmarkHeartbeat(b *testing.B) {
	m := New(Options{Keepalive: 100 * time.Millisecond})
	at := time.Unix(1_800_000_000, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Heartbeat("n2", "ring0", 7, at.Add(time.Duration(i)*100*time.Millisecond))
	}
}
