package node

import (
	"context"
	"fmt"
	"reflect"

	"palisade/cluster/auth"
	"palisade/cluster/config"
)

// Reload applies a new, already validated configuration (SIGHUP). The key
// file is re-read and swapped in (key rollover); the decoded sections for
// later stages are replaced. Changes to the cluster name, nodes, links or
// timing need a restart: they are reported in the error and the running
// values stay. On any error nothing changes.
func (n *Node) Reload(ctx context.Context, c *config.Cluster) error {
	keys, err := auth.Load(c.KeyFile)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	var restart []string
	err = n.do(ctx, func() {
		old := n.cfg
		if old.Name != c.Name {
			restart = append(restart, "cluster.name")
		}
		if !reflect.DeepEqual(withoutLines(old).Nodes, withoutLines(c).Nodes) {
			restart = append(restart, "nodes")
		}
		if !reflect.DeepEqual(withoutLines(old).Links, withoutLines(c).Links) {
			restart = append(restart, "links")
		}
		if old.Timing != c.Timing {
			restart = append(restart, "timing")
		}
		if old.Socket != c.Socket || old.StateDir != c.StateDir || old.RunDir != c.RunDir {
			restart = append(restart, "socket/state_dir/run_dir")
		}
		n.tr.SetKeys(keys)
		next := *old
		next.KeyFile = c.KeyFile
		next.Quorum, next.Fencing, next.Resources, next.AdminEpoch, next.Alerts = c.Quorum, c.Fencing, c.Resources, c.AdminEpoch, c.Alerts
		n.cfg = &next
		n.cur.Store(&next)
	})
	if err != nil {
		return err
	}
	n.mu.Lock()
	fns := n.onReload
	n.mu.Unlock()
	for _, fn := range fns {
		fn(n.Config())
	}
	n.log.Info("configuration reloaded", "key_file", c.KeyFile, "key_format", string(keys.Format), "active_key", keys.Active().ID)
	if len(restart) > 0 {
		return fmt.Errorf("reload: keys applied, but changes to %v need a restart (running values kept)", restart)
	}
	return nil
}

// withoutLines copies the node and link lists with line numbers cleared, so
// an edit elsewhere in the file does not look like a change.
func withoutLines(c *config.Cluster) config.Cluster {
	out := *c
	out.Nodes = append([]config.Node(nil), c.Nodes...)
	for i := range out.Nodes {
		out.Nodes[i].Line = 0
	}
	out.Links = append([]config.Link(nil), c.Links...)
	for i := range out.Links {
		out.Links[i].Line = 0
	}
	return out
}
