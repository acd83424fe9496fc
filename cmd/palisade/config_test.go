package main

import (
	"bytes"
	"strings"
	"testing"

	"palisade/cluster/api"
	"palisade/cluster/dc"
)

// TestConfigShowPushRoundTrip: what `config show` prints, `config push`
// reads back as the same configuration (same digest, same admin_epoch).
func TestConfigShowPushRoundTrip(t *testing.T) {
	src := `admin_epoch: 3
options: {stonith-enabled: true, no-quorum-policy: stop}
rsc_defaults: {resource-stickiness: "100"}
resources:
  - id: grp
    kind: group
    members:
      - {id: vip, class: palisade, type: vip, params: {ip: 198.18.0.50}, ops: [{name: monitor, interval: 1s, timeout: 5s}]}
      - {id: dummy, class: ocf, provider: heartbeat, type: Dummy}
constraints:
  locations:
    - {id: grp-on-n2, rsc: grp, node: n2, score: INFINITY}
    - {id: grp-not-n3, rsc: grp, node: n3, score: -INFINITY}
`
	cfg, admin, err := dc.DecodeConfig("src.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	ci := api.ConfigInfo{Self: "n1", DC: "n1", Version: api.Version{AdminEpoch: admin, Epoch: 4, NumUpdates: 9}, Digest: dc.ConfigDigest(cfg), Config: cfg}
	if err := printConfig(&b, ci); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "# palisade configuration version 3.4.9 digest ") {
		t.Fatalf("header: %s", b.String())
	}
	back, admin2, err := dc.DecodeConfig("shown.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("config show output refused by config push: %v\n%s", err, b.String())
	}
	if admin2 != 3 || dc.ConfigDigest(back) != ci.Digest {
		t.Fatalf("round trip changed the configuration (admin %d):\n%s", admin2, b.String())
	}
	// The file remembers the version it was shown from.
	if got := api.ShownDigest(b.Bytes()); got != ci.Digest {
		t.Fatalf("digest of the shown file: %q, want %q", got, ci.Digest)
	}
	if got := api.ShownDigest([]byte("# my notes\nresources: []\n")); got != "" {
		t.Fatalf("digest of a hand-written file: %q", got)
	}
	var out bytes.Buffer
	printPushResult(&out, "f.yaml", api.ConfigResult{DC: "n1", Version: api.Version{Epoch: 5, NumUpdates: 1}, Digest: "abcdef0123456789"})
	if got := out.String(); got != "f.yaml: accepted by the DC n1 as version 0.5.1 (digest abcdef012345)\n" {
		t.Fatalf("push output %q", got)
	}
}
