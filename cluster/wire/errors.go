package wire

// Reason is why Decode refused a packet. It is an error value itself so
// callers can both errors.Is a specific cause and index counters by it.
type Reason uint8

const (
	ErrTruncated    Reason = iota + 1 // shorter than its own length fields say
	ErrMalformed                      // bad magic, empty cluster, trailing bytes
	ErrVersion                        // a wire version this build does not speak
	ErrWrongCluster                   // signed for another cluster name
	ErrUnknownKey                     // key id not in the accepted set
	ErrBadMAC                         // MAC does not match: forged or corrupted
)

// NumReasons bounds Reason values, for arrays indexed by Reason.
const NumReasons = int(ErrBadMAC) + 1

var reasonNames = [...]string{
	ErrTruncated:    "truncated",
	ErrMalformed:    "malformed",
	ErrVersion:      "version",
	ErrWrongCluster: "wrong_cluster",
	ErrUnknownKey:   "unknown_key",
	ErrBadMAC:       "bad_mac",
}

// String is the counter name (snake_case, stable: status output uses it).
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "unknown_reason"
}

func (r Reason) Error() string { return "wire: packet dropped: " + r.String() }
