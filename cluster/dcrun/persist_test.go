package dcrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palisade/cluster/replica"
	"palisade/resources/model"
)

func TestPersistRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if p, err := LoadPersisted(dir); p != nil || err != nil {
		t.Fatalf("empty dir: %v %v", p, err)
	}
	cfg := &model.Config{Resources: []*model.Resource{{ID: "a", Type: "Dummy"}}}
	want := replica.Persisted{Version: replica.Version{AdminEpoch: 1, Epoch: 4, NumUpdates: 2}, Digest: replica.ConfigDigest(cfg), Config: cfg, FileDigest: "x"}
	if err := SavePersisted(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadPersisted(dir)
	if err != nil || got.Version != want.Version || replica.ConfigDigest(got.Config) != want.Digest || got.FileDigest != "x" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, PersistFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPersisted(dir); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("corrupt file: %v", err)
	}
}
