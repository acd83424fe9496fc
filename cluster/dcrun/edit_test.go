package dcrun

import (
	"context"
	"strings"
	"testing"
	"time"

	"palisade/cluster/dcmsg"
	"palisade/cluster/replica"
)

// Edits run through the DC like a push: move, standby and clear take the
// resource where they say, and a proposal made on an outdated version is
// refused as a conflict instead of undoing the newer one.
func TestRuntimeEditConfig(t *testing.T) {
	fc := startFailCluster(t, nil, "")
	waitFor(t, func() bool { return fc.runs("n2") }, "db on n2, the node it prefers")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	edit := func(on string, e replica.Edit) dcmsg.ConfigResult {
		t.Helper()
		res, err := fc.rts[on].EditConfig(ctx, e)
		if err != nil {
			t.Fatalf("%s on %s: %v", e, on, err)
		}
		return res
	}
	if res := edit("n3", replica.Edit{Op: replica.EditMove, Resource: "db", Node: "n3", By: "tester"}); !res.Accepted {
		t.Fatalf("move: %+v", res)
	}
	waitFor(t, func() bool { return fc.runs("n3") && !fc.runs("n2") }, "db moved to n3")
	edit("n3", replica.Edit{Op: replica.EditStandby}) // no node: this one, as hb_standby
	waitFor(t, func() bool { return fc.runs("n2") && !fc.runs("n3") }, "db left n3 for standby")
	if sb := fc.rts["n1"].Snapshot().Standby; len(sb) != 1 || sb[0] != "n3" {
		t.Fatalf("standby nodes: %v", sb)
	}
	edit("n2", replica.Edit{Op: replica.EditOnline, Node: "n3"})
	waitFor(t, func() bool { return fc.runs("n3") }, "db back on n3 (the move still holds)")
	edit("n2", replica.Edit{Op: replica.EditClear, Resource: "db"})
	waitFor(t, func() bool { return fc.runs("n2") && !fc.runs("n3") }, "db back on n2 after clear (stickiness 0)")
	if res := edit("n2", replica.Edit{Op: replica.EditClear, Resource: "db"}); !res.Unchanged {
		t.Errorf("a second clear changed something: %+v", res)
	}

	ci, _ := fc.rts["n1"].ConfigInfo(ctx)
	res, err := fc.rts["n1"].PushConfig(ctx, PushRequest{Config: ci.Config, BaseDigest: "0123stale"})
	if err == nil || !res.Conflict || !strings.Contains(err.Error(), "changed while this change was prepared") {
		t.Fatalf("stale base: %+v %v", res, err)
	}
}
