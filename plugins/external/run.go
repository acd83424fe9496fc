package external

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// result is one finished run of an agent.
type result struct {
	code           int
	stdout, stderr []byte
}

// maxOutput bounds what is kept of an agent's stdout and stderr.
const maxOutput = 256 << 10

// passEnv are the variables an agent may need from Palisade's environment:
// its home (ssh keys), time zone, Pacemaker's marker, and the proxy and CA
// settings of the Python libraries the agents use. Nothing else leaks in.
var passEnv = []string{"HOME", "TZ", "PCMK_service", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
	"no_proxy", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// runAgent runs the agent at path with no arguments, the options as
// key=value lines on stdin (the fence-agents protocol, so no secret is
// in argv), in its own process group; when ctx ends the whole group is
// killed.
func runAgent(ctx context.Context, path string, opts map[string]string, secrets []string) (*result, error) {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var in bytes.Buffer
	for _, k := range keys {
		v := opts[k]
		if strings.ContainsAny(v, "\n\r") || strings.ContainsAny(k, "=\n\r") {
			return nil, fmt.Errorf("option %s: a value with a line break cannot be passed on stdin", k)
		}
		fmt.Fprintf(&in, "%s=%s\n", k, v)
	}
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C"}
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Dir = "/"
	cmd.Stdin = &in
	out, errb := &capped{max: maxOutput}, &capped{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild (ssh, ipmitool) that keeps the pipes open must not hold
	// us after the group was killed.
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := &result{stdout: out.Bytes(), stderr: errb.Bytes()}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("killed after %s (agent_timeout or the request's deadline): %w", time.Since(start).Round(time.Millisecond), ctx.Err())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	case errors.As(err, &ee):
		return nil, fmt.Errorf("%s died: %s: %s", path, ee, r.errorText(secrets))
	default:
		return nil, fmt.Errorf("running %s: %w", path, err)
	}
	return r, nil
}

// errorText is what the agent said went wrong: its ERROR/Failed lines
// (else its last line on stderr), one line, bounded, secrets hidden.
func (r *result) errorText(secrets []string) string {
	var lines []string
	for _, l := range strings.Split(string(r.stderr)+"\n"+string(r.stdout), "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "ERROR: "); i >= 0 {
			lines = append(lines, strings.TrimSpace(l[i+len("ERROR: "):]))
		} else if strings.HasPrefix(l, "Failed:") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		for _, l := range strings.Split(strings.TrimSpace(string(r.stderr)), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = []string{l}
			}
		}
	}
	var kept []string
	for _, l := range lines {
		if l != "" && l != "Please use '-h' for usage" && (len(kept) == 0 || kept[len(kept)-1] != l) {
			kept = append(kept, l)
		}
	}
	s := strings.Join(kept, "; ")
	for _, sec := range secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "[hidden]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	if s == "" {
		return "(no message)"
	}
	return s
}

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		if len(p) > room {
			c.Buffer.Write(p[:room])
		} else {
			c.Buffer.Write(p)
		}
	}
	return len(p), nil
}
