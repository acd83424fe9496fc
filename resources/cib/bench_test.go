package cib_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"palisade/resources/cib"
	"palisade/resources/cib/cibtest"
)

// benchSizes are the clusters of `make bench-scheduler`
// (hw-tests/cmd/bench-scheduler), nodes x resources.
var benchSizes = [][2]int{{16, 1000}, {32, 5000}, {100, 10000}}

var benchNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// benchCIB is the CIB bench-scheduler feeds both tools, for one size.
func benchCIB(tb testing.TB, nodes, rscs int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := cibtest.Write(&buf, cibtest.Generate(nodes, rscs, 1, benchNow), benchNow); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkScan compares the package's XML scanner with encoding/xml
// building the same element tree, on the bench-scheduler CIBs: the
// figures behind keeping the scanner (see scan.go).
//
//	go test -run '^$' -bench Scan -benchmem ./resources/cib/
func BenchmarkScan(b *testing.B) {
	for _, sz := range benchSizes {
		data := benchCIB(b, sz[0], sz[1])
		for _, s := range []struct {
			name string
			scan func([]byte) error
		}{{"own", cib.ScanOwn}, {"encoding-xml", cib.ScanEncodingXML}} {
			b.Run(fmt.Sprintf("%dx%d/%s", sz[0], sz[1], s.name), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if err := s.scan(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkReadCIB is the whole reader (scan and conversion to the
// model) as `palisade simulate --cib` runs it.
func BenchmarkReadCIB(b *testing.B) {
	for _, sz := range benchSizes {
		data := benchCIB(b, sz[0], sz[1])
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := cib.ReadBytesWith(data, cib.Options{Scheduling: true, At: benchNow}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestScanMatchesEncodingXML reads the smallest benchmark CIB, the test
// CIBs and, when they are there (shared/pacemaker-cts beside or above the
// repository, as hw-tests finds them), Pacemaker's 405 scheduler
// regression CIBs with the scanner and with encoding/xml: the element
// trees (names, attributes and their unescaped values, nesting) are the
// same.
func TestScanMatchesEncodingXML(t *testing.T) {
	inputs := map[string][]byte{"generated 16x1000": benchCIB(t, 16, 1000)}
	files, _ := filepath.Glob("testdata/*.xml")
	if cts := findCTS(); cts != "" {
		more, _ := filepath.Glob(filepath.Join(cts, "xml", "*.xml"))
		files = append(files, more...)
	} else {
		t.Log("shared/pacemaker-cts not found above the repository: Pacemaker's CIBs not compared")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = data
	}
	for name, data := range inputs {
		if err := cib.CompareScans(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	t.Logf("%d CIBs read alike", len(inputs))
}

// findCTS looks for shared/pacemaker-cts in the working directory and
// above it.
func findCTS() string {
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(d, "shared", "pacemaker-cts")
		if st, err := os.Stat(filepath.Join(p, "xml")); err == nil && st.IsDir() {
			return p
		}
		up := filepath.Dir(d)
		if up == d {
			return ""
		}
		d = up
	}
}
