package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/dcmsg"
	"palisade/cluster/dcrun"
	"palisade/cluster/node"
	"palisade/cluster/replica"
	"palisade/resources/model"
)

// handleConfig wires the configuration change paths into the node: SIGHUP
// (an edited resources section is proposed to the DC), and the control
// commands behind `palisade config push`, `edit` and `show`.
func handleConfig(ctx context.Context, n *node.Node, rt *dcrun.Runtime, log *slog.Logger) {
	n.OnReload(func(c *config.Cluster) {
		// c was decoded whole by the one decoder (config.Load) before the
		// node accepted it; a refused file never gets here.
		go proposeFileSection(ctx, rt, c.File, c.Resources, c.AdminEpoch, "SIGHUP "+c.File, api.PushTimeout, log, fileLocator(c.File))
	})
	n.HandleControl(api.CmdConfigPush, func(cctx context.Context, args json.RawMessage) (any, error) {
		var a api.PushRequest
		if err := decodeArgs(args, &a, `{"file": NAME, "yaml": TEXT, "by": WHO, "base_digest": DIGEST (optional)}`); err != nil {
			return nil, err
		}
		if a.YAML == "" {
			return nil, api.Errorf(api.BadRequest, "config push: the file's text is empty")
		}
		if a.File == "" {
			a.File = "(pushed configuration)"
		}
		// The one decoder, as `palisade config check` ran it before
		// sending: a whole cluster.yaml (every section checked) or a
		// resources section on its own.
		doc, err := config.ParseDocument(a.File, []byte(a.YAML))
		if err != nil {
			return nil, &api.Error{Code: api.Invalid, Message: err.Error()}
		}
		if doc.Resources == nil {
			return nil, api.Errorf(api.Invalid, "%s has no resources section: nothing to push", a.File)
		}
		pctx, cancel := context.WithTimeout(cctx, api.PushTimeout)
		defer cancel()
		res, err := rt.PushConfig(pctx, dcrun.PushRequest{Config: doc.Resources, AdminEpoch: doc.AdminEpoch, Source: fmt.Sprintf("config push %s by %s", a.File, a.By), BaseDigest: a.BaseDigest,
			Force: a.Force})
		var verr *dcrun.ValidationError
		if errors.As(err, &verr) {
			data := []byte(a.YAML)
			return nil, &api.Error{Code: api.Invalid, Message: verr.Locate(a.File, func(rsc, param string) int { return replica.LocateParam(data, rsc, param) })}
		}
		return configResult(res, err)
	})
	n.HandleControl(api.CmdConfigEdit, func(cctx context.Context, args json.RawMessage) (any, error) {
		var e api.Edit
		if err := decodeArgs(args, &e, `{"op": standby|online|move|ban|clear, "node": NAME, "resource": ID, "by": WHO}`); err != nil {
			return nil, err
		}
		if e.Op == "" {
			return nil, api.Errorf(api.BadRequest, "config edit: an operation is needed (standby, online, move, ban, clear)")
		}
		pctx, cancel := context.WithTimeout(cctx, api.PushTimeout)
		defer cancel()
		res, err := rt.EditConfig(pctx, e)
		return configResult(res, err)
	})
	n.HandleControl(api.CmdConfigShow, func(cctx context.Context, _ json.RawMessage) (any, error) {
		return rt.ConfigInfo(cctx)
	})
}

// configResult is the control API's answer to a push or an edit: the DC's
// acceptance, or a refusal with its code (invalid, conflict, retry when the
// cluster could not take it in time).
func configResult(res dcmsg.ConfigResult, err error) (any, error) {
	if err != nil {
		if api.CodeOf(err) == "" {
			code := api.Invalid
			if res.Error == "" {
				code = api.Timeout // no DC answered
			}
			return nil, &api.Error{Code: code, Message: err.Error()}
		}
		return nil, err
	}
	return api.ConfigResult{Unchanged: res.Unchanged, Version: dcrun.APIVersion(res.Version), Digest: res.Digest, DC: res.DC, Kept: res.Kept, Dropped: res.Dropped}, nil
}

// proposeFileSection proposes this node's configuration file section if
// it differs from the one the node last saw (a SIGHUP that only rolled
// the key, or a stale file, must not undo a change pushed elsewhere).
func proposeFileSection(ctx context.Context, rt *dcrun.Runtime, file string, cfg *model.Config, admin uint64, source string, timeout time.Duration, log *slog.Logger,
	line func(rsc, param string) int) {
	if cfg == nil {
		return
	}
	fd := replica.FileDigest(cfg, admin)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	seen, err := rt.FileDigestSeen(pctx)
	if err != nil || seen == fd {
		if err == nil {
			log.Info("resources section unchanged since this node last saw it: nothing to propose", "file", file)
		}
		return
	}
	res, err := rt.PushConfig(pctx, dcrun.PushRequest{Config: cfg, AdminEpoch: admin, Source: source, FileDigest: fd})
	var verr *dcrun.ValidationError
	if errors.As(err, &verr) && line != nil {
		log.Error("configuration change refused, the cluster's configuration is kept", "file", file, "err", verr.Locate(file, line))
		return
	}
	if err != nil {
		log.Error("configuration change refused, the cluster's configuration is kept (to apply the file anyway: palisade config push --force "+file+")",
			"file", file, "err", err.Error())
		return
	}
	if len(res.Kept) > 0 {
		log.Info("kept what operators set, which the file does not say", "file", file, "kept", strings.Join(res.Kept, "; "))
	}
	if res.Unchanged {
		log.Info("configuration file matches the cluster's configuration", "file", file, "version", res.Version.String())
		return
	}
	log.Info("configuration change accepted by the DC", "file", file, "dc", res.DC, "version", res.Version.String(), "digest", res.Digest)
}

// fileLocator finds the line of a resource's parameter in file (0 when the
// file cannot be read), for errors about a section proposed from it.
func fileLocator(file string) func(rsc, param string) int {
	return func(rsc, param string) int {
		data, err := os.ReadFile(file)
		if err != nil {
			return 0
		}
		return replica.LocateParam(data, rsc, param)
	}
}
