package redfish

import "strings"

// redacted keeps an error's chain (errors.Is/As) but replaces its text, so
// a password echoed by a library or a service never reaches logs, output
// or fence history.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), secret, "[hidden]"), err: err}
}
