package api

import (
	"context"
	"errors"

	"palisade/cluster/node/control"
)

// Client calls a daemon's control socket with the typed requests.
type Client struct {
	Socket string
}

func call[Resp any](ctx context.Context, c Client, cmd string, req any) (Resp, error) {
	var out Resp
	err := control.Call(ctx, c.Socket, cmd, req, &out)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Code == "" {
		// A refusal the daemon gave no finer code: still a refusal, not
		// an unreachable daemon.
		err = &Error{Code: Refused, Message: ce.Message}
	}
	return out, err
}

// Status is `palisade status`.
func (c Client) Status(ctx context.Context) (Status, error) {
	return call[Status](ctx, c, CmdStatus, nil)
}

// Confirm is `palisade fence confirm`: the DC's decision.
func (c Client) Confirm(ctx context.Context, r ConfirmRequest) (ConfirmResponse, error) {
	return call[ConfirmResponse](ctx, c, CmdFenceConfirm, r)
}

// History is `palisade fence history`.
func (c Client) History(ctx context.Context) (History, error) {
	return call[History](ctx, c, CmdFenceHistory, nil)
}

// Devices is `palisade fence devices`.
func (c Client) Devices(ctx context.Context) (Devices, error) {
	return call[Devices](ctx, c, CmdFenceDevices, nil)
}

// Push is `palisade config push`.
func (c Client) Push(ctx context.Context, r PushRequest) (ConfigResult, error) {
	return call[ConfigResult](ctx, c, CmdConfigPush, r)
}

// Show is `palisade config show`.
func (c Client) Show(ctx context.Context) (ConfigInfo, error) {
	return call[ConfigInfo](ctx, c, CmdConfigShow, nil)
}

// Edit is `palisade node standby|online` and `palisade resource move|ban|clear`.
func (c Client) Edit(ctx context.Context, e Edit) (ConfigResult, error) {
	return call[ConfigResult](ctx, c, CmdConfigEdit, e)
}

// Cleanup is `palisade resource cleanup`.
func (c Client) Cleanup(ctx context.Context, r CleanupRequest) (CleanupResponse, error) {
	return call[CleanupResponse](ctx, c, CmdResourceCleanup, r)
}

// Edits is `palisade standby|takeover`: several edits as one change.
func (c Client) Edits(ctx context.Context, r EditsRequest) (ConfigResult, error) {
	return call[ConfigResult](ctx, c, CmdConfigEdits, r)
}

// SchedulerInput is `palisade simulate --live`.
func (c Client) SchedulerInput(ctx context.Context) (SchedulerInput, error) {
	return call[SchedulerInput](ctx, c, CmdSchedulerInput, nil)
}
