package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"palisade/cluster/importer"
)

// configImportCmd is `palisade config import`.
func configImportCmd() *cobra.Command {
	var (
		hbDir, cibFile, out, keyFile, root, name, local string
		addresses                                       []string
		partial, force, dryRun, noLookup                bool
	)
	cmd := &cobra.Command{
		Use:   "import --heartbeat DIR | --cib FILE",
		Short: "Convert a Heartbeat or Pacemaker configuration into cluster.yaml",
		Long: `Converts an existing cluster's configuration into Palisade's:

  --heartbeat /etc/ha.d   ha.cf (nodes, media, timing, auto_failback, STONITH
                          hosts), haresources (resource groups) and authkeys
                          (the key, into its own file, mode 0600)
  --cib FILE              a Pacemaker or Heartbeat v2 cib.xml, or the output of
                          "crm configure show": resources, constraints,
                          options, IPMI fence devices and fencing levels

Both together convert a Heartbeat v2/3 cluster that runs Pacemaker (crm on):
ha.cf gives the nodes and links, the CIB the resources. A CIB alone gives only
the resources section, as "palisade config push" accepts it.

Every line of the input is reported as converted, not needed (with why) or not
converted (with why and what to do). If anything was not converted the
command writes nothing and exits 2, unless --partial is given. Secrets (the
authkeys key, BMC passwords) are written to their own files with mode 0600
and never appear in cluster.yaml or in the report; crc and md5 keys and keys
shorter than 16 characters are refused ("palisade keygen" makes a new one).

Heartbeat's ucast lines name only the peers' addresses: run the import on a
cluster node (its own address is read from the interface, the others from
/etc/hosts), or give them with --address NODE@IFACE=IP.`,
		Example: `  palisade config import --heartbeat /etc/ha.d
  palisade config import --heartbeat /etc/ha.d --dry-run
  palisade config import --heartbeat /etc/ha.d --cib /var/lib/heartbeat/crm/cib.xml --partial
  palisade config import --heartbeat ha.d --address alpha@eth0=198.18.0.1 --root /tmp/stage
  crm configure show > crm.txt; palisade config import --cib crm.txt -o resources.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if hbDir == "" && cibFile == "" {
				return &exitError{1, errors.New("config import: give --heartbeat DIR, --cib FILE or both")}
			}
			var in importer.Input
			var err error
			if hbDir != "" {
				if in.Heartbeat, err = importer.ReadHeartbeatDir(hbDir); err != nil {
					return &exitError{1, fmt.Errorf("config import: %w", err)}
				}
			}
			if cibFile != "" {
				if in.CIB, err = importer.ReadSource(cibFile); err != nil {
					return &exitError{1, fmt.Errorf("config import: %w", err)}
				}
			}
			opts := importer.Options{ClusterName: name, KeyFile: keyFile, LocalNode: local}
			if !noLookup {
				opts.Host = importer.OSHost{}
			}
			for _, a := range addresses {
				h, err := importer.ParseAddressHint(a)
				if err != nil {
					return &exitError{1, fmt.Errorf("config import: %w", err)}
				}
				opts.Addresses = append(opts.Addresses, h)
			}
			res, err := importer.Import(in, opts)
			if err != nil {
				return &exitError{1, fmt.Errorf("config import: %w", err)}
			}
			if out == "" {
				out = "/etc/palisade/cluster.yaml"
				if res.ResourcesOnly {
					out = "-"
				}
			}
			stderr := cmd.ErrOrStderr()
			_, _ = res.Report.WriteTo(stderr)
			if dryRun {
				_, _ = cmd.OutOrStdout().Write(res.ClusterYAML)
				fmt.Fprintf(stderr, "dry run: nothing written; would write %s%s\n", describeTarget(out), describeSecrets(res, root))
				return incomplete(res, partial)
			}
			if err := incomplete(res, partial); err != nil {
				fmt.Fprintln(stderr, "nothing written.")
				return err
			}
			if out == "-" && len(res.Secrets) > 0 && root == "" {
				// The YAML goes to stdout, the key still to its file.
				fmt.Fprintf(stderr, "note: the key file is written to %s (use --root to stage elsewhere)\n", res.Secrets[0].Path)
			}
			files := []stagedFile{}
			yamlMode := fs.FileMode(0o644)
			if res.Sensitive {
				yamlMode = 0o600
			}
			if out != "-" {
				files = append(files, stagedFile{path: filepath.Join(root, out), data: res.ClusterYAML, mode: yamlMode})
			}
			for _, s := range res.Secrets {
				files = append(files, stagedFile{path: filepath.Join(root, s.Path), data: s.Data, mode: 0o600})
			}
			if err := writeFiles(files, force); err != nil {
				return &exitError{1, fmt.Errorf("config import: %w", err)}
			}
			if out == "-" {
				_, _ = cmd.OutOrStdout().Write(res.ClusterYAML)
			}
			for _, f := range files {
				fmt.Fprintf(stderr, "wrote %s (mode %04o)\n", f.path, f.mode)
			}
			if !res.ResourcesOnly {
				keyWritten := false
				for _, s := range res.Secrets {
					keyWritten = keyWritten || s.Path == keyFile
				}
				if !keyWritten {
					fmt.Fprintf(stderr, "no key file was written: create one with `palisade keygen -o %s` and copy it to every node\n", filepath.Join(root, keyFile))
				}
				target := out
				if out != "-" {
					target = filepath.Join(root, out)
				}
				fmt.Fprintf(stderr, "next: review %s, install it and the key file on every node (same paths as in the file), then on each node:\n"+
					"  systemctl disable --now heartbeat && systemctl enable --now palisaded\n", describeTarget(target))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&hbDir, "heartbeat", "", "Heartbeat configuration directory (ha.cf, haresources, authkeys), usually /etc/ha.d")
	f.StringVar(&cibFile, "cib", "", "Pacemaker / Heartbeat v2 cib.xml, or `crm configure show` output")
	f.StringVarP(&out, "output", "o", "", "where to write the YAML; - for stdout (default /etc/palisade/cluster.yaml, or stdout for a CIB alone)")
	f.StringVar(&keyFile, "key-file", importer.DefaultKeyFile, "key file path written into auth.key_file; BMC password files go beside it")
	f.StringVar(&root, "root", "", "write every file under this directory (the YAML still names the final paths), to stage and copy")
	f.StringArrayVar(&addresses, "address", nil, "a node's address, NODE=IP or NODE@INTERFACE=IP (repeatable)")
	f.StringVar(&local, "local-node", "", "the node whose ha.d this is (default: this host, if it is one of the nodes)")
	f.StringVar(&name, "cluster-name", "", "cluster name (default: ha.cf's cluster, else linux-ha as Heartbeat)")
	f.BoolVar(&noLookup, "no-lookup", false, "do not look at this host's name, interfaces or /etc/hosts for addresses")
	f.BoolVar(&partial, "partial", false, "write what was converted even if some lines were not")
	f.BoolVar(&force, "force", false, "overwrite existing files")
	f.BoolVar(&dryRun, "dry-run", false, "print the report and the YAML, write nothing (secrets are never printed)")
	return cmd
}

func incomplete(res *importer.Result, partial bool) error {
	if res.Report.Complete() || partial {
		return nil
	}
	return &exitError{2, fmt.Errorf("config import: %d item(s) not converted (listed above): fix them, or write the rest with --partial", len(res.Report.NotConverted))}
}

func describeTarget(out string) string {
	if out == "-" {
		return "the YAML to stdout"
	}
	return out
}

func describeSecrets(res *importer.Result, root string) string {
	var b strings.Builder
	for _, s := range res.Secrets {
		fmt.Fprintf(&b, ", %s (mode 0600)", filepath.Join(root, s.Path))
	}
	return b.String()
}

// stagedFile is one file to write.
type stagedFile struct {
	path string
	data []byte
	mode fs.FileMode
}

// writeFiles writes every file to a temporary name beside it first and
// renames them only when all were written, so a failure leaves no half
// of a configuration behind. Existing files are refused unless force.
func writeFiles(files []stagedFile, force bool) error {
	for _, f := range files {
		if _, err := os.Lstat(f.path); err == nil && !force {
			return fmt.Errorf("%s exists; move it away or use --force", f.path)
		}
	}
	var temps []string
	cleanup := func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			cleanup()
			return err
		}
		t, err := writeTemp(f)
		if err != nil {
			cleanup()
			return err
		}
		temps = append(temps, t)
	}
	for i, f := range files {
		if err := os.Rename(temps[i], f.path); err != nil {
			cleanup()
			return fmt.Errorf("installing %s: %w", f.path, err)
		}
	}
	return nil
}

func writeTemp(f stagedFile) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".tmp*")
	if err != nil {
		return "", err
	}
	// CreateTemp makes the file 0600: a secret is never readable by
	// others, not even for a moment.
	name := tmp.Name()
	_, err = io.Copy(tmp, strings.NewReader(string(f.data)))
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(f.mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("writing %s: %w", f.path, err)
	}
	return name, nil
}

// keygenCmd is `palisade keygen`.
func keygenCmd() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Write a new cluster key file (mode 0600)",
		Long: `Writes a new key file in Palisade's format: one random 256-bit key (key 1,
active), mode 0600. Run it on one node and copy the file to every node: all
nodes sign and check cluster traffic with it. To replace a key in a running
cluster, add the new key as key N+1 on every node, switch "active" node by
node, then remove key N (see README "Configuration").`,
		Example: "  palisade keygen\n  palisade keygen -o /etc/palisade/authkey --force",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := importer.NewKeyFile(nil)
			if err != nil {
				return &exitError{1, err}
			}
			if out == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if err := writeFiles([]stagedFile{{path: out, data: data, mode: 0o600}}, force); err != nil {
				return &exitError{1, fmt.Errorf("keygen: %w", err)}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (mode 0600): copy it to every node\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", importer.DefaultKeyFile, "where to write the key file (- for stdout)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing key file")
	return cmd
}

func init() { rootCmd.AddCommand(keygenCmd()) }
