package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// benchCores builds n nodes' cores over shared disks (in memory, or the
// given files) and runs them until a master grants the votes.
func benchCores(b *testing.B, nodes, ndisks int, paths []string) []*Core {
	b.Helper()
	h := Header{SectorSize: 4096, Slots: max(nodes, 8), Cluster: "bench", Timeouts: DefaultTimeouts}
	var names []string
	var ns []arbitration.Node
	for i := 0; i < nodes; i++ {
		names = append(names, fmt.Sprintf("n%d", i+1))
		ns = append(ns, arbitration.Node{Name: names[i], Votes: 1})
	}
	var mem []*MemDisk
	var devsFor func() []*Device
	if paths == nil {
		for i := 0; i < ndisks; i++ {
			mem = append(mem, NewMemDisk(int(h.Size())))
		}
		devsFor = func() []*Device {
			var d []*Device
			for i, m := range mem {
				d = append(d, &Device{IO: m.Path(), Name: fmt.Sprint("disk", i)})
			}
			return d
		}
	} else {
		devsFor = func() []*Device {
			devs, disks := OpenDevices(paths, time.Second)
			b.Cleanup(func() {
				for _, d := range disks {
					d.Close()
				}
			})
			return devs
		}
	}
	if err := Create(devsFor(), h, names); err != nil {
		b.Fatal(err)
	}
	var cores []*Core
	for i, n := range names {
		c, err := NewCore(Config{Self: n, Nodes: ns, Algorithm: quorum.AlgorithmLMS, DeviceVotes: nodes - 1, Incarnation: uint64(i + 1)}, devsFor())
		if err != nil {
			b.Fatal(err)
		}
		cores = append(cores, c)
	}
	in := Input{Quorate: true, View: 1, Members: names}
	for t := time.Duration(0); t < 20*time.Second; t += time.Second {
		for _, c := range cores {
			c.Step(t, in)
		}
	}
	if r := cores[0].Step(20*time.Second, in); !r.Vote.Voting {
		b.Fatalf("no grant after 20s: %+v", r)
	}
	return cores
}

// BenchmarkStep is the cost of one disk loop of one node (read every
// slot, decide, write its slot) on in-memory disks: the CPU part.
func BenchmarkStep(b *testing.B) {
	for _, tc := range []struct{ nodes, disks int }{{2, 1}, {3, 3}, {32, 1}, {32, 3}} {
		b.Run(fmt.Sprintf("nodes=%d/disks=%d", tc.nodes, tc.disks), func(b *testing.B) {
			cores := benchCores(b, tc.nodes, tc.disks, nil)
			var names []string
			for i := 0; i < tc.nodes; i++ {
				names = append(names, fmt.Sprintf("n%d", i+1))
			}
			in := Input{Quorate: true, View: 1, Members: names}
			now := 21 * time.Second
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now += time.Second / time.Duration(tc.nodes)
				cores[i%tc.nodes].Step(now, in)
			}
		})
	}
}

// BenchmarkStepFile is one disk loop on a real file with O_DIRECT|O_SYNC
// (BENCH_DISK=/dev/loopN or a file path overrides the temporary file).
func BenchmarkStepFile(b *testing.B) {
	for _, nodes := range []int{2, 32} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			path := os.Getenv("BENCH_DISK")
			if path == "" {
				path = filepath.Join(b.TempDir(), "qdisk")
				if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
					b.Fatal(err)
				}
			}
			cores := benchCores(b, nodes, 1, []string{path})
			var names []string
			for i := 0; i < nodes; i++ {
				names = append(names, fmt.Sprintf("n%d", i+1))
			}
			in := Input{Quorate: true, View: 1, Members: names}
			now := 21 * time.Second
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now += time.Second / time.Duration(nodes)
				cores[i%nodes].Step(now, in)
			}
		})
	}
}
