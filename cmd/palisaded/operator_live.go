package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/dcmsg"
	"palisade/cluster/dcrun"
	"palisade/cluster/node"
	"palisade/cluster/replica"
	"palisade/resources/model"
)

// handleLive serves `palisade simulate --live` (the DC's scheduler input)
// and the Heartbeat verbs' batched edits.
func handleLive(n *node.Node, rt *dcrun.Runtime, op *operator) {
	n.HandleControl(api.CmdSchedulerInput, func(ctx context.Context, _ json.RawMessage) (any, error) {
		s := rt.Snapshot()
		if s.Config == nil {
			return nil, api.Errorf(api.Retry, "this node has no resources configuration yet")
		}
		cfg, err := copyModel(s.Config)
		if err != nil {
			return nil, api.Errorf(api.Internal, "%v", err)
		}
		// Exactly what the DC's scheduler is given: the replicated
		// configuration, the status the DC built (on the DC) or last
		// replicated (elsewhere), and the wall clock.
		return api.SchedulerInput{Self: s.Self, DC: s.DC, Version: dcrun.APIVersion(s.CIB), Digest: s.Digest,
			FenceAction: op.fenceAction(s.Config), Now: s.Now,
			Document: model.Document{Now: s.Now, Config: *cfg, Status: s.Status}}, nil
	})
	names := make([]string, 0, len(op.cluster.Nodes))
	for _, nd := range op.cluster.Nodes {
		names = append(names, nd.Name)
	}
	n.HandleControl(api.CmdConfigEdits, func(ctx context.Context, args json.RawMessage) (any, error) {
		var a api.EditsRequest
		if err := decodeArgs(args, &a, `{"edits": [{"op":..., "node":..., "resource":...}], "by": WHO, "source": TEXT}`); err != nil {
			return nil, err
		}
		if len(a.Edits) == 0 {
			return nil, api.Errorf(api.BadRequest, "config edits: no edit given")
		}
		pctx, cancel := context.WithTimeout(ctx, api.PushTimeout)
		defer cancel()
		res, err := editAll(pctx, rt, a, op.self.Name, names)
		return configResult(res, err)
	})
}

// editAll makes every edit on the running configuration and proposes the
// result once, with that version's digest; when the configuration changed
// meanwhile it is redone on the new one (as dcrun.EditConfig does for one
// edit).
func editAll(ctx context.Context, rt *dcrun.Runtime, a api.EditsRequest, self string, nodes []string) (dcmsg.ConfigResult, error) {
	var words []string
	for i := range a.Edits {
		e := &a.Edits[i]
		if e.Node == "" && (e.Op == api.EditStandby || e.Op == api.EditOnline) {
			e.Node = self
		}
		e.By = ""
		words = append(words, e.String())
	}
	source := strings.Join(words, ", ")
	if a.Source != "" {
		source = a.Source + ": " + source
	}
	source += " by " + a.By
	for attempt := 1; ; attempt++ {
		ci, err := rt.ConfigInfo(ctx)
		if err != nil {
			return dcmsg.ConfigResult{}, err
		}
		cfg, err := copyModel(ci.Config)
		if err != nil {
			return dcmsg.ConfigResult{}, err
		}
		for _, e := range a.Edits {
			if err := replica.ApplyEdit(cfg, e, nodes); err != nil {
				code := api.Invalid
				switch {
				case e.Node != "" && !slices.Contains(nodes, e.Node):
					code = api.UnknownNode
				case strings.Contains(err.Error(), "unknown resource"):
					code = api.UnknownResource
				}
				return dcmsg.ConfigResult{}, &api.Error{Code: code, Message: err.Error()}
			}
		}
		res, err := rt.PushConfig(ctx, dcrun.PushRequest{Config: cfg, AdminEpoch: ci.Version.AdminEpoch, Source: source, BaseDigest: ci.Digest, Edits: a.Edits})
		if !res.Conflict || attempt == 5 {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}

// copyModel deep-copies a configuration (nil: an empty one): the
// replicated one is shared and must not change under its readers.
func copyModel(c *model.Config) (*model.Config, error) {
	out := &model.Config{}
	if c == nil {
		return out, nil
	}
	b, err := json.Marshal(c)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		return nil, fmt.Errorf("copying the running configuration: %w", err)
	}
	return out, nil
}
