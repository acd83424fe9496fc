package topology

import "time"

// NodePriority is one configured node's input to PriorityDelay.
type NodePriority struct {
	Name string
	// Priority is the sum of the priorities (meta priority) of the
	// resources the node runs, a promoted instance counting priority+1
	// when its priority is not 0, failed resources not at all (as
	// Pacemaker's scheduler adds them up).
	Priority int
	// Online: a member of the partition that fences.
	Online bool
}

// PriorityDelay is Pacemaker's priority-fencing-delay: how long a fence of
// target decided by the partition of the online nodes waits before its
// first device. The node running the more important resources must win a
// fence race, so a fence aimed at it waits (and the fence it aims at the
// other side does not): the delay applies only when
//
//   - it is configured (delay > 0),
//   - the target is not in the fencing partition,
//   - that partition holds no more than half the nodes (with a majority
//     there is no race to settle: the other side cannot fence),
//   - the nodes do not all have the same priority, and
//   - the target has the highest priority of all nodes.
//
// Otherwise it is 0, and only the devices' own delays apply. The request
// carrying it is delayed once, before the first device of the first
// level; device delays (delay_base, delay_max) add to it.
func PriorityDelay(delay time.Duration, target string, nodes []NodePriority) time.Duration {
	if delay <= 0 {
		return 0
	}
	var t *NodePriority
	online := 0
	top, low := 0, 0
	for i, n := range nodes {
		if n.Name == target {
			t = &nodes[i]
		}
		if n.Online {
			online++
		}
		if i == 0 || n.Priority > top {
			top = n.Priority
		}
		if i == 0 || n.Priority < low {
			low = n.Priority
		}
	}
	switch {
	case t == nil, t.Online:
		return 0
	case online > len(nodes)/2:
		return 0
	case low == top:
		return 0
	case t.Priority < top:
		return 0
	}
	return delay
}
