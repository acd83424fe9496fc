package fence

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"palisade/fence/clock"
)

// Agent is a configured fence device: a plugin plus validated options, with
// the password already resolved. It holds no connection; each Do opens one
// session for the whole request.
type Agent struct {
	Plugin  *Plugin
	Name    string // the name it was built under (alias defaults apply)
	Options Options
	// Clock runs the request's delays, pauses and timeouts (nil: the wall
	// clock). Set it before the Agent is shared.
	Clock clock.Clock
	open  Opener
}

// NewAgent builds an Agent from a plugin name ("fence_ipmilan", "ipmilan",
// or an alias such as "fence_ilo4") and parameters under their fence-agents
// names (ip, username, lanplus, power_timeout, ...; legacy names such as
// ipaddr/login/passwd are accepted). The password comes from one of
// password, password_file (mode 0600 or stricter), password_env (name of an
// environment variable) or password_script. It does no network I/O.
func NewAgent(name string, params map[string]string) (*Agent, error) {
	p, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	opts, err := Normalize(p, name, params)
	if err != nil {
		return nil, fmt.Errorf("fence device %s: %w", name, err)
	}
	return newAgent(p, name, opts)
}

// NewAgentFromOptions is NewAgent for options already normalized (the
// fence-agents command line uses it).
func NewAgentFromOptions(p *Plugin, name string, opts Options) (*Agent, error) {
	return newAgent(p, name, opts)
}

func newAgent(p *Plugin, name string, opts Options) (*Agent, error) {
	if err := ResolvePassword(opts); err != nil {
		return nil, fmt.Errorf("fence device %s: %w", name, err)
	}
	if opts[OptIP] == "" && !p.OwnParams {
		return nil, fmt.Errorf("fence device %s: %w: you have to enter fence address (ip)", name, ErrConfig)
	}
	open, err := p.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("fence device %s: %w", name, err)
	}
	return &Agent{Plugin: p, Name: name, Options: opts, open: open}, nil
}

// Do runs one action with the agent's timing options. ctx bounds the whole
// request (delay, login, power change and verification).
func (a *Agent) Do(ctx context.Context, action Action) Result {
	if (action == ActionList || action == ActionListStatus) && !a.Plugin.HasPlugs {
		// A device for one machine has nothing to list; fence-agents
		// answers with a notice and success without contacting it, and
		// Pacemaker's "stonith_admin --query" relies on that.
		return Result{Action: action, OK: true, ListUnsupported: true}
	}
	req, err := RequestFromOptions(action, a.Options)
	if err != nil {
		return Result{Action: action, Err: err}
	}
	return ExecuteWith(ctx, a.Clock, a.open, req)
}

// Off is the daemon's fence call: power off and verify OFF.
func (a *Agent) Off(ctx context.Context) Result { return a.Do(ctx, ActionOff) }

// ResolvePassword fills opts["password"] from password_file, password_env or
// password_script (in that order of precedence after an explicit password)
// and removes the indirections. The script runs through /bin/sh like
// fence-agents' os.popen; its output never reaches argv or the log.
func ResolvePassword(opts Options) error {
	if _, ok := opts[OptPassword]; ok {
		return nil
	}
	switch {
	case opts[OptPasswordFile] != "":
		path := opts[OptPasswordFile]
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("%w: reading password_file: %w", ErrConfig, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return fmt.Errorf("%w: password_file %s has mode %04o; it must not be readable by group or others (chmod 600)", ErrConfig, path, fi.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%w: reading password_file: %w", ErrConfig, err)
		}
		opts[OptPassword] = strings.TrimRight(string(b), "\r\n")
	case opts[OptPasswordEnv] != "":
		v, ok := os.LookupEnv(opts[OptPasswordEnv])
		if !ok {
			return fmt.Errorf("%w: password_env: environment variable %s is not set", ErrConfig, opts[OptPasswordEnv])
		}
		opts[OptPassword] = v
	case opts[OptPasswordScrip] != "":
		var out, errb bytes.Buffer
		cmd := exec.Command("/bin/sh", "-c", opts[OptPasswordScrip])
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%w: password_script failed: %w", ErrConfig, err)
		}
		opts[OptPassword] = strings.TrimRight(out.String(), " \t\r\n")
	}
	return nil
}
