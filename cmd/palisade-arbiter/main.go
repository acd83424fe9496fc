// Command palisade-arbiter is the quorum arbiter node: a small TCP service
// (mutual TLS) that serves any number of Palisade clusters and gives its
// vote to exactly one partition per cluster (algorithms ffsplit and lms,
// chosen by each cluster's configuration). It keeps no state that
// matters: after a restart the nodes reconnect and it gives no vote for
// one lease (its grace period), so the votes of the previous instance
// have expired.
//
//	palisade-arbiter certs --dir /etc/palisade-arbiter --host arbiter.example --host 198.18.0.9 --cluster prod --cluster test
//	palisade-arbiter serve --dir /etc/palisade-arbiter --listen :5403
//
// certs creates the CA and the server certificate once, and a client
// certificate per cluster (CommonName = cluster name); copy ca.pem and the
// cluster's .pem/.key to each of its nodes. kill -USR1 logs every
// cluster's state, and how long the arbiter took to answer the reports of
// the last 10 seconds (p50, p99, max).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"palisade/quorum/arbiter"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "palisade-arbiter:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "palisade-arbiter",
		Short:         "Quorum arbiter for Palisade clusters (mutual TLS, ffsplit and lms)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), certsCmd())
	return root
}

func serveCmd() *cobra.Command {
	var dir, listen, ca, cert, key string
	var lease, grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve clusters until SIGTERM/SIGINT",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pick := func(flag, def string) string {
				if flag != "" {
					return flag
				}
				return filepath.Join(dir, def)
			}
			tlsCfg, err := arbiter.ServerTLS(pick(ca, arbiter.CAFile), pick(cert, arbiter.ServerCertFile), pick(key, arbiter.ServerKeyFile))
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			srv, err := arbiter.NewServer(arbiter.ServerConfig{TLS: tlsCfg, Lease: lease, Grace: grace, Logger: log})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", listen, err)
			}
			// Print the bound address on stdout so that scripts and tests
			// using port 0 can find it.
			fmt.Println("listening on", ln.Addr().String())
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			usr1 := make(chan os.Signal, 1)
			signal.Notify(usr1, syscall.SIGUSR1)
			go func() {
				for range usr1 {
					cls := srv.Clusters()
					st := srv.Stats(10 * time.Second)
					log.Info("arbiter status", "clusters", len(cls), "reports_last_10s", st.Reports,
						"decision_p50", st.P50.String(), "decision_p99", st.P99.String(), "decision_max", st.Max.String())
					for _, c := range cls {
						holder := "none"
						if !c.Holder.IsZero() {
							holder = c.Holder.String()
						}
						log.Info("cluster", "name", c.Name, "nodes", c.Nodes, "vote", holder, "decision", c.Decision, "why", c.Why)
					}
				}
			}()
			return srv.Serve(ctx, ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "/etc/palisade-arbiter", "certificate directory (ca.pem, server.pem, server.key)")
	f.StringVar(&listen, "listen", ":5403", "TCP address to listen on")
	f.StringVar(&ca, "ca", "", "CA file (default DIR/ca.pem)")
	f.StringVar(&cert, "cert", "", "server certificate (default DIR/server.pem)")
	f.StringVar(&key, "key", "", "server key, mode 0600 (default DIR/server.key)")
	f.DurationVar(&lease, "lease", arbiter.DefaultLease, "how long an ack counts after the report it answers; nodes must report more often")
	f.DurationVar(&grace, "grace", 0, "no vote for this long after start (default: the lease)")
	return cmd
}

func certsCmd() *cobra.Command {
	var dir string
	var hosts, clusters []string
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Create the CA, the server certificate and per-cluster client certificates (existing files are kept)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			_, _, created, err := arbiter.EnsureCA(dir)
			if err != nil {
				return err
			}
			report := func(created bool, path string) {
				if created {
					fmt.Fprintln(out, "created", path)
				} else {
					fmt.Fprintln(out, "kept", path)
				}
			}
			report(created, filepath.Join(dir, arbiter.CAFile))
			if _, err := os.Stat(filepath.Join(dir, arbiter.ServerCertFile)); err == nil || len(hosts) > 0 {
				created, err := arbiter.IssueServer(dir, hosts)
				if err != nil {
					return err
				}
				report(created, filepath.Join(dir, arbiter.ServerCertFile))
			} else {
				return fmt.Errorf("no server certificate yet: give --host with the name(s) and address(es) nodes dial")
			}
			for _, c := range clusters {
				created, err := arbiter.IssueClient(dir, c)
				if err != nil {
					return err
				}
				p := arbiter.ClientCertPaths(dir, c)
				report(created, p.Cert)
				fmt.Fprintf(out, "  copy %s, %s and %s to every node of cluster %s\n", filepath.Join(dir, arbiter.CAFile), p.Cert, p.Key, c)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "/etc/palisade-arbiter", "certificate directory")
	f.StringSliceVar(&hosts, "host", nil, "host name or IP address in the server certificate (repeat)")
	f.StringSliceVar(&clusters, "cluster", nil, "cluster to issue a client certificate for (repeat)")
	return cmd
}
