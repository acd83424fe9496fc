package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"palisade/cluster/api"
	"palisade/resources/model"
)

// Heartbeat's hb_standby / hb_takeover modes.
const (
	modeAll      = "all"
	modeLocal    = "local"
	modeForeign  = "foreign"
	modeFailback = "failback" // Heartbeat's other name for foreign
)

func init() {
	for _, verb := range []string{"standby", "takeover"} {
		var dryRun bool
		var by string
		c := &cobra.Command{
			Use:       verb + " [all|local|foreign|failback]",
			ValidArgs: []string{modeAll, modeLocal, modeForeign, modeFailback},
			Args:      cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs),
			RunE: func(cmd *cobra.Command, args []string) error {
				mode := modeAll
				if len(args) == 1 {
					mode = args[0]
				}
				return runHeartbeatVerb(cmd.Context(), cmd.OutOrStdout(), verb, mode, by, dryRun)
			},
		}
		if verb == "standby" {
			c.Short = "Heartbeat's hb_standby: move resources away from this node (all: node standby)"
			c.Long = `Moves resources away from the node this runs on, as Heartbeat's hb_standby did.
"Preferred node" is where a resource's location constraint (the haresources
line it came from) puts it with the highest positive score.

  all (default)     this node goes into standby (palisade node standby): every
                    resource moves away and nothing starts here until
                    "palisade takeover" or "palisade node online"
  local             the resources this node is the preferred node for move away
  foreign|failback  the resources this node is not the preferred node for (the
                    ones it took over) move away: back to their preferred node

local and foreign ban each resource running here from this node
(cli-ban-RSC-on-NODE, as "palisade resource ban"; "palisade resource clear RSC"
or "palisade takeover" removes it). All edits are made as one configuration
change, recorded in the event log with your name. Clones are left alone.`
		} else {
			c.Short = "Heartbeat's hb_takeover: bring resources to this node (all: and out of standby)"
			c.Long = `Moves resources to the node this runs on, as Heartbeat's hb_takeover did (the
same as hb_standby on the other node).

  all (default)     this node leaves standby, and every resource not running
                    here moves here
  local             the resources this node is the preferred node for move here
  foreign|failback  the resources this node is not the preferred node for move here

Each resource moved gets the location constraint cli-prefer-RSC on this node
at INFINITY (as "palisade resource move"), after its earlier move or ban
constraints are cleared; "palisade resource clear RSC" removes it (with the
resource's stickiness it then stays here). A node in standby leaves it first.
All edits are made as one configuration change, recorded in the event log with
your name. Clones run everywhere already and are left alone.`
		}
		c.Flags().BoolVar(&dryRun, "dry-run", false, "print the edits and change nothing")
		c.Flags().StringVar(&by, "by", operatorName(), "who makes the change (logged with the name the kernel gives your uid)")
		rootCmd.AddCommand(c)
	}
}

func runHeartbeatVerb(ctx context.Context, w io.Writer, verb, mode, by string, dryRun bool) error {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := client().Status(qctx)
	if err != nil {
		return &exitError{exitCode(err), fmt.Errorf("%s: %w", verb, err)}
	}
	ci, err := client().Show(qctx)
	if err != nil {
		return &exitError{exitCode(err), fmt.Errorf("%s: %w", verb, err)}
	}
	if ci.Config == nil || st.DC == nil {
		return &exitError{exitRefused, fmt.Errorf("%s: this node has no resources configuration yet", verb)}
	}
	self := st.Node.Name
	edits, notes := heartbeatEdits(verb, mode, self, ci.Config, st.DC.Status, st.DC.Standby)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	if len(edits) == 0 {
		fmt.Fprintf(w, "%s %s on %s: nothing to do\n", verb, mode, self)
		return nil
	}
	var words []string
	for _, e := range edits {
		words = append(words, e.String())
	}
	fmt.Fprintf(w, "%s %s on %s: %s\n", verb, mode, self, strings.Join(words, ", "))
	if dryRun {
		return nil
	}
	ectx, ecancel := context.WithTimeout(ctx, api.PushTimeout+5*time.Second)
	defer ecancel()
	res, err := client().Edits(ectx, api.EditsRequest{Edits: edits, By: by, Source: verb + " " + mode})
	if err != nil {
		return &exitError{exitCode(err), fmt.Errorf("%s %s: %w", verb, mode, err)}
	}
	printPushResult(w, verb+" "+mode, res)
	return nil
}

// heartbeatEdits is what `palisade standby|takeover MODE` does on node
// self: the edits of the replicated configuration, and notes for the
// operator.
func heartbeatEdits(verb, mode, self string, cfg *model.Config, st model.Status, standby []string) ([]api.Edit, []string) {
	if mode == modeFailback {
		mode = modeForeign
	}
	inStandby := slices.Contains(standby, self)
	var edits []api.Edit
	var notes []string
	if verb == "standby" && mode == modeAll {
		if inStandby {
			return nil, []string{self + " is in standby already"}
		}
		return []api.Edit{{Op: api.EditStandby, Node: self}}, nil
	}
	if verb == "takeover" && inStandby {
		edits = append(edits, api.Edit{Op: api.EditOnline, Node: self})
	}
	for _, r := range cfg.Resources {
		if r.KindOf() == model.KindClone {
			notes = append(notes, fmt.Sprintf("%s: a clone, left alone", r.ID))
			continue
		}
		pref := preferredNode(cfg, r.ID)
		switch mode {
		case modeLocal:
			if pref != self {
				continue
			}
		case modeForeign:
			if pref == self {
				continue
			}
		}
		here := slices.Contains(runningOn(r, st), self)
		switch {
		case verb == "standby" && here:
			edits = append(edits, api.Edit{Op: api.EditClear, Resource: r.ID}, api.Edit{Op: api.EditBan, Resource: r.ID, Node: self})
		case verb == "takeover" && !here:
			edits = append(edits, api.Edit{Op: api.EditClear, Resource: r.ID}, api.Edit{Op: api.EditMove, Resource: r.ID, Node: self})
		}
	}
	if len(edits) == 1 && edits[0].Op == api.EditOnline && mode != modeAll {
		// Only the way out of standby: still what takeover means.
		notes = append(notes, self+" leaves standby")
	}
	return edits, notes
}

// preferredNode is where r's own location constraints put it with the
// highest positive score (a haresources line's node), "" for none. The
// CLI's cli- constraints do not count: they are operator moves.
func preferredNode(cfg *model.Config, id string) string {
	best, bestScore := "", model.Score(0)
	for _, l := range cfg.Constraints.Locations {
		if l.Rsc != id || l.Node == "" || len(l.Rules) > 0 || l.Role != "" || strings.HasPrefix(l.ID, "cli-") {
			continue
		}
		if l.Score > bestScore {
			best, bestScore = l.Node, l.Score
		}
	}
	return best
}

// runningOn lists the nodes where a primitive of r is active.
func runningOn(r *model.Resource, st model.Status) []string {
	var prims []string
	var walk func(r *model.Resource)
	walk = func(r *model.Resource) {
		if len(r.Members) == 0 {
			prims = append(prims, r.ID)
		}
		for _, m := range r.Members {
			walk(m)
		}
	}
	walk(r)
	var out []string
	for _, s := range st.Resources {
		for _, p := range prims {
			if _, ok := instanceOfPrim(s.Rsc, p); ok && !slices.Contains(out, s.Node) {
				out = append(out, s.Node)
			}
		}
	}
	slices.Sort(out)
	return out
}

func instanceOfPrim(rsc, id string) (string, bool) {
	if rsc == id {
		return "", true
	}
	if n, ok := strings.CutPrefix(rsc, id+":"); ok {
		return n, true
	}
	return "", false
}
