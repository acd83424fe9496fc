package auth

import (
	"bufio"
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"palisade/cluster/wire"
)

// MinSecret is the shortest secret accepted, in bytes (128 bits): of a
// native key, or characters of a Heartbeat authkeys sha1 secret.
const MinSecret = 16

// Parse reads key file data; name is used in error messages (file:line).
// It does not check file modes: use Load for files on disk.
func Parse(name string, data []byte) (*Keyring, error) {
	p := parser{name: name, kr: &Keyring{Source: name}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, p.line+1, err)
	}
	return p.finish()
}

type parser struct {
	name       string
	line       int
	kr         *Keyring
	activeLine int
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, p.line, fmt.Sprintf(format, args...))
}

func (p *parser) parseLine(text string) error {
	if i := strings.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	}
	f := strings.Fields(text)
	if len(f) == 0 {
		return nil
	}
	var format Format
	switch {
	case f[0] == "key" || f[0] == "active":
		format = FormatNative
	case f[0] == "auth" || isDigits(f[0]):
		format = FormatAuthkeys
	default:
		return p.errf("unknown directive %s: want `key ID SECRET` or `active ID` (or Heartbeat authkeys `auth N` / `N sha1 SECRET`)", quoteWord(f[0]))
	}
	if p.kr.Format != "" && p.kr.Format != format {
		return p.errf("%q line in a %s-format file: do not mix the two formats", f[0], p.kr.Format)
	}
	p.kr.Format = format
	switch {
	case f[0] == "key":
		return p.nativeKey(f)
	case f[0] == "active" || f[0] == "auth":
		return p.active(f)
	default:
		return p.authkeysKey(f)
	}
}

func (p *parser) active(f []string) error {
	if len(f) != 2 {
		return p.errf("want `%s ID`", f[0])
	}
	if p.activeLine != 0 {
		return p.errf("second %q line (first on line %d)", f[0], p.activeLine)
	}
	id, err := p.keyID(f[1])
	if err != nil {
		return err
	}
	p.kr.active = id
	p.activeLine = p.line
	return nil
}

func (p *parser) nativeKey(f []string) error {
	if len(f) != 3 {
		return p.errf("want `key ID hex:SECRET` or `key ID base64:SECRET`")
	}
	id, err := p.keyID(f[1])
	if err != nil {
		return err
	}
	enc, val, ok := strings.Cut(f[2], ":")
	var secret []byte
	switch {
	case !ok:
		return p.errf("key %d: secret must start with hex: or base64:", id)
	case enc == "hex":
		secret, err = hex.DecodeString(val)
	case enc == "base64":
		secret, err = base64.StdEncoding.DecodeString(val)
	default:
		return p.errf("key %d: unknown secret encoding before ':', want hex: or base64:", id)
	}
	if err != nil {
		// Never echo the secret, not even a bad one.
		return p.errf("key %d: secret is not valid %s", id, enc)
	}
	if len(secret) < MinSecret {
		return p.errf("key %d: secret is %d bytes, want at least %d; %s", id, len(secret), MinSecret, p.keygen())
	}
	return p.add(wire.Key{ID: id, Secret: secret})
}

func (p *parser) authkeysKey(f []string) error {
	id, err := p.keyID(f[0])
	if err != nil {
		return err
	}
	if len(f) < 2 {
		return p.errf("key %d: want `%d sha1|md5 SECRET`", id, id)
	}
	method := strings.ToLower(f[1])
	switch method {
	case "crc":
		return p.errf("key %d: method crc is refused: it authenticates nothing; %s", id, p.keygen())
	case "md5":
		return p.errf("key %d: method md5 is refused: too weak a digest for a key that lets a node order fencing; %s", id, p.keygen())
	case "sha1":
	default:
		// Never echo the word: a secret glued to the method (a real-world
		// typo, "1 sha1912d64...") would end up in logs.
		for _, m := range []string{"sha1", "md5", "crc"} {
			if strings.HasPrefix(method, m) {
				return p.errf("key %d: method %q... runs into the secret: put a space after %s", id, m, m)
			}
		}
		return p.errf("key %d: unknown method (%d characters), want sha1", id, len(f[1]))
	}
	if len(f) != 3 {
		return p.errf("key %d: want `%d %s SECRET` (one word secret)", id, id, method)
	}
	// Measured, never shown.
	if len(f[2]) < MinSecret {
		return p.errf("key %d: secret is %d characters, want at least %d; %s", id, len(f[2]), MinSecret, p.keygen())
	}
	secret, err := hkdf.Key(sha256.New, []byte(f[2]), nil, "palisade authkeys "+method, sha256.Size)
	if err != nil {
		return p.errf("key %d: deriving key: %v", id, err)
	}
	return p.add(wire.Key{ID: id, Secret: secret})
}

// keygen is the advice for a missing or weak key: make a strong one.
func (p *parser) keygen() string {
	return fmt.Sprintf("make a new key with `palisade keygen -o %s` and copy it (mode 0600) to every node", p.name)
}

func (p *parser) keyID(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, p.errf("key id %q: want a number 1..65535", s)
	}
	return uint16(n), nil
}

func (p *parser) add(k wire.Key) error {
	if _, dup := p.kr.Key(k.ID); dup {
		return p.errf("key %d defined twice", k.ID)
	}
	i, _ := slices.BinarySearchFunc(p.kr.keys, k.ID, func(a wire.Key, id uint16) int { return int(a.ID) - int(id) })
	p.kr.keys = slices.Insert(p.kr.keys, i, k)
	return nil
}

var errNoKeys = errors.New("no keys")

func (p *parser) finish() (*Keyring, error) {
	kr := p.kr
	if len(kr.keys) == 0 {
		return nil, fmt.Errorf("%s: %w: want `key ID SECRET` lines and `active ID` (or authkeys `auth N` and `N sha1 SECRET`)", p.name, errNoKeys)
	}
	if p.activeLine == 0 {
		if kr.Format == FormatAuthkeys {
			return nil, fmt.Errorf("%s: no `auth N` line saying which key to use", p.name)
		}
		return nil, fmt.Errorf("%s: no `active ID` line saying which key to send with", p.name)
	}
	if _, ok := kr.Key(kr.active); !ok {
		return nil, fmt.Errorf("%s:%d: active key %d is not defined (have %v)", p.name, p.activeLine, kr.active, kr.IDs())
	}
	return kr, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// quoteWord quotes a word for an error message unless it could be (part
// of) a secret: only short lowercase words are echoed.
func quoteWord(w string) string {
	if len(w) > 10 {
		return "(a long word)"
	}
	for _, c := range w {
		if c < 'a' || c > 'z' {
			return "(not a keyword)"
		}
	}
	return strconv.Quote(w)
}
