package eventlog

import (
	"log/slog"
	"strings"
	"time"
)

// Mirrored reports whether Describe turns entries of this kind into log
// lines. The kinds it leaves out are logged by whoever appends them in
// their own words already (membership's "peer state", the VIP agent's
// "VIP added", the DC runtime's "ALERT"), so no decision is logged twice.
func Mirrored(event string) bool {
	switch event {
	case HeartbeatLost, NodeReturned, DaemonStarted, VIPAdded, GARPSent, Alert:
		return false
	}
	return true
}

// Describe is the log line for an entry of the event log: one message
// per kind of decision, saying what was decided about what and why, with
// the entry's fields as attributes. ok is false for the kinds that are
// not mirrored (see Mirrored).
func Describe(e Entry) (level slog.Level, msg string, attrs []any, ok bool) {
	if !Mirrored(e.Event) {
		return 0, "", nil, false
	}
	level = slog.LevelInfo
	add := func(k string, v any) { attrs = append(attrs, k, v) }
	str := func(k, v string) {
		if v != "" {
			add(k, v)
		}
	}
	switch e.Event {
	case NodeLost:
		level, msg = slog.LevelWarn, "node lost: its resources stay where they were until it is fenced"
		if e.Detail != "" {
			msg = "node lost (" + e.Detail + "): its resources stay where they were until it is fenced"
		}
	case NodeLeaving:
		msg = "node leaving: its resources move away"
	case NodeLeft:
		msg = "node left cleanly: no fencing needed"
	case QuorumChanged:
		msg = "quorum gained"
		if e.Detail != "quorate" {
			level, msg = slog.LevelWarn, "no quorum: this partition takes no recovery decision"
		}
	case FenceNeeded:
		level, msg = slog.LevelWarn, "fence needed"
	case FenceScheduled:
		level, msg = slog.LevelWarn, "fence scheduled"
	case FenceRequested:
		level, msg = slog.LevelWarn, "fence requested"
	case FenceDevice:
		msg = "fence device succeeded"
		if e.OK == nil || !*e.OK {
			level, msg = slog.LevelError, "fence device failed"
		}
	case FenceFailed:
		level, msg = slog.LevelError, "fence failed: retrying"
	case FenceConfirmed:
		level, msg = slog.LevelWarn, "fence confirmed"
		if strings.HasPrefix(e.By, "operator:") {
			msg = "fence confirmed by an operator"
		}
	case FenceWithdrawn:
		level, msg = slog.LevelWarn, "fence request withdrawn: this partition lost its authority"
	case FenceAdopted:
		msg = "fence state adopted from the DC"
	case FenceDelegated:
		level, msg = slog.LevelWarn, "fence of this node delegated to a peer"
	case Probed:
		msg = "resource probed"
	case ViewStale:
		level, msg = slog.LevelWarn, "membership not evaluated recently: deciding nothing"
	case StartAllowed:
		msg = "recovery: start allowed"
	case StartDenied:
		msg = "recovery: start held back"
	case ActionSent:
		msg = "DC: action sent"
	case ActionRefused:
		level, msg = slog.LevelWarn, "DC: action refused by the node"
	case ActionResult:
		msg = "action result: success"
		if e.OK != nil && !*e.OK {
			level, msg = slog.LevelWarn, "action result: failed"
		}
	case DCElected:
		msg = "this node is the DC"
	case FailuresCleared:
		msg = "fail count cleared"
	case "config_changed":
		msg = "configuration changed"
	default:
		msg = "event " + e.Event
	}
	add("event", e.Event)
	str("target", e.Target)
	str("resource", e.Resource)
	str("action", e.Action)
	str("node", e.Node)
	if len(e.Resources) > 0 {
		add("resources", strings.Join(e.Resources, ","))
	}
	if e.Attempt != 0 {
		add("attempt", e.Attempt)
	}
	str("device", e.Device)
	str("by", e.By)
	if e.OK != nil && e.Event != FenceDevice && e.Event != ActionResult {
		add("ok", *e.OK)
	}
	if e.DelayMS != 0 {
		add("delay", (time.Duration(e.DelayMS) * time.Millisecond).String())
	}
	if e.View != 0 {
		add("view", e.View)
	}
	switch e.Event {
	case FenceNeeded, StartDenied, StartAllowed, FenceFailed, FenceWithdrawn, ActionRefused:
		str("reason", e.Detail)
	default:
		str("detail", e.Detail)
	}
	return level, msg, attrs, true
}
