// Package settings layers a program's own run-time settings (which
// configuration file, which node, which socket, how to log) with viper:
// a flag wins over the program's environment variable, which wins over its
// settings file, which wins over the default. Each program has its own
// variable prefix (palisaded reads PALISADED_*, the palisade CLI
// PALISADE_*), so exporting a variable for one never changes the other.
//
// The cluster's own configuration (cluster.yaml) is not a setting: it is
// decoded strictly by cluster/config, and a setting only names it.
//
//	s := settings.New("palisaded", "PALISADED", "/etc/palisade/palisaded.yaml", []settings.Setting{
//		{Name: "node", Usage: "this node's name or id"},
//	})
//	s.Bind(cmd.Flags())      // --node, shown in --help with (env PALISADED_NODE)
//	err := s.Load()          // reads the settings file; unknown keys are errors
//	node := s.String("node")
package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
)

// Setting is one run-time setting: a flag, an environment variable and a
// key of the settings file, all of the same name.
type Setting struct {
	Name    string // flag and settings-file key, e.g. "log-level"
	Default string
	Usage   string
}

// SettingsFlag names the settings file to read.
const SettingsFlag = "settings"

// Set is one program's settings.
type Set struct {
	program string
	prefix  string
	file    string
	list    []Setting
	v       *viper.Viper
	flags   *pflag.FlagSet
	loaded  string // the settings file read, if any
}

// New describes a program's settings: program names it in errors, prefix
// is its environment variables' (PALISADED), file its default settings
// file (read only if it exists).
func New(program, prefix, file string, list []Setting) *Set {
	return &Set{program: program, prefix: prefix, file: file, list: list, v: viper.New()}
}

// Env is the environment variable of a setting: PREFIX_NAME, dashes as
// underscores.
func (s *Set) Env(name string) string {
	return s.prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Bind defines a flag for every setting (and --settings) on flags; their
// usage names the environment variable.
func (s *Set) Bind(flags *pflag.FlagSet) {
	s.flags = flags
	flags.String(SettingsFlag, s.file, fmt.Sprintf("settings file of %s's own settings, read if it exists (env %s)", s.program, s.Env(SettingsFlag)))
	for _, st := range s.list {
		flags.String(st.Name, st.Default, fmt.Sprintf("%s (env %s)", st.Usage, s.Env(st.Name)))
		// Bound explicitly: only the names above are read, no guessing.
		_ = s.v.BindPFlag(st.Name, flags.Lookup(st.Name))
		_ = s.v.BindEnv(st.Name, s.Env(st.Name))
	}
}

// Load reads the settings file: --settings, else its environment
// variable, else the default file if it exists. The file is YAML with the
// settings' names as keys; an unknown key or a value that is not a single
// word is an error naming the file and line, as in cluster.yaml.
func (s *Set) Load() error {
	path, explicit := s.file, false
	if f := s.flags.Lookup(SettingsFlag); f != nil && f.Changed {
		path, explicit = f.Value.String(), true
	} else if e := os.Getenv(s.Env(SettingsFlag)); e != "" {
		path, explicit = e, true
	}
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return nil
	case err != nil:
		return fmt.Errorf("settings file: %w", err)
	}
	col := strict.New(path)
	values := map[string]any{}
	handlers := map[string]func(*yaml.Node, string){}
	for _, st := range s.list {
		handlers[st.Name] = func(v *yaml.Node, key string) {
			if val, ok := col.Scalar(v, key); ok {
				values[st.Name] = val
			}
		}
	}
	if root := col.Parse(data); root != nil {
		col.Fields(root, "", handlers)
	}
	if err := col.Err(); err != nil {
		return err
	}
	if err := s.v.MergeConfigMap(values); err != nil {
		return fmt.Errorf("settings file %s: %w", path, err)
	}
	s.loaded = path
	return nil
}

// String is a setting's value: flag, environment, settings file, default.
func (s *Set) String(name string) string { return s.v.GetString(name) }

// IsSet says a flag, the environment or the settings file set the
// setting (its default does not count).
func (s *Set) IsSet(name string) bool { return s.v.IsSet(name) }

// Source says where a setting's value comes from, for logs: "flag",
// "env PREFIX_NAME", "settings FILE" or "default".
func (s *Set) Source(name string) string {
	switch {
	case s.flags != nil && s.flags.Lookup(name) != nil && s.flags.Lookup(name).Changed:
		return "flag --" + name
	case os.Getenv(s.Env(name)) != "":
		return "env " + s.Env(name)
	case s.IsSet(name):
		return "settings " + s.loaded
	}
	return "default"
}

// Help describes the layering for a program's --help.
func (s *Set) Help() string {
	example, env := "NAME: VALUE", s.prefix+"_NAME"
	if len(s.list) > 0 {
		example, env = s.list[0].Name+": VALUE", s.Env(s.list[0].Name)
	}
	return fmt.Sprintf(`Settings: every flag below may also come from its environment variable
(%s, ...) or from a key of the settings file (%q;
--%s, default %s, read if it exists).
A flag wins over the environment, which wins over the settings file.`, env, example, SettingsFlag, s.file)
}
