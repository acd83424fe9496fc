package apcsnmp

import (
	"context"
	"crypto/md5" //nolint:gosec // SNMP v3 HMAC-MD5-96 (RFC 3414) is what the PDU speaks
	"crypto/sha1"
	"fmt"
	"hash"

	"github.com/gosnmp/gosnmp"
)

// The USM keys (RFC 3414 A.2) hash a megabyte of the repeated passphrase.
// gosnmp does it 64 bytes per call and, for AES, a third time for a key
// extension AES-128 does not need: 15 ms of a one-shot fence_apc_snmp. So
// the engine is discovered first (unauthenticated, as gosnmp would) and
// the localized keys computed here in one pass each and handed to gosnmp,
// which then neither discovers nor derives. usm_test.go checks the keys
// equal gosnmp's own for every protocol pair the plugin offers.

// passwordToKey is RFC 3414's password-to-key: the hash of 1 MiB of the
// passphrase repeated.
func passwordToKey(newHash func() hash.Hash, pass string) []byte {
	const size = 1 << 20
	buf := make([]byte, size)
	n := copy(buf, pass)
	for n < size {
		// Copying a whole number of passphrases keeps the pattern's phase.
		n += copy(buf[n:], buf[:n])
	}
	h := newHash()
	h.Write(buf)
	return h.Sum(nil)
}

// localizedKey is the key of pass for engine (RFC 3414 A.2.2).
func localizedKey(newHash func() hash.Hash, pass, engine string) []byte {
	ku := passwordToKey(newHash, pass)
	h := newHash()
	h.Write(ku)
	h.Write([]byte(engine))
	h.Write(ku)
	return h.Sum(nil)
}

func hashOf(p gosnmp.SnmpV3AuthProtocol) func() hash.Hash {
	if p == gosnmp.SHA {
		return sha1.New
	}
	return md5.New
}

// usmKeys returns the authentication and privacy keys for engine: the
// localized keys, the AES-128 privacy key cut to its 16 bytes (DES takes
// its key and pre-IV from the first 16 itself), exactly as gosnmp keeps
// them.
func usmKeys(cfg Config, engine string) (auth, priv []byte) {
	if cfg.Level == gosnmp.NoAuthNoPriv || cfg.AuthProto == gosnmp.NoAuth {
		return nil, nil
	}
	h := hashOf(cfg.AuthProto)
	auth = localizedKey(h, cfg.AuthPass, engine)
	if cfg.Level == gosnmp.AuthPriv && cfg.PrivProto != gosnmp.NoPriv {
		priv = localizedKey(h, cfg.PrivPass, engine)
		if cfg.PrivProto == gosnmp.AES {
			priv = priv[:16]
		}
	}
	return auth, priv
}

// discoverEngine asks the agent for its engine ID, boots and time with an
// unauthenticated probe, as gosnmp does before its first v3 request.
func discoverEngine(ctx context.Context, cfg Config) (*gosnmp.UsmSecurityParameters, error) {
	g := &gosnmp.GoSNMP{
		Target: cfg.Host, Port: uint16(cfg.Port), Transport: "udp", Version: gosnmp.Version3,
		Timeout: cfg.Timeout, Retries: cfg.Retries, Context: ctx,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.NoAuthNoPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: cfg.Username},
	}
	if err := g.Connect(); err != nil {
		return nil, err
	}
	defer g.Conn.Close()
	// The probe is answered with the engine's parameters; the request after
	// it (unauthenticated) is refused, which does not matter here.
	_, err := g.Get([]string{OIDSysObjectID})
	sp, ok := g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok || len(sp.AuthoritativeEngineID) < 5 {
		if err == nil {
			err = fmt.Errorf("no engine ID in the answer")
		}
		return nil, fmt.Errorf("discovering the SNMP engine: %w", err)
	}
	return sp, nil
}
