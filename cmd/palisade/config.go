package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/resources/model"
)

func init() {
	configCmd := &cobra.Command{Use: "config", Short: "The cluster configuration: check a file, show and change the running one"}

	var by string
	var force bool
	push := &cobra.Command{
		Use:   "push FILE",
		Short: "Propose FILE's resources section as the cluster's configuration",
		Long: `Sends the resources section of FILE (a whole cluster.yaml, or the section on
its own as printed by "palisade config show") to the local palisaded, which
forwards it to the DC. The DC checks it (the scheduler's model, then a dry
run of the scheduler), bumps the configuration epoch and replicates it to
every node, which keeps it in its state_dir; resources then move as the new
configuration says. A configuration the DC refuses changes nothing.

FILE is checked first as "palisade config check FILE" checks it (a whole
cluster.yaml is checked whole), and nothing is sent if it has any error.
Only the resources section is replicated (resources, constraints, options,
rsc_defaults, nodes). Raise admin_epoch in it to force it over any copy with
a lower admin_epoch. Changes need a quorate partition.

A file written by "palisade config show" names the version it was taken from
(its first comment line). If the cluster's configuration changed since, the
push is refused, so it cannot undo someone else's change: show again and redo
the edit, or push with --force.

What operators decided with edits (palisade resource move/ban, node
standby/maintenance) is kept: the DC carries the cli- constraints and those
node flags over into the pushed configuration (the output lists them). If
that is impossible (a ban of a resource the file no longer has), the push is
refused, saying what would be dropped; --force drops it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			// Check locally first: config check, the same decoder as the
			// daemon's, so every mistake is reported with its line before
			// anything is sent.
			data, doc, err := checkFile(cmd.ErrOrStderr(), "config push", file)
			if err != nil {
				return err
			}
			if doc.Resources == nil {
				return &exitError{exitBadInput, fmt.Errorf("config push: %s has no resources section: nothing to push", file)}
			}
			pa := api.PushRequest{File: file, YAML: string(data), By: by, Force: force}
			if !force {
				pa.BaseDigest = api.ShownDigest(data)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), api.PushTimeout+5*time.Second)
			defer cancel()
			res, err := client().Push(ctx, pa)
			if err != nil {
				if api.CodeOf(err) == api.Conflict {
					err = fmt.Errorf("%w\n%s was taken from an older version: run \"palisade config show\" again and redo the change, or push with --force", err, file)
				}
				return &exitError{exitCode(err), fmt.Errorf("config push %s: %w", file, err)}
			}
			printPushResult(cmd.OutOrStdout(), file, res)
			return nil
		},
	}
	push.Flags().StringVar(&by, "by", operatorName(), "who makes the change (logged)")
	push.Flags().BoolVar(&force, "force", false, "push even if the cluster's configuration changed since the file was shown, or if it drops what operators set")

	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print this node's copy of the replicated configuration and its version",
		Long: `Prints the resources section this node runs with, as YAML that "palisade
config push" accepts, after a comment line with its version
(admin_epoch.epoch.num_updates) and digest. Every node of a settled cluster
shows the same admin_epoch.epoch and digest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			ci, err := client().Show(ctx)
			if err != nil {
				return &exitError{3, fmt.Errorf("config show: %w", err)}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(ci)
			}
			return printConfig(w, ci)
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	configCmd.AddCommand(checkCmd(), push, show, configImportCmd())
	rootCmd.AddCommand(configCmd)
}

func checkCmd() *cobra.Command {
	var host bool
	var node string
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Check a configuration file offline: exit 0 if valid, 2 with every error if not",
		Long: `Checks FILE with the decoder palisaded runs at start-up, on SIGHUP and on
every push: a whole cluster.yaml (every section: cluster, nodes, links,
timing, auth, quorum with its device and heuristics, fencing, resources,
alerts) or a resources section on its own, as "palisade config show" prints
it. Every error of every section is printed at once, one a line:

    FILE:LINE: key.path: problem, valid keys here: ...

and the exit status is 2; a valid file prints a summary and exits 0. No
daemon is needed. "palisade config push" runs this check before it sends.

With --host, a cluster.yaml is also checked against this machine as
palisaded would check it here: the links' interfaces exist and the key file
is mode 0600 with a strong key (fence devices are checked by palisaded
itself, which has the fence plugins).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if host {
				c, err := config.Load(file, config.Options{Self: node})
				if err != nil {
					return refused(cmd.ErrOrStderr(), "config check", file, err)
				}
				printSummary(cmd.OutOrStdout(), file, &config.Document{Cluster: c, Resources: c.Resources, AdminEpoch: c.AdminEpoch})
				return nil
			}
			_, doc, err := checkFile(cmd.ErrOrStderr(), "config check", file)
			if err != nil {
				return err
			}
			printSummary(cmd.OutOrStdout(), file, doc)
			return nil
		},
	}
	cmd.Flags().BoolVar(&host, "host", false, "also check what depends on this machine (interfaces, key file)")
	cmd.Flags().StringVar(&node, "node", "", "with --host: the node this machine is (default: the host name)")
	return cmd
}

// checkFile reads and decodes a file as config check and config push do;
// a refused file has its errors written to stderr, one a line.
func checkFile(stderr io.Writer, what, file string) ([]byte, *config.Document, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, &exitError{exitBadInput, fmt.Errorf("%s: %w", what, err)}
	}
	doc, err := config.ParseDocument(file, data)
	if err != nil {
		return nil, nil, refused(stderr, what, file, err)
	}
	return data, doc, nil
}

// refused prints every problem of a file and returns the exit error.
func refused(stderr io.Writer, what, file string, err error) error {
	var es config.Errors
	if !errors.As(err, &es) {
		return &exitError{exitBadInput, fmt.Errorf("%s: %w", what, err)}
	}
	fmt.Fprintln(stderr, err)
	return &exitError{exitBadInput, fmt.Errorf("%s: %s refused: %s", what, file, problems(es))}
}

// problems counts the problems of a report ("3 problems").
func problems(es config.Errors) string {
	if len(es) == 1 {
		return "1 problem"
	}
	if last := es[len(es)-1]; last.Line == 0 && strings.HasSuffix(last.Reason, " more problems not shown") {
		return "more than " + fmt.Sprint(len(es)-1) + " problems"
	}
	return fmt.Sprint(len(es)) + " problems"
}

// printSummary says what a valid file holds.
func printSummary(w io.Writer, file string, doc *config.Document) {
	if c := doc.Cluster; c != nil {
		fmt.Fprintf(w, "%s: valid cluster.yaml: cluster %s, %d nodes, %d links; no-quorum-policy %s; fencing %s, %d devices",
			file, c.Name, len(c.Nodes), len(c.Links), c.NoQuorumPolicy(c.Resources), onOff(c.FencingEnabled(c.Resources)), len(c.Fencing.Devices))
	} else {
		fmt.Fprintf(w, "%s: valid resources section", file)
	}
	if r := doc.Resources; r != nil {
		n := 0
		var count func(rs []*model.Resource)
		count = func(rs []*model.Resource) {
			for _, x := range rs {
				if x != nil {
					n++
					count(x.Members)
				}
			}
		}
		count(r.Resources)
		cs := r.Constraints
		fmt.Fprintf(w, "; %d resources, %d constraints, admin_epoch %d", n,
			len(cs.Locations)+len(cs.Colocations)+len(cs.Orders)+len(cs.Tickets), doc.AdminEpoch)
	}
	fmt.Fprintln(w)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func printPushResult(w io.Writer, file string, res api.ConfigResult) {
	for _, k := range res.Kept {
		fmt.Fprintf(w, "kept (set by an operator): %s\n", k)
	}
	for _, d := range res.Dropped {
		fmt.Fprintf(w, "dropped (--force): %s\n", d)
	}
	if res.Unchanged {
		fmt.Fprintf(w, "%s: already the cluster's configuration (version %s, DC %s)\n", file, res.Version, res.DC)
		return
	}
	fmt.Fprintf(w, "%s: accepted by the DC %s as version %s (digest %.12s)\n", file, res.DC, res.Version, res.Digest)
}

// printConfig writes the configuration as a resources section that `config
// push` reads back unchanged (admin_epoch first).
func printConfig(w io.Writer, ci api.ConfigInfo) error {
	fmt.Fprintln(w, ci.Header())
	if ci.Config == nil {
		return errors.New("config show: this node has no resources configuration")
	}
	body, err := yaml.Marshal(ci.Config)
	if err != nil {
		return fmt.Errorf("config show: encoding: %w", err)
	}
	fmt.Fprintf(w, "%s: %d\n%s", config.AdminEpochKey, ci.Version.AdminEpoch, body)
	return nil
}
