package membership

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Member is one node of a view, with the generation it had when it joined.
type Member struct {
	ID         NodeID
	Generation uint64
}

// View is a membership view: an id and the sorted member set.
type View struct {
	ID      uint64   // 0 while the first view is still forming
	Members []Member // sorted by ID; always includes this node
	DC      NodeID   // lowest member id
	Agreed  bool     // every member advertises this exact view
}

// Has reports whether id is a member.
func (v View) Has(id NodeID) bool {
	for _, m := range v.Members {
		if m.ID == id {
			return true
		}
	}
	return false
}

func (v View) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "view %d members=", v.ID)
	for i, m := range v.Members {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d:%d", m.ID, m.Generation)
	}
	fmt.Fprintf(&b, " dc=%d", v.DC)
	return b.String()
}

// membersHash identifies a member set (ids and generations) compactly so
// heartbeats can advertise it.
func membersHash(ms []Member) uint64 {
	// FNV-1a, inlined: this runs for every received heartbeat.
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	var buf [12]byte
	for _, m := range ms {
		binary.BigEndian.PutUint32(buf[:4], uint32(m.ID))
		binary.BigEndian.PutUint64(buf[4:], m.Generation)
		for _, c := range buf {
			h ^= uint64(c)
			h *= prime
		}
	}
	return h
}

// Advert is what a node says about its view in every heartbeat: enough for
// peers to converge on one view id and to tell whether they agree.
type Advert struct {
	ViewID uint64
	Hash   uint64 // hash of the member set (ids and generations)
}

// AdvertSize is the encoded size of an Advert.
const AdvertSize = 17

const advertVersion = 1

// MarshalBinary encodes the advert as a heartbeat payload.
func (a Advert) MarshalBinary() ([]byte, error) {
	b := make([]byte, AdvertSize)
	b[0] = advertVersion
	binary.BigEndian.PutUint64(b[1:9], a.ViewID)
	binary.BigEndian.PutUint64(b[9:17], a.Hash)
	return b, nil
}

// ParseAdvert decodes a heartbeat payload. Longer payloads are accepted so
// later versions can append fields.
func ParseAdvert(b []byte) (Advert, error) {
	if len(b) < AdvertSize {
		return Advert{}, fmt.Errorf("heartbeat payload: %d bytes, want at least %d", len(b), AdvertSize)
	}
	if b[0] != advertVersion {
		return Advert{}, errors.New("heartbeat payload: unknown version " + fmt.Sprint(b[0]))
	}
	return Advert{
		ViewID: binary.BigEndian.Uint64(b[1:9]),
		Hash:   binary.BigEndian.Uint64(b[9:17]),
	}, nil
}
