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
//
// palisaded opens it with OpenWith: by default state_dir/events.jsonl,
// rotated when it would pass Options.MaxBytes (64 MiB; PATH.1 ... PATH.3
// kept), and mirrored into the daemon's slog log (Options.Logger): every
// entry becomes one line with one message per kind of decision (Describe),
// so the default log states every fence request, result and operator
// confirmation and every recovery decision with its reason, with or without
// the file. Log.Source gives the membership layer and the DC runtime their
// own handles on the one file: observers (Observe) see which wrote an entry,
// and membership's entries are not mirrored (membership logs its changes in
// its own lines).
package eventlog
