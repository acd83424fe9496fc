package importer

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"palisade/cluster/auth"
)

// authkeysLine is one key of an authkeys file; the secret never leaves
// this file except through auth.Parse.
type authkeysLine struct {
	line   int
	id     int
	method string
	secret string
}

// authkeys converts Heartbeat's authkeys into a native key file holding
// the keys the daemon would derive from authkeys itself (auth.Parse), so
// that importing on each node separately gives the same key everywhere and
// a node still running on the old authkeys file interoperates.
func (c *converter) authkeys(src *Source) {
	file := src.Name
	var active, activeLine int
	var keys []authkeysLine
	sc := bufio.NewScanner(bytes.NewReader(src.Data))
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		at := fmt.Sprintf("%s:%d", file, line)
		if f[0] == "auth" {
			if len(f) != 2 {
				c.rep.notConverted(at, "auth ...", "want `auth N`")
				continue
			}
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 1 || n > 15 {
				c.rep.notConverted(at, "auth "+f[1], "want a key number 1..15")
				continue
			}
			active, activeLine = n, line
			continue
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 || n > 15 {
			// Never echo the line: it may be a secret on a line of its own.
			c.rep.notConverted(at, "(line not shown)", "want `auth N` or `N sha1 SECRET` with N in 1..15")
			continue
		}
		k := authkeysLine{line: line, id: n}
		if len(f) > 1 {
			k.method = f[1]
		}
		if len(f) > 2 {
			k.secret = strings.Join(f[2:], " ")
		}
		keys = append(keys, k)
	}
	if active == 0 {
		c.rep.notConverted(file, "(no auth line)", "authkeys has no `auth N` line saying which key signs; Heartbeat refuses it too.\n%s", keygenAdvice(c.p.keyFile))
		return
	}
	var good []authkeysLine
	activeOK := false
	lines := map[int][]int{}
	for _, k := range keys {
		lines[k.id] = append(lines[k.id], k.line)
	}
	for _, k := range keys {
		at := fmt.Sprintf("%s:%d", file, k.line)
		desc := fmt.Sprintf("key %d (%s)", k.id, describeMethod(k.method))
		reason := weakness(k)
		if l := lines[k.id]; len(l) > 1 {
			// Which one the nodes use is not ours to guess.
			reason = fmt.Sprintf("key %d is defined on lines %d and %d", k.id, l[0], l[1])
		}
		switch {
		case reason == "":
			good = append(good, k)
			if k.id == active {
				activeOK = true
			}
		case k.id == active:
			c.rep.notConverted(at, desc, "the active key is refused: %s.\n%s", reason, keygenAdvice(c.p.keyFile))
		default:
			c.rep.notNeeded(at, desc, "not the active key and refused (%s): left out", reason)
		}
	}
	if !slices.ContainsFunc(keys, func(k authkeysLine) bool { return k.id == active }) {
		c.rep.notConverted(fmt.Sprintf("%s:%d", file, activeLine), fmt.Sprintf("auth %d", active), "no key %d in the file; Heartbeat refuses it too.\n%s", active, keygenAdvice(c.p.keyFile))
		return
	}
	if !activeOK {
		return
	}
	// Derive through the daemon's own parser: one definition of the key.
	var b strings.Builder
	fmt.Fprintf(&b, "auth %d\n", active)
	for _, k := range good {
		fmt.Fprintf(&b, "%d %s %s\n", k.id, strings.ToLower(k.method), k.secret)
	}
	kr, err := auth.Parse(file, []byte(b.String()))
	if err != nil {
		c.rep.notConverted(file, "(keys)", "%v", err)
		return
	}
	var out strings.Builder
	fmt.Fprintf(&out, "# Palisade key file converted from %s by palisade config import.\n", file)
	out.WriteString("# Keep it mode 0600 and identical on every node. Rollover: add key N+1 on\n# every node, switch `active` node by node, then remove key N.\n")
	for _, id := range kr.IDs() {
		k, _ := kr.Key(id)
		fmt.Fprintf(&out, "key %d hex:%s\n", id, hex.EncodeToString(k.Secret))
	}
	fmt.Fprintf(&out, "active %d\n", kr.Active().ID)
	c.res.addSecret(c.p.keyFile, []byte(out.String()))
	ids := make([]string, len(good))
	for i, k := range good {
		ids[i] = strconv.Itoa(k.id)
	}
	c.rep.converted(file, fmt.Sprintf("auth %d, keys %s (sha1)", active, strings.Join(ids, ", ")),
		"key file %s (mode 0600; auth.key_file), the same keys palisaded derives from this authkeys", c.p.keyFile)
	if src.Mode&0o077 != 0 {
		c.rep.warn("%s is mode %04o: anyone on the host could read the cluster secret. The new key file is 0600; "+
			"consider a new key altogether (`palisade keygen -o %s`, then copy it to every node)", file, src.Mode, c.p.keyFile)
	}
}

func describeMethod(m string) string {
	switch lm := strings.ToLower(m); {
	case lm == "sha1" || lm == "md5" || lm == "crc":
		return lm
	case m == "":
		return "no method"
	default:
		return "unknown method"
	}
}

// weakness says why a key is refused, "" if it is kept. The secret is
// measured, never shown.
func weakness(k authkeysLine) string {
	m := strings.ToLower(k.method)
	switch {
	case m == "crc":
		return "crc authenticates nothing (anyone can forge packets, including fencing requests)"
	case m == "md5":
		return "Palisade converts sha1 keys only (md5 is too weak a digest for a key that lets a node order fencing)"
	case m == "sha1":
	case strings.HasPrefix(m, "sha1") || strings.HasPrefix(m, "md5"):
		return "the method runs into the secret (no space after it): Heartbeat could not read it either"
	case m == "":
		return "no method and secret"
	default:
		return "unknown method (want sha1)"
	}
	switch {
	case k.secret == "":
		return "sha1 without a secret"
	case strings.Contains(k.secret, " "):
		return "the secret has a space in it: Palisade reads one-word secrets"
	case len(k.secret) < auth.MinSecret:
		return fmt.Sprintf("the secret is %d characters, want at least %d", len(k.secret), auth.MinSecret)
	}
	return ""
}

func keygenAdvice(keyFile string) string {
	return fmt.Sprintf("Create a new key with `palisade keygen -o %s` on one node and copy that file (mode 0600) to every node", keyFile)
}

// KeySize is the size of a generated secret: 256 bits.
const KeySize = 32

// NewKeyFile returns a native key file with one new random key (id 1,
// active), as `palisade keygen` writes it.
func NewKeyFile(rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	secret := make([]byte, KeySize)
	if _, err := io.ReadFull(rnd, secret); err != nil {
		return nil, fmt.Errorf("keygen: reading random bytes: %w", err)
	}
	out := fmt.Sprintf("# Palisade key file written by palisade keygen. Keep it mode 0600 and\n"+
		"# identical on every node.\nkey 1 base64:%s\nactive 1\n", base64.StdEncoding.EncodeToString(secret))
	// The daemon's parser must accept what we write.
	if _, err := auth.Parse("generated key", []byte(out)); err != nil {
		return nil, fmt.Errorf("keygen: %w", err)
	}
	return []byte(out), nil
}
