package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/user"
	"slices"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Peer is the process at the other end of a connection, as the kernel
// reports it (SO_PEERCRED, SO_PEERGROUPS): not what the client claims.
type Peer struct {
	PID    int32    `json:"pid"`
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
	// User is the account name of UID ("" when it has none).
	User string `json:"user,omitempty"`
}

// Name is the user name, or "uid N" for an account without one.
func (p Peer) Name() string {
	if p.User != "" {
		return p.User
	}
	return fmt.Sprintf("uid %d", p.UID)
}

// InGroup reports whether gid is the peer's primary or a supplementary
// group.
func (p Peer) InGroup(gid uint32) bool { return p.GID == gid || slices.Contains(p.Groups, gid) }

type peerKey struct{}

// PeerFrom returns the credentials of the connection a handler serves.
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// WithPeer returns ctx carrying p (for tests of handlers).
func WithPeer(ctx context.Context, p Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// peerOf reads the kernel's credentials of c's peer.
func peerOf(c *net.UnixConn) (Peer, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("reading the peer's credentials: %w", err)
	}
	var p Peer
	var credErr, groupsErr error
	if err := rc.Control(func(fd uintptr) {
		uc, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil {
			credErr = err
			return
		}
		p = Peer{PID: uc.Pid, UID: uc.Uid, GID: uc.Gid}
		// The peer's supplementary groups at connect time (Linux 4.13+).
		p.Groups, groupsErr = peerGroups(int(fd))
	}); err != nil {
		credErr = err
	}
	if credErr != nil {
		return Peer{}, fmt.Errorf("reading the peer's credentials (SO_PEERCRED): %w", credErr)
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(p.UID), 10))
	if err != nil {
		return p, nil
	}
	p.User = u.Username
	if groupsErr != nil {
		// An older kernel: the groups the account is configured in.
		if ids, err := u.GroupIds(); err == nil {
			for _, s := range ids {
				if g, err := strconv.ParseUint(s, 10, 32); err == nil {
					p.Groups = append(p.Groups, uint32(g))
				}
			}
		}
	}
	return p, nil
}

func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for range 4 {
		n := uint32(len(buf) * 4)
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch errno {
		case 0:
			return buf[:n/4], nil
		case syscall.ERANGE:
			buf = make([]uint32, n/4+1)
		default:
			return nil, fmt.Errorf("SO_PEERGROUPS: %w", errno)
		}
	}
	return nil, fmt.Errorf("SO_PEERGROUPS: group list keeps growing")
}

// Policy decides which peer may run which command. Root may run every
// command; ReadGID's members the commands Classify calls read-only;
// AdminGID's members every command. A command Classify does not know is a
// change.
type Policy struct {
	ReadGID, AdminGID *uint32
	// Classify returns whether cmd changes the cluster and whether its
	// request carries a "by" field to fill from the credentials. Nil:
	// every command is a change without "by".
	Classify func(cmd string) (change, by bool)
}

// shared reports whether a non-root user may connect at all.
func (p Policy) shared() bool { return p.ReadGID != nil || p.AdminGID != nil }

// allows decides whether peer may run cmd; the error says why not.
func (p Policy) allows(peer Peer, cmd string) (change, by bool, err error) {
	change, by = true, false
	if p.Classify != nil {
		change, by = p.Classify(cmd)
	}
	if peer.UID == 0 {
		return change, by, nil
	}
	admin := p.AdminGID != nil && peer.InGroup(*p.AdminGID)
	read := admin || p.ReadGID != nil && peer.InGroup(*p.ReadGID)
	switch {
	case admin:
		return change, by, nil
	case read && !change:
		return change, by, nil
	case read:
		return change, by, fmt.Errorf("permission denied: %s (uid %d) may read the cluster's status but %q changes it: it needs root or the admin group%s",
			peer.Name(), peer.UID, cmd, groupHint(p.AdminGID))
	default:
		return change, by, fmt.Errorf("permission denied: %s (uid %d) is neither root nor in the read group%s or the admin group%s",
			peer.Name(), peer.UID, groupHint(p.ReadGID), groupHint(p.AdminGID))
	}
}

func groupHint(gid *uint32) string {
	if gid == nil {
		return " (none configured)"
	}
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(*gid), 10)); err == nil {
		return " " + g.Name
	}
	return fmt.Sprintf(" (gid %d)", *gid)
}

// ByOf is how the event log names who made a change: the account the
// kernel reports, with the name the client claimed when it differs (a
// `sudo palisade ...` run says "root (as alice)").
func ByOf(peer Peer, claimed string) string {
	who := peer.Name()
	if claimed != "" && claimed != who {
		return who + " (as " + claimed + ")"
	}
	return who
}

// stampBy sets args' "by" field from the peer's credentials.
func stampBy(args json.RawMessage, peer Peer) (json.RawMessage, string, error) {
	var m map[string]json.RawMessage
	if len(bytes.TrimSpace(args)) > 0 {
		if err := json.Unmarshal(args, &m); err != nil {
			return nil, "", fmt.Errorf("want a JSON object as args: %w", err)
		}
	}
	if m == nil { // no args, or null
		m = map[string]json.RawMessage{}
	}
	var claimed string
	if raw, ok := m["by"]; ok {
		if err := json.Unmarshal(raw, &claimed); err != nil {
			return nil, "", fmt.Errorf("by: want a string: %w", err)
		}
	}
	by := ByOf(peer, claimed)
	b, _ := json.Marshal(by)
	m["by"] = b
	out, err := json.Marshal(m)
	return out, by, err
}
