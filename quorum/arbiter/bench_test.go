package arbiter

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkCoreDecisions: one core serving 1,000 two-node clusters; each
// operation is one report that changes a cluster's decision (the cluster
// alternates between one view with both nodes and a 1/1 split), the
// arbiter's hot path. Reports decisions/s; go test -bench shows ns/op.
func BenchmarkCoreDecisions(b *testing.B) {
	const clusters = 1000
	core := NewCore(CoreConfig{Lease: 6 * time.Second, Grace: -1, ServerID: "bench"})
	now := time.Duration(0)
	id := ClientID(0)
	type cl struct {
		ids  [2]ClientID
		seq  [2]uint64
		view uint64
	}
	cs := make([]*cl, clusters)
	for i := range cs {
		c := &cl{}
		name := fmt.Sprintf("c%04d", i)
		for j := 0; j < 2; j++ {
			id++
			c.ids[j] = id
			h := &Hello{Cluster: name, Node: fmt.Sprintf("n%d", j+1), Algorithm: "ffsplit", Nodes: []NodeVotes{{"n1", 1}, {"n2", 1}}}
			core.Hello(id, name, h, now)
		}
		c.view = 1
		for j := 0; j < 2; j++ {
			c.seq[j]++
			core.Report(c.ids[j], &Report{Seq: c.seq[j], View: 1, Members: []string{"n1", "n2"}}, now)
		}
		cs[i] = c
	}
	decisions := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := cs[i%clusters]
		now += time.Microsecond
		j := (i / clusters) % 2
		c.seq[j]++
		var r *Report
		if c.view%2 == 1 {
			// split: node j reports its single-node view
			r = &Report{Seq: c.seq[j], View: c.view + 1, Members: []string{fmt.Sprint("n", j+1)}}
		} else {
			r = &Report{Seq: c.seq[j], View: c.view + 1, Members: []string{"n1", "n2"}}
		}
		out := core.Report(c.ids[j], r, now)
		for _, o := range out {
			if v, ok := o.Msg.(*Vote); ok && v.Verdict == VerdictAck && v.Decision != 0 {
				decisions++
				break
			}
		}
		if j == 1 {
			c.view++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// BenchmarkCoreRenewals: steady state, every report renews an ack.
func BenchmarkCoreRenewals(b *testing.B) {
	const clusters = 1000
	core := NewCore(CoreConfig{Lease: 6 * time.Second, Grace: -1, ServerID: "bench"})
	seqs := make([]uint64, 2*clusters)
	for i := 0; i < clusters; i++ {
		name := fmt.Sprintf("c%04d", i)
		for j := 0; j < 2; j++ {
			id := ClientID(2*i + j + 1)
			core.Hello(id, name, &Hello{Cluster: name, Node: fmt.Sprintf("n%d", j+1), Algorithm: "ffsplit", Nodes: []NodeVotes{{"n1", 1}, {"n2", 1}}}, 0)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % (2 * clusters)
		seqs[k]++
		core.Report(ClientID(k+1), &Report{Seq: seqs[k], View: 1, Members: []string{"n1", "n2"}}, time.Duration(i)*time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
