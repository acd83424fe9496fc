package quorum

import "fmt"

// DeviceModel names the kind of quorum device.
type DeviceModel string

const (
	// DeviceDisk is a shared quorum disk (package quorum/disk): a master
	// elected on the disk gives the disk's votes to one partition.
	DeviceDisk DeviceModel = "disk"
	// DeviceArbiter is a palisade-arbiter node reached over TLS (package
	// quorum/arbiter), which gives its votes to one partition per cluster.
	DeviceArbiter DeviceModel = "arbiter"
)

// Algorithm is how a quorum device chooses the partition it votes for
// (package quorum/arbitration holds the rules themselves).
type Algorithm string

const (
	// AlgorithmFFSplit ("fifty-fifty split", corosync-qnetd's ffsplit):
	// the device has one vote and gives it to the best partition that
	// holds at least half of the node votes; in an even split that vote
	// decides, in an odd one it confirms the majority.
	AlgorithmFFSplit Algorithm = "ffsplit"
	// AlgorithmLMS ("last man standing"): the device has the node votes
	// minus one and gives them to the best partition whatever its size, so
	// a single node that still reaches the device keeps quorum.
	AlgorithmLMS Algorithm = "lms"
)

// ParseAlgorithm checks an algorithm name; "" is the model's default
// (ffsplit for an arbiter, lms for a disk, as qnetd and qdiskd use them).
func ParseAlgorithm(s string, m DeviceModel) (Algorithm, error) {
	switch a := Algorithm(s); a {
	case "":
		if m == DeviceDisk {
			return AlgorithmLMS, nil
		}
		return AlgorithmFFSplit, nil
	case AlgorithmFFSplit, AlgorithmLMS:
		return a, nil
	}
	return "", fmt.Errorf("algorithm %q: want ffsplit or lms", s)
}

// Device is the quorum device part of Config. The zero value means no
// device.
type Device struct {
	Model     DeviceModel
	Algorithm Algorithm
	// Votes the device gives to the partition it votes for; 0 means the
	// algorithm's default: 1 for ffsplit, the sum of node votes minus one
	// for lms.
	Votes int
}

// resolve validates d and returns its votes (0 when there is no device).
func (d Device) resolve(nodeVotes int) (int, error) {
	switch d.Model {
	case "":
		if d.Votes != 0 || d.Algorithm != "" {
			return 0, fmt.Errorf("quorum: device votes/algorithm set without a device model (disk or arbiter)")
		}
		return 0, nil
	case DeviceDisk, DeviceArbiter:
	default:
		return 0, fmt.Errorf("quorum: device model %q: want disk or arbiter", d.Model)
	}
	alg, err := ParseAlgorithm(string(d.Algorithm), d.Model)
	if err != nil {
		return 0, fmt.Errorf("quorum: device: %w", err)
	}
	if d.Votes < 0 {
		return 0, fmt.Errorf("quorum: device votes %d: want >= 1 (or 0 for the default)", d.Votes)
	}
	if d.Votes > 0 {
		return d.Votes, nil
	}
	if alg == AlgorithmLMS {
		return max(nodeVotes-1, 1), nil
	}
	return 1, nil
}

// DeviceVote is what the quorum device currently says about this node's
// partition (its current view): the disk core's or the arbiter client's
// verdict.
type DeviceVote struct {
	// Voting: the device gives its votes to this partition now.
	Voting bool
	// Pending: the device has not yet answered for this view (it was just
	// installed). Like corosync's sync phase waiting for qdevice, the view
	// is then undecided: the daemon takes no decision (no fencing, no
	// start) and applies no no-quorum-policy until the device answers or
	// its sync timeout passes (the device sets Pending false then).
	Pending bool
	// Problem is a device health problem to show in status ("arbiter
	// 198.18.0.9:5403 unreachable: ..."), "" when healthy. It does not by
	// itself cost quorum: only the votes count.
	Problem string
}
