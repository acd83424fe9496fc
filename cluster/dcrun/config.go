package dcrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/dcmsg"
	"palisade/cluster/replica"

	"palisade/resources/model"
)

// PushRequest is a configuration change submitted on this node.
type PushRequest struct {
	Config     *model.Config
	AdminEpoch uint64
	Source     string
	// FileDigest is set when the change is this node's own configuration
	// file (SIGHUP, start-up with an edited file): once the DC accepts
	// it, the node remembers the file as seen.
	FileDigest string
	// BaseDigest, Force and Edits: see Proposal.
	BaseDigest string
	Force      bool
	Edits      []replica.Edit
}

// ProposalTimeout bounds the wait for the DC's answer to one proposal;
// after it the proposal is sent again (the DC may have changed).
const ProposalTimeout = 5 * time.Second

// PushConfig proposes a configuration to the DC and waits for its answer.
// Refusals that may pass later (no DC, no quorum, a DC rebuilding status,
// no answer) are retried every 500ms until ctx ends; a configuration the
// DC judged bad is returned at once as an error, and nothing changed.
func (r *Runtime) PushConfig(ctx context.Context, req PushRequest) (dcmsg.ConfigResult, error) {
	var last dcmsg.ConfigResult
	if len(req.Edits) == 0 {
		// The agents check the changed resources first, on the nodes that
		// may run them: a change they refuse is never proposed.
		if err := r.validateChange(ctx, req.Config); err != nil {
			return dcmsg.ConfigResult{}, err
		}
	}
	for {
		res, err := r.proposeOnce(ctx, req)
		if err == nil && res.Error == "" {
			if req.FileDigest != "" {
				r.do(func() {
					r.fileDigest = req.FileDigest
					r.persist(r.eng.Coordinator().CIB())
				})
			}
			return res, nil
		}
		if err == nil {
			last = res
			if !res.Retry {
				return res, res.Err()
			}
		}
		select {
		case <-ctx.Done():
			if last.Error != "" {
				return last, fmt.Errorf("configuration not applied: %w (gave up: %v)", last.Err(), ctx.Err())
			}
			return last, fmt.Errorf("configuration not applied: no answer from the DC: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (r *Runtime) proposeOnce(ctx context.Context, req PushRequest) (dcmsg.ConfigResult, error) {
	answer := make(chan dcmsg.ConfigResult, 1)
	var id string
	r.do(func() {
		r.proposals++
		id = fmt.Sprintf("%s/%d", r.self(), r.proposals)
		r.waiting[id] = answer
		r.eng.Propose(dcmsg.Proposal{ID: id, Config: req.Config, AdminEpoch: req.AdminEpoch, Source: req.Source, BaseDigest: req.BaseDigest,
			Force: req.Force, Edits: req.Edits}, r.cfg.Now())
	})
	t := time.NewTimer(ProposalTimeout)
	defer t.Stop()
	select {
	case res := <-answer:
		return res, nil
	case <-t.C:
	case <-ctx.Done():
	}
	r.do(func() { delete(r.waiting, id) })
	return dcmsg.ConfigResult{}, errors.New("no answer from the DC")
}

// ConfigInfo returns this node's replica of the configuration.
func (r *Runtime) ConfigInfo(ctx context.Context) (api.ConfigInfo, error) {
	c := make(chan api.ConfigInfo, 1)
	r.do(func() {
		cib := r.eng.Coordinator().CIB()
		c <- api.ConfigInfo{Self: r.self(), DC: r.eng.Coordinator().DC(), Version: APIVersion(cib.Version), Digest: cib.Digest, Config: cib.Config}
	})
	select {
	case ci := <-c:
		return ci, nil
	case <-ctx.Done():
		return api.ConfigInfo{}, fmt.Errorf("config show: the DC runtime does not answer: %w", ctx.Err())
	}
}

// FileDigestSeen is the digest of the configuration file section this node
// last started from or had accepted.
func (r *Runtime) FileDigestSeen(ctx context.Context) (string, error) {
	c := make(chan string, 1)
	r.do(func() { c <- r.fileDigest })
	select {
	case d := <-c:
		return d, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// persist writes the replica to state_dir (loop goroutine).
func (r *Runtime) persist(cib *replica.CIB) {
	if r.cfg.StateDir == "" || cib == nil || cib.Config == nil {
		return
	}
	p := replica.PersistedOf(cib, r.fileDigest, r.eng.Coordinator().View())
	if err := SavePersisted(r.cfg.StateDir, p); err != nil {
		r.log.Error("persisting the replicated configuration", "err", err)
		return
	}
	r.log.Debug("replicated configuration persisted", "version", cib.Version.String(), "digest", shortDigest(cib.Digest))
}

// APIVersion is v as the control API carries it.
func APIVersion(v replica.Version) api.Version {
	return api.Version{AdminEpoch: v.AdminEpoch, Epoch: v.Epoch, NumUpdates: v.NumUpdates}
}

func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// EditConfig makes an operator's edit (node standby, resource move...) on
// the running configuration and proposes it with that version's digest.
// When the DC's configuration changed meanwhile (or this node's replica was
// behind), the edit is made again on the new one, up to a few times.
func (r *Runtime) EditConfig(ctx context.Context, e replica.Edit) (dcmsg.ConfigResult, error) {
	if e.Node == "" && (e.Op == replica.EditStandby || e.Op == replica.EditOnline || e.Op == replica.EditMaintenance || e.Op == replica.EditReady) {
		e.Node = r.self() // hb_standby: this node
	}
	for attempt := 1; ; attempt++ {
		ci, err := r.ConfigInfo(ctx)
		if err != nil {
			return dcmsg.ConfigResult{}, err
		}
		cfg, err := copyConfig(ci.Config)
		if err != nil {
			return dcmsg.ConfigResult{}, err
		}
		if err := replica.ApplyEdit(cfg, e, r.cfg.Coordinator.Nodes); err != nil {
			return dcmsg.ConfigResult{}, err
		}
		res, err := r.PushConfig(ctx, PushRequest{Config: cfg, AdminEpoch: ci.Version.AdminEpoch, Source: e.String(), BaseDigest: ci.Digest, Edits: []replica.Edit{e}})
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

// copyConfig deep-copies a configuration (nil: an empty one).
func copyConfig(c *model.Config) (*model.Config, error) {
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
