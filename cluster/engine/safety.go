package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"palisade/fence/topology"
	"palisade/quorum"
)

// SafetyDigestOf digests what every node must agree on to decide safely
// who fences and who takes over: the quorum section (votes, expected votes,
// two_node, wait_for_all, last_man_standing, auto_tie_breaker and the
// no-quorum policy) and the fencing policy (enabled, startup fencing,
// static and random fence-race delays). Device definitions may differ per
// node (a password file path), so they are left out.
func SafetyDigestOf(q *quorum.Section, f *topology.Config) string {
	type fencing struct {
		Enabled        bool
		StartupFencing bool
		StaticDelay    map[string]time.Duration
		RandomDelayMax time.Duration
	}
	b, _ := json.Marshal(struct {
		Quorum  *quorum.Section
		Fencing fencing
	}{q, fencing{f.Enabled, f.StartupFencing, f.StaticDelay, f.RandomDelayMax}})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
