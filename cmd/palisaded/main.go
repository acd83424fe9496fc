// Command palisaded is the Palisade cluster daemon.
//
//	palisaded [--config /etc/palisade/cluster.yaml] [--node NAME|ID] [--log-format json|text] [--log-level info]
//
// Its own settings come from flags, PALISADED_* environment variables and
// its settings file, in that order (see settings.go; `palisaded --help`
// lists them). It decodes the whole cluster.yaml first and refuses to
// start on any error in it, every error at once (naming file, line, key
// and reason), before it writes anything. SIGHUP reloads the file through
// the same decoder; a bad file is logged and the running configuration
// kept. SIGTERM or SIGINT stops it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"palisade/cluster/config"
	"palisade/cluster/eventlog"
	"palisade/cluster/node"
)

func main() {
	s := newSettings()
	cmd := &cobra.Command{
		Use:   "palisaded",
		Short: "Palisade cluster daemon: one node of a Palisade cluster",
		Long: `palisaded runs one node of a Palisade cluster. It reads the cluster
configuration (--config), refuses to start on any error in it (all of them
reported at once, as FILE:LINE: key.path: problem), reloads it on SIGHUP
and leaves the cluster cleanly on SIGTERM.

` + s.Help(),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.Load(); err != nil {
				return err
			}
			return run(s)
		},
	}
	s.Bind(cmd.Flags())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "palisaded:", err)
		os.Exit(1)
	}
}

func run(s daemonSettings) error {
	log, err := s.logger()
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	warnOldEnv(log)
	procs, src, err := s.applyProcs()
	if err != nil {
		return err
	}
	log.Debug("go threads", "gomaxprocs", procs, "source", src)

	// The whole file is decoded and checked (every section, this host's
	// interfaces and key file, each fence device as it will be built)
	// before anything is written: a refused file leaves no state dir, no
	// generation bump and no socket behind.
	path := s.String(settingConfig)
	loadOpts := s.loadOptions()
	cfg, err := config.Load(path, loadOpts)
	if err != nil {
		var es config.Errors
		if errors.As(err, &es) {
			return fmt.Errorf("configuration refused:\n%w", err)
		}
		return err
	}
	self, err := cfg.Self(loadOpts.Self)
	if err != nil {
		return err
	}
	el, err := openEventLog(s.String(settingEventLog), cfg, self.Name, log)
	if err != nil {
		return err
	}
	defer el.Close()
	opts := node.Options{Config: cfg, Self: self, Logger: log, EventLog: el.Source(eventlog.SourceMembership), WallClock: time.Now}
	n, err := node.New(opts)
	if err != nil {
		return err
	}
	op, err := setupOperator(s.operator(), cfg, n, el, log)
	if err != nil {
		return err
	}
	// The node keeps running (and heartbeating) while it leaves: on the
	// first SIGTERM/SIGINT it asks the DC to move its resources away and
	// record it as left, so the others do not fence it; a second signal
	// stops at once (the others will then fence this node).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leave, err := extend(ctx, n, cfg, opts.EventLog, log)
	if err != nil {
		return err
	}
	term := make(chan os.Signal, 2)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(term)
	go func() {
		<-term
		log.Info("shutting down: leaving the cluster cleanly (signal again to stop at once)")
		op.stopping()
		done := make(chan struct{})
		go func() { leave(); close(done) }()
		select {
		case <-done:
		case <-term:
			log.Warn("second signal: stopping without a clean leave")
		}
		cancel()
	}()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reloadOpts := loadOpts
	reloadOpts.Self = n.Self().Name
	go func() {
		for range hup {
			op.reloading()
			reload(ctx, n, path, reloadOpts, log)
			op.reloaded()
		}
	}()
	return n.Run(ctx)
}

// reload re-reads the file through the same decoder and checks as the
// start; any error keeps the running configuration.
func reload(ctx context.Context, n *node.Node, path string, opts config.Options, log *slog.Logger) {
	cfg, err := config.Load(path, opts)
	if err != nil {
		log.Error("reload refused, keeping the running configuration", "file", path, "err", err.Error())
		return
	}
	if err := n.Reload(ctx, cfg); err != nil {
		log.Error("reload", "err", err.Error())
	}
}
