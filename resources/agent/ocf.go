package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// OCF runs Open Cluster Framework resource agents.
type OCF struct {
	Root        string // OCF_ROOT, e.g. /usr/lib/ocf
	ExtraEnv    map[string]string
	OutputLimit int
}

// Run executes <Root>/resource.d/<Provider>/<Type> <action>.
func (o *OCF) Run(ctx context.Context, action Action, in Instance) Result {
	if !safeName(in.Provider) || !safeName(in.Type) {
		return Result{RC: ErrConfigured, Status: StatusDone,
			ExitReason: fmt.Sprintf("resource %s: bad OCF provider/type %q/%q", in.ID, in.Provider, in.Type)}
	}
	path := filepath.Join(o.Root, "resource.d", in.Provider, in.Type)
	if err := executable(path); err != nil {
		return notInstalled(fmt.Sprintf("resource %s: OCF agent %s: %v", in.ID, path, err))
	}
	env, err := ocfEnv(o.Root, action, in, o.ExtraEnv)
	if err != nil {
		return Result{RC: ErrConfigured, Status: StatusDone, ExitReason: err.Error()}
	}
	p := run(ctx, command{path: path, args: []string{string(action)}, env: env, timeout: in.timeout(), limit: o.OutputLimit})
	res := fromProc(p)
	if p.status == StatusDone {
		res.RC = ocfRC(p.exitCode)
	}
	return res
}

// ocfRC maps an exit code outside 0-9 to a generic error, as Pacemaker does.
func ocfRC(code int) RC {
	if code >= 0 && code <= int(FailedPromoted) {
		return RC(code)
	}
	return ErrGeneric
}

// fromProc fills the fields every class shares and a reason for the
// non-done states.
func fromProc(p procResult) Result {
	res := Result{Status: p.status, Output: p.stdout, Stderr: p.stderr,
		ExitReason: exitReason(p.stderr), Duration: p.duration}
	switch p.status {
	case StatusTimeout:
		res.RC = ErrGeneric
		if res.ExitReason == "" {
			res.ExitReason = fmt.Sprintf("timed out after %s", p.duration.Round(1e6))
		}
	case StatusCancelled:
		res.RC = ErrGeneric
		res.ExitReason = "cancelled"
	case StatusError:
		res.RC = ErrGeneric
		if p.err != nil {
			res.ExitReason = p.err.Error()
		}
	}
	return res
}

// safeName rejects names that would escape the agent directory.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}
