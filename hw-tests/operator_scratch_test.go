package hwtests

import (
	"testing"
	"time"

	"palisade/hw-tests/failover"
)

func TestOperatorScratch(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	time.Sleep(2 * time.Second)
	out, err := h.Palisade(active, "status")
	t.Logf("status (%v):\n%s", err, out)
	out, err = h.Palisade(active, "status", "--json")
	t.Logf("json (%v):\n%s", err, out)
	out, err = h.Palisade(active, "simulate", "--live", "--show-placement")
	t.Logf("simulate (%v):\n%s", err, out)
	out, err = h.Palisade((active+1)%3, "standby", "--dry-run")
	t.Logf("standby (%v):\n%s", err, out)
	out, err = h.Palisade(active, "takeover", "foreign", "--dry-run")
	t.Logf("takeover (%v):\n%s", err, out)
	h.PowerCut((active + 1) % 3)
	time.Sleep(300 * time.Millisecond)
	out, err = h.Palisade(active, "status")
	t.Logf("status after cut (%v):\n%s", err, out)
	time.Sleep(3 * time.Second)
	out, err = h.Palisade(active, "status")
	t.Logf("status after fence (%v):\n%s", err, out)
}
