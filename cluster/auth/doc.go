// Package auth loads the cluster's shared keys and decides which of them
// sign and which verify.
//
// Load refuses a key file that is not a regular file with mode 0600 or
// stricter (no group or other bits), naming the file and its mode, as
// Heartbeat does for authkeys. Every parse error names file:line.
//
// Two formats are read. The native one:
//
//	# Palisade key file. Mode 0600. One key per line, then the active id.
//	key 1 hex:8f3a...        (at least 16 bytes; 32 random bytes recommended)
//	key 2 base64:q83v...
//	active 1
//
// Key ids are 1..65535. Make a key file with `palisade keygen -o FILE`
// (32 random bytes), or a secret with `head -c 32 /dev/urandom | base64`.
//
// Heartbeat's authkeys is accepted for migration:
//
//	auth 1
//	1 sha1 SomeSecretOf16CharactersOrMore
//
// The sha1 name only selects the derivation input: the wire MAC is always
// HMAC-SHA256, keyed by HKDF-SHA256(secret, info "palisade authkeys
// sha1"). Every secret must be at least 16 bytes (16 characters of an
// authkeys secret); `crc` (authenticates nothing) and `md5` are refused,
// each error saying to make a new key with `palisade keygen`.
//
// Rollover: the Keyring signs with the active key N and accepts N-1, N and
// N+1 (those present in the file). Accepting N+1 lets every node learn a
// new key before anyone sends with it; accepting N-1 lets nodes switch
// their active id one at a time without losing each other in between.
// Procedure: add key N+1 everywhere and reload; set `active N+1` on each
// node and reload; later remove key N.
//
//	kr, err := auth.Load("/etc/palisade/authkey")
//	enc := wire.NewEncoder(kr.Active())
//	dec := wire.NewDecoder(cluster, kr.Accepted()...)
package auth
