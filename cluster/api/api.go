// Package api is the control API between palisaded and the palisade CLI
// (and any other client of the daemon's unix socket): the command names,
// one request and one response type per command, and the error codes a
// refusal carries. Both sides use these types, so nothing is matched on
// error text and nothing travels as an untyped map.
//
// The wire form is cluster/node/control's: one JSON request line
// {"cmd": NAME, "args": REQUEST}, one JSON response {"ok", "result",
// "error", "code"} per request.
package api

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"palisade/resources/model"
)

// Commands.
const (
	CmdStatus          = "status"           // StatusRequest → Status
	CmdFenceConfirm    = "fence-confirm"    // ConfirmRequest → ConfirmResponse
	CmdFenceHistory    = "fence-history"    // (none) → History
	CmdFenceDevices    = "fence-devices"    // (none) → Devices
	CmdConfigPush      = "config-push"      // PushRequest → ConfigResult
	CmdConfigShow      = "config-show"      // (none) → ConfigInfo
	CmdConfigEdit      = "config-edit"      // Edit → ConfigResult
	CmdResourceCleanup = "resource-cleanup" // CleanupRequest → CleanupResponse
	CmdSchedulerInput  = "scheduler-input"  // (none) → SchedulerInput
	CmdConfigEdits     = "config-edits"     // EditsRequest → ConfigResult
)

// Code classifies a refusal.
type Code string

// Error codes.
const (
	// BadRequest: the request itself is malformed (missing argument).
	BadRequest Code = "bad_request"
	// Invalid: the DC (or the daemon) judged the content and refused it
	// (a configuration that does not validate, a member to "confirm").
	Invalid Code = "invalid"
	// Conflict: the change was made on a configuration that changed
	// meanwhile; redo it on the running one.
	Conflict Code = "conflict"
	// Retry: the cluster cannot decide now (no DC, view not agreed, no
	// quorum, status being collected); the same request may pass later.
	Retry Code = "retry"
	// UnknownNode and UnknownResource: a name the configuration lacks.
	UnknownNode     Code = "unknown_node"
	UnknownResource Code = "unknown_resource"
	// Timeout: no answer from the DC in time.
	Timeout Code = "timeout"
	// Refused: the daemon refused without a finer code.
	Refused Code = "refused"
	// Internal: a bug; the message says where.
	Internal Code = "internal"
	// Forbidden: the caller's credentials (SO_PEERCRED) do not allow the
	// command (see Commands).
	Forbidden Code = "forbidden"
)

// Error is a refusal with its code.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// ErrorCode is what cluster/node/control sends as the response's code.
func (e *Error) ErrorCode() string { return string(e.Code) }

// Errorf returns an *Error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err (or of an error it wraps): an *Error, or
// the code a control response carried; "" if none (for a Client's error:
// no daemon answered).
func CodeOf(err error) Code {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return Code(c.ErrorCode())
	}
	return ""
}

// Timeouts the daemon applies; a client waits a little longer.
const (
	// OperatorTimeout bounds an operator command (confirm, cleanup)
	// waiting for the DC's decision.
	OperatorTimeout = 10 * time.Second
	// PushTimeout bounds a push or an edit retrying while the cluster
	// cannot take the change yet (no DC, no quorum, collecting status).
	PushTimeout = 20 * time.Second
)

// ConfirmRequest is `palisade fence confirm NODE`.
type ConfirmRequest struct {
	Node string `json:"node"`
	By   string `json:"by"`
}

// ConfirmResponse is the DC's acceptance.
type ConfirmResponse struct {
	Node   string `json:"node"`
	DC     string `json:"dc"`
	Result string `json:"result"`
}

// CleanupRequest is `palisade resource cleanup RSC [--node N]` (no Node:
// every member).
type CleanupRequest struct {
	Resource string `json:"resource"`
	Node     string `json:"node,omitempty"`
	By       string `json:"by"`
}

// CleanupResponse names the nodes asked to clear and probe again.
type CleanupResponse struct {
	Resource string   `json:"resource"`
	Nodes    []string `json:"nodes"`
	DC       string   `json:"dc"`
}

// PushRequest is `palisade config push FILE`: the file's text, decoded by
// the daemon so errors name the file and line.
type PushRequest struct {
	File string `json:"file"`
	YAML string `json:"yaml"`
	By   string `json:"by"`
	// BaseDigest is the digest of the configuration the file was shown
	// from (its "palisade config show" comment); empty: no check.
	BaseDigest string `json:"base_digest,omitempty"`
	// Force: accept it even if it drops what operators set (cli-
	// constraints of resources it no longer has).
	Force bool `json:"force,omitempty"`
}

// Version orders copies of the replicated configuration (Pacemaker's
// admin_epoch.epoch.num_updates).
type Version struct {
	AdminEpoch uint64 `json:"admin_epoch"`
	Epoch      uint64 `json:"epoch"`
	NumUpdates uint64 `json:"num_updates"`
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.AdminEpoch, v.Epoch, v.NumUpdates) }

// SameConfig reports whether v and w are the same configuration (status
// updates, num_updates, aside).
func (v Version) SameConfig(w Version) bool {
	return v.AdminEpoch == w.AdminEpoch && v.Epoch == w.Epoch
}

// ConfigResult is the DC's acceptance of a push or an edit (refusals come
// as an *Error).
type ConfigResult struct {
	// Unchanged: the configuration already was this one (nothing bumped).
	Unchanged bool    `json:"unchanged,omitempty"`
	Version   Version `json:"version"`
	Digest    string  `json:"digest,omitempty"`
	DC        string  `json:"dc,omitempty"`
	// Kept lists what operators set that the change carried over from
	// the running configuration (move, ban, standby, maintenance);
	// Dropped what a forced change dropped.
	Kept    []string `json:"kept,omitempty"`
	Dropped []string `json:"dropped,omitempty"`
}

// Edit operations (Pacemaker's meanings).
const (
	EditStandby = "standby" // node standby: its resources move away
	EditOnline  = "online"  // node out of standby
	EditMove    = "move"    // location cli-prefer-RSC: RSC on NODE at INFINITY
	EditBan     = "ban"     // location cli-ban-RSC-on-NODE at -INFINITY
	EditClear   = "clear"   // remove the cli- constraints of RSC
	// EditMaintenance puts a node in maintenance: its resources are left
	// alone (not monitored, not stopped, not moved); EditReady ends it.
	EditMaintenance = "maintenance"
	EditReady       = "ready"
)

// Edit is one operator change made without a file.
type Edit struct {
	Op       string `json:"op"`
	Node     string `json:"node,omitempty"`
	Resource string `json:"resource,omitempty"`
	By       string `json:"by,omitempty"`
}

// String is the edit as the event log shows it.
func (e Edit) String() string {
	s := e.Op
	for _, w := range []string{e.Resource, e.Node} {
		if w != "" {
			s += " " + w
		}
	}
	if e.By != "" {
		s += " by " + e.By
	}
	return s
}

// ConfigInfo is the running replicated configuration (`palisade config
// show`).
type ConfigInfo struct {
	Self    string        `json:"self"`
	DC      string        `json:"dc"`
	Version Version       `json:"version"`
	Digest  string        `json:"digest"`
	Config  *model.Config `json:"config"`
}

// Header is the comment line `palisade config show` writes first: the
// version and digest a file was taken from, which ShownDigest reads back
// when the file is pushed, so a push made on an older version is refused.
func (ci ConfigInfo) Header() string {
	return fmt.Sprintf("# palisade configuration version %s digest %s on %s (DC %s)", ci.Version, ci.Digest, ci.Self, ci.DC)
}

var shownRe = regexp.MustCompile(`(?m)^# palisade configuration version \S+ digest ([0-9a-f]{12,64})\b`)

// ShownDigest is the digest in a file's Header line, "" for a file that
// did not come from `palisade config show`.
func ShownDigest(data []byte) string {
	if m := shownRe.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

// FenceNode is one node's fence lifecycle state.
type FenceNode struct {
	Node     string `json:"node"`
	State    string `json:"state"` // member, unclean, fencing, fenced, down, unknown
	Member   bool   `json:"member"`
	Reason   string `json:"reason,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	Failures int    `json:"failures,omitempty"`
	By       string `json:"confirmed_by,omitempty"`
}

// FenceStep is one device's result within a fence attempt.
type FenceStep struct {
	Level       int           `json:"level"`
	Device      string        `json:"device"`
	OK          bool          `json:"ok"`
	VerifiedOff bool          `json:"verified_off"`
	Error       string        `json:"error,omitempty"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	// Result is what the step came to: ok, refused, unreachable,
	// login-denied, timeout, unverified, cancelled, ... (fence.Class).
	Result string `json:"result,omitempty"`
	// Delay is what the step waited before using the device.
	Delay time.Duration `json:"delay_ns,omitempty"`
	// Note is the device's remark (who confirmed a manual fence).
	Note string `json:"note,omitempty"`
}

// FenceAttempt is one entry of the cluster-wide fence history: a fence
// attempt, an operator's confirmation (Action "confirm") or a fence order
// a node refused (Action "refuse").
type FenceAttempt struct {
	Target string `json:"target"`
	// Level is the level that fenced the node, or the last level tried.
	Level   int           `json:"level"`
	Devices string        `json:"devices,omitempty"`
	Steps   []FenceStep   `json:"steps,omitempty"`
	Error   string        `json:"error,omitempty"`
	Start   time.Time     `json:"start"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// ID identifies the entry cluster-wide.
	ID     string `json:"id,omitempty"`
	Action string `json:"action,omitempty"`
	// Origin is who asked (the DC that decided, operator:NAME); Reason
	// why; Executor the node that ran it.
	Origin   string    `json:"origin,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Executor string    `json:"executor,omitempty"`
	Attempt  int       `json:"attempt,omitempty"`
	End      time.Time `json:"end,omitzero"`
	// Result: ok (fenced, or confirmed), or what it failed of.
	Result string `json:"result,omitempty"`
}

// Fenced reports whether the entry proves its target off.
func (a FenceAttempt) Fenced() bool { return a.Result == "ok" }

// History is `palisade fence history`: every node's fence lifecycle state
// and the cluster-wide history (the same on every node), oldest first.
type History struct {
	Nodes    []FenceNode    `json:"nodes"`
	Attempts []FenceAttempt `json:"attempts"`
	// Node is the node that answered.
	Node string `json:"node,omitempty"`
}

// FenceDevice is one fence device and its last monitor check, as the
// node that answers sees it.
type FenceDevice struct {
	Name    string   `json:"name"`
	Plugin  string   `json:"plugin"`
	Targets []string `json:"targets,omitempty"`
	// Unmonitored says why the device is not checked.
	Unmonitored string `json:"unmonitored,omitempty"`
	// Checked: a check ended; the fields below describe the last one.
	Checked bool          `json:"checked"`
	OK      bool          `json:"ok"`
	Result  string        `json:"result,omitempty"`
	Error   string        `json:"error,omitempty"`
	Time    time.Time     `json:"time,omitzero"`
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Reused: the check ran on a session kept from the previous one.
	Reused bool   `json:"reused,omitempty"`
	State  string `json:"state,omitempty"`
	// Failures is the number of failed checks in a row; Alerted: they
	// raised an alert.
	Failures int  `json:"failures,omitempty"`
	Alerted  bool `json:"alerted,omitempty"`
	Checks   int  `json:"checks"`
	Failed   int  `json:"failed"`
	// Skipped counts checks left out while a fence used the device.
	Skipped int `json:"skipped,omitempty"`
}

// Devices is `palisade fence devices`.
type Devices struct {
	Node string `json:"node"`
	// Interval is the monitor's interval (0: monitoring is off).
	Interval time.Duration `json:"interval_ns"`
	Devices  []FenceDevice `json:"devices"`
}
