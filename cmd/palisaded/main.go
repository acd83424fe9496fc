// Command palisaded is the Palisade cluster daemon.
//
//	palisaded --config /etc/palisade/cluster.yaml [--node NAME|ID] [--log-format json|text] [--log-level info]
//
// It refuses to start on any configuration error (naming file, line, key
// and reason). SIGHUP reloads the configuration; a bad file is logged and
// the running configuration kept. SIGTERM or SIGINT stops it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"palisade/cluster/config"
	"palisade/cluster/eventlog"
	"palisade/cluster/node"
	"palisade/resources/model"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "palisaded:", err)
		os.Exit(1)
	}
}

func run() error {
	defPath := config.DefaultPath
	if p := os.Getenv("PALISADE_CONFIG"); p != "" {
		defPath = p
	}
	path := flag.String("config", defPath, "cluster configuration file (env PALISADE_CONFIG)")
	sel := flag.String("node", os.Getenv("PALISADE_NODE"), "this node's name or id (default: the host name; env PALISADE_NODE)")
	format := flag.String("log-format", "text", "log format: text or json")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	events := flag.String("event-log", "", "the event log (JSON lines; default state_dir/events.jsonl, \"none\" for no file)")
	ops := operatorFlags(flag.CommandLine)
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level %q: %w", *level, err)
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch *format {
	case "text":
		h = slog.NewTextHandler(os.Stderr, hopts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, hopts)
	default:
		return fmt.Errorf("--log-format %q: want text or json", *format)
	}
	log := slog.New(h)
	slog.SetDefault(log)

	cfg, err := config.Load(*path, config.Options{Self: *sel})
	if err != nil {
		var es config.Errors
		if errors.As(err, &es) {
			return fmt.Errorf("configuration refused:\n%w", err)
		}
		return err
	}
	self, err := cfg.Self(*sel)
	if err != nil {
		return err
	}
	el, err := openEventLog(*events, cfg, self.Name, log)
	if err != nil {
		return err
	}
	defer el.Close()
	opts := node.Options{Config: cfg, Self: self, Logger: log, EventLog: el.Source(eventlog.SourceMembership)}
	n, err := node.New(opts)
	if err != nil {
		return err
	}
	op, err := setupOperator(ops, cfg, n, el, log)
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
		var es model.DecodeErrors // the resources section's, same format
		if errors.As(err, &es) {
			return fmt.Errorf("configuration refused:\n%w", err)
		}
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
	go func() {
		for range hup {
			op.reloading()
			reload(ctx, n, *path, log)
			op.reloaded()
		}
	}()
	return n.Run(ctx)
}

// reload re-reads the file; any error keeps the running configuration.
func reload(ctx context.Context, n *node.Node, path string, log *slog.Logger) {
	cfg, err := config.Load(path, config.Options{Self: n.Self().Name})
	if err != nil {
		log.Error("reload refused, keeping the running configuration", "file", path, "err", err.Error())
		return
	}
	if err := n.Reload(ctx, cfg); err != nil {
		log.Error("reload", "err", err.Error())
	}
}
