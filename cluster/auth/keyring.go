package auth

import (
	"slices"

	"palisade/cluster/wire"
)

// Format names the syntax a key file was written in.
type Format string

const (
	FormatNative   Format = "palisade"
	FormatAuthkeys Format = "authkeys"
)

// Keyring is the set of keys from one key file.
type Keyring struct {
	// Source is the file the keys came from (for logs; never the secrets).
	Source string
	Format Format
	active uint16
	keys   []wire.Key // sorted by ID
}

// Active is the key every outgoing packet is signed with.
func (k *Keyring) Active() wire.Key {
	key, _ := k.Key(k.active)
	return key
}

// Key returns the key with the given id.
func (k *Keyring) Key(id uint16) (wire.Key, bool) {
	i, ok := slices.BinarySearchFunc(k.keys, id, func(a wire.Key, id uint16) int { return int(a.ID) - int(id) })
	if !ok {
		return wire.Key{}, false
	}
	return k.keys[i], true
}

// IDs lists every key id in the file, ascending.
func (k *Keyring) IDs() []uint16 {
	ids := make([]uint16, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.ID
	}
	return ids
}

// Accepted returns the keys a receiver verifies with: the active id N and
// N-1 and N+1 if the file has them (see the package doc for why).
func (k *Keyring) Accepted() []wire.Key {
	var out []wire.Key
	for _, id := range []int{int(k.active) - 1, int(k.active), int(k.active) + 1} {
		if id < 1 || id > 65535 {
			continue
		}
		if key, ok := k.Key(uint16(id)); ok {
			out = append(out, key)
		}
	}
	return out
}
