package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"palisade/cluster/api"
	"palisade/cluster/dc"
)

func init() {
	configCmd := &cobra.Command{Use: "config", Short: "The replicated configuration of the running cluster: show it, change it"}

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
			data, err := os.ReadFile(file)
			if err != nil {
				return &exitError{2, fmt.Errorf("config push: %w", err)}
			}
			// Check locally first: the same decoder as the daemon's, so a
			// typo is reported with its line before anything is sent.
			if _, _, err := dc.DecodeConfig(file, data); err != nil {
				return &exitError{2, fmt.Errorf("config push: %w", err)}
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

	configCmd.AddCommand(push, show, configImportCmd())
	rootCmd.AddCommand(configCmd)
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
	fmt.Fprintf(w, "%s: %d\n%s", dc.AdminEpochKey, ci.Version.AdminEpoch, body)
	return nil
}
