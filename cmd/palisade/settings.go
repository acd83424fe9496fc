package main

import (
	"github.com/spf13/cobra"

	"palisade/cluster/config"
	"palisade/cmd/internal/settings"
)

// The CLI's own run-time settings: flags, PALISADE_* environment variables
// (never the daemon's PALISADED_*), its settings file
// (/etc/palisade/palisade.yaml), in that order.
const (
	settingSocket = "socket"
	settingConfig = "config"
)

// DefaultSettingsFile is the CLI's settings file, read if it exists.
const DefaultSettingsFile = "/etc/palisade/palisade.yaml"

var cliSettings = settings.New("palisade", "PALISADE", DefaultSettingsFile, []settings.Setting{
	{Name: settingSocket, Usage: "palisaded control socket (default: the socket: of the cluster configuration, else " + config.DefaultSocket + ")"},
	{Name: settingConfig, Default: config.DefaultPath, Usage: "cluster configuration (its socket:, quorum disk paths)"},
})

func init() {
	cliSettings.Bind(rootCmd.PersistentFlags())
	rootCmd.Long = rootCmd.Short + ".\n\n" + cliSettings.Help()
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error { return cliSettings.Load() }
}

// socketPath is the control socket: the socket setting, else the socket:
// key of the cluster configuration where the daemon listens (when the file
// can be read and decoded), else the default.
func socketPath() string {
	if cliSettings.IsSet(settingSocket) {
		return cliSettings.String(settingSocket)
	}
	if c, err := config.Load(cliSettings.String(settingConfig), config.Options{SkipHostChecks: true}); err == nil {
		return c.Socket
	}
	return config.DefaultSocket
}
