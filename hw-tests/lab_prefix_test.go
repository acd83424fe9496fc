package hwtests

import (
	"strings"
	"testing"
)

// TestLabPrefix: the 27th lab of a full run once got '|' in its namespace
// names, which broke the BMC power-off hook; every prefix of a long run
// must be distinct and made of characters a shell takes as they are.
func TestLabPrefix(t *testing.T) {
	saved := failoverSeq
	t.Cleanup(func() { failoverSeq = saved })
	failoverSeq = 0
	seen := map[string]bool{}
	for range 1000 {
		p := labPrefix("pe")
		if strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Fatalf("prefix %q has characters a shell would interpret", p)
		}
		if seen[p] {
			t.Fatalf("prefix %q twice", p)
		}
		seen[p] = true
	}
}
