package dc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"palisade/cluster/config"
	"palisade/cluster/node"
	"palisade/resources/model"
)

// handleConfig wires the configuration change paths into the node: SIGHUP
// (an edited resources section is proposed to the DC), and the control
// commands behind `palisade config push` and `palisade config show`.
func handleConfig(ctx context.Context, n *node.Node, rt *Runtime, log *slog.Logger) {
	n.OnReload(func(c *config.Cluster) {
		cfg, admin, err := decodeSection(c.File, c.Resources)
		if err != nil {
			log.Error("reload: resources section refused, the cluster's configuration is kept", "err", err.Error())
			return
		}
		go proposeFileSection(ctx, rt, c.File, cfg, admin, "SIGHUP "+c.File, PushTimeout, log)
	})
	n.HandleControl(CmdConfigPush, func(cctx context.Context, args json.RawMessage) (any, error) {
		var a PushArgs
		if err := json.Unmarshal(args, &a); err != nil || a.YAML == "" {
			return nil, fmt.Errorf("config-push: want {\"file\": NAME, \"yaml\": TEXT, \"by\": WHO}")
		}
		if a.File == "" {
			a.File = "(pushed configuration)"
		}
		cfg, admin, err := DecodeConfig(a.File, []byte(a.YAML))
		if err != nil {
			return nil, err
		}
		pctx, cancel := context.WithTimeout(cctx, PushTimeout)
		defer cancel()
		res, err := rt.PushConfig(pctx, PushRequest{Config: cfg, AdminEpoch: admin, Source: fmt.Sprintf("config push %s by %s", a.File, a.By), BaseDigest: a.BaseDigest})
		if err != nil {
			return nil, err
		}
		return res, nil
	})
	n.HandleControl(CmdConfigEdit, func(cctx context.Context, args json.RawMessage) (any, error) {
		var e Edit
		if err := json.Unmarshal(args, &e); err != nil || e.Op == "" {
			return nil, fmt.Errorf("config-edit: want {\"op\": standby|online|move|ban|clear, \"node\": NAME, \"resource\": ID, \"by\": WHO}")
		}
		pctx, cancel := context.WithTimeout(cctx, PushTimeout)
		defer cancel()
		return rt.EditConfig(pctx, e)
	})
	n.HandleControl(CmdConfigShow, func(cctx context.Context, _ json.RawMessage) (any, error) {
		return rt.ConfigInfo(cctx)
	})
}

// proposeFileSection proposes this node's configuration file section if
// it differs from the one the node last saw (a SIGHUP that only rolled
// the key, or a stale file, must not undo a change pushed elsewhere).
func proposeFileSection(ctx context.Context, rt *Runtime, file string, cfg *model.Config, admin uint64, source string, timeout time.Duration, log *slog.Logger) {
	if cfg == nil {
		return
	}
	fd := FileDigest(cfg, admin)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	seen, err := rt.FileDigestSeen(pctx)
	if err != nil || seen == fd {
		if err == nil {
			log.Info("resources section unchanged since this node last saw it: nothing to propose", "file", file)
		}
		return
	}
	res, err := rt.PushConfig(pctx, PushRequest{Config: cfg, AdminEpoch: admin, Source: source, FileDigest: fd})
	if err != nil {
		log.Error("configuration change refused, the cluster's configuration is kept", "file", file, "err", err.Error())
		return
	}
	if res.Unchanged {
		log.Info("configuration file matches the cluster's configuration", "file", file, "version", res.Version.String())
		return
	}
	log.Info("configuration change accepted by the DC", "file", file, "dc", res.DC, "version", res.Version.String(), "digest", shortDigest(res.Digest))
}
