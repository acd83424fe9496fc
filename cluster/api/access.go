package api

import (
	"time"

	"palisade/resources/model"
)

// Access says what a command may do to the cluster.
type Access int

const (
	// Read commands only report; root and the read group may run them.
	Read Access = iota
	// Change commands change the cluster (configuration, fencing,
	// fail counts); only root and the admin group may run them.
	Change
)

func (a Access) String() string {
	if a == Read {
		return "read"
	}
	return "change"
}

// CommandInfo declares a command's access. By: its request carries a "by"
// field naming who made the change, which the control socket fills from
// the caller's credentials.
type CommandInfo struct {
	Access Access
	By     bool
}

// Commands declares every command of the control API. The control socket
// treats a command missing here as a change.
var Commands = map[string]CommandInfo{
	"help":             {Access: Read},
	CmdStatus:          {Access: Read},
	CmdFenceHistory:    {Access: Read},
	CmdConfigShow:      {Access: Read},
	CmdSchedulerInput:  {Access: Read},
	CmdFenceConfirm:    {Access: Change, By: true},
	CmdConfigPush:      {Access: Change, By: true},
	CmdConfigEdit:      {Access: Change, By: true},
	CmdConfigEdits:     {Access: Change, By: true},
	CmdResourceCleanup: {Access: Change, By: true},
}

// AccessOf is cmd's declared access (Change for an undeclared command).
func AccessOf(cmd string) CommandInfo {
	if ci, ok := Commands[cmd]; ok {
		return ci
	}
	return CommandInfo{Access: Change}
}

// EditsRequest is several edits made as one change (the Heartbeat verbs
// `palisade standby|takeover`): all are applied to the running
// configuration and proposed once, so no intermediate state is scheduled.
type EditsRequest struct {
	Edits []Edit `json:"edits"`
	By    string `json:"by"`
	// Source names the command for the event log ("takeover all").
	Source string `json:"source,omitempty"`
}

// SchedulerInput is the running cluster's scheduler input as the DC
// schedules it (`palisade simulate --live`, crm_simulate -L): the
// replicated configuration, the status, the time, and the fence action.
type SchedulerInput struct {
	Self        string         `json:"self"`
	DC          string         `json:"dc"`
	Version     Version        `json:"version"`
	Digest      string         `json:"digest,omitempty"`
	FenceAction string         `json:"fence_action"`
	Now         time.Time      `json:"now"`
	Document    model.Document `json:"document"`
}
