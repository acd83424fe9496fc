// Package eventlog is the cluster's decision log: one JSON object per line,
// each stamped with the host's CLOCK_MONOTONIC (so logs written by several
// daemons on one host, e.g. the netns lab, merge into one timeline) and the
// wall clock (for humans).
//
// The recovery gate, the DC loop, the fencer and the executor glue append
// to it; fault tests read it back with Read/Merge and check the one rule
// with recovery.Verify. Writing is append-only and each entry is a single
// write(2), so concurrent writers never interleave within a line.
//
//	l, err := eventlog.Open("/var/lib/palisade/events.jsonl", "n1")
//	l.Append(eventlog.Entry{Event: eventlog.NodeLost, Target: "n2"})
package eventlog
