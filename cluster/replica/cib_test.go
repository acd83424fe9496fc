package replica

import (
	"testing"

	"palisade/resources/model"
)

func TestVersionOrderIsTotal(t *testing.T) {
	a := &CIB{Version: Version{Epoch: 2, NumUpdates: 3}, Digest: "aa"}
	b := &CIB{Version: Version{Epoch: 2, NumUpdates: 3}, Digest: "bb"}
	if Newer(a, b) != b || Newer(b, a) != b {
		t.Fatal("equal versions: the higher digest must win whichever side compares")
	}
	c := &CIB{Version: Version{Epoch: 3}, Digest: "00"}
	if Newer(b, c) != c {
		t.Fatal("epoch dominates digest and num_updates")
	}
	d := &CIB{Version: Version{AdminEpoch: 1}, Digest: "00"}
	if Newer(c, d) != d {
		t.Fatal("admin_epoch dominates epoch")
	}
}

func TestStartCIB(t *testing.T) {
	base := &model.Config{Resources: []*model.Resource{{ID: "a", Type: "Dummy"}}}
	edited := &model.Config{Resources: []*model.Resource{{ID: "b", Type: "Dummy"}}}
	cib, fd, propose := StartCIB(nil, base, 3)
	if cib.Version != (Version{AdminEpoch: 3, Epoch: 1}) || propose || fd != FileDigest(base, 3) {
		t.Fatalf("fresh start: %v %q %v", cib.Version, fd, propose)
	}
	p := &Persisted{Version: Version{Epoch: 7, NumUpdates: 40}, Config: edited, FileDigest: FileDigest(base, 0)}
	cib, _, propose = StartCIB(p, base, 0)
	if cib.Version != (Version{Epoch: 7}) || cib.Config != edited || propose {
		t.Fatalf("stale file: want the persisted 0.7.0 kept and nothing proposed, got %v %v", cib.Version, propose)
	}
	if _, _, propose = StartCIB(p, edited, 0); !propose {
		t.Fatal("a file edited while the node was down must be proposed")
	}
	if _, _, propose = StartCIB(p, base, 1); !propose {
		t.Fatal("a raised admin_epoch is an edit")
	}
}
