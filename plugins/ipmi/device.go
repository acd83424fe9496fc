package ipmi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/chassis"
	"github.com/bougou/go-ipmi/pkg/types"

	"palisade/fence"
)

// closeTimeout bounds closing the session: the fence result is known by
// then, so a BMC that does not answer "close session" must not delay it.
const closeTimeout = time.Second

// Device is one open IPMI session. It implements fence.Device, Cycler and
// Diagnoser; SoftOff is offered for callers that want an ACPI shutdown.
type Device struct {
	cfg Config
	c   *client.Client
}

// Opener returns a fence.Opener that logs in with cfg.
func (cfg Config) Opener() fence.Opener {
	return func(ctx context.Context) (fence.Device, error) { return cfg.Open(ctx) }
}

// Open logs in. ctx bounds the whole login (Execute passes login_timeout).
func (cfg Config) Open(ctx context.Context) (*Device, error) {
	c, err := client.NewClient(cfg.Host, cfg.Port, cfg.Username, cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("%w: ipmi %s: %s", fence.ErrConfig, cfg, redact(err, cfg.Password))
	}
	c.WithMaxPrivilegeLevel(privilege(cfg.Privilege))
	if cfg.Lanplus {
		c.WithInterface(client.InterfaceLanplus)
		ciphers := cfg.Ciphers
		if len(ciphers) == 0 {
			ciphers = []uint8{17, 3}
		}
		ids := make([]types.CipherSuiteID, len(ciphers))
		for i, id := range ciphers {
			ids[i] = types.CipherSuiteID(id)
		}
		// Two or more IDs go to the "custom list" go-ipmi tries in order;
		// a single ID is requested directly. Never the cipher-suite query.
		c.WithCipherSuiteID(ids...)
	} else {
		c.WithInterface(client.InterfaceLan)
	}
	if err := c.Connect(ctx); err != nil {
		// The client owns a UDP socket from NewClient on.
		cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_ = c.Close(cctx)
		cancel()
		return nil, classifyLogin(cfg, err)
	}
	return &Device{cfg: cfg, c: c}, nil
}

// Status reads "chassis status".
func (d *Device) Status(ctx context.Context, _ string) (fence.PowerState, error) {
	res, err := d.c.GetChassisStatus(ctx)
	if err != nil {
		return fence.PowerUnknown, d.commandErr("chassis status", err)
	}
	if res.PowerIsOn {
		return fence.PowerOn, nil
	}
	return fence.PowerOff, nil
}

// SetPower sends "chassis power on|off". Repeating it is harmless, so
// go-ipmi's retransmission on a lost reply is left on.
func (d *Device) SetPower(ctx context.Context, _ string, on bool) error {
	ctl := chassis.ChassisControlPowerDown
	if on {
		ctl = chassis.ChassisControlPowerUp
	}
	return d.control(ctx, ctl, true)
}

// Cycle sends "chassis power cycle" once: a retransmitted cycle could run
// twice (ipmi_sim and real BMCs execute each request they receive).
func (d *Device) Cycle(ctx context.Context, _ string) error {
	return d.control(ctx, chassis.ChassisControlPowerCycle, false)
}

// Diag sends a diagnostic interrupt (NMI) once.
func (d *Device) Diag(ctx context.Context, _ string) error {
	return d.control(ctx, chassis.ChassisControlDiagnosticInterrupt, false)
}

// SoftOff asks the OS for an ACPI shutdown. Not a fence: the OS may ignore it.
func (d *Device) SoftOff(ctx context.Context) error {
	return d.control(ctx, chassis.ChassisControlSoftShutdown, false)
}

func (d *Device) control(ctx context.Context, ctl chassis.ChassisControl, retry bool) error {
	if !retry {
		d.c.WithRetry(0)
		defer d.c.WithRetry(client.DefaultLanplusRetries)
	}
	if _, err := d.c.ChassisControl(ctx, ctl); err != nil {
		return d.commandErr("chassis control "+controlName(ctl), err)
	}
	return nil
}

// Close ends the session.
func (d *Device) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	d.c.WithRetry(0)
	if err := d.c.Close(ctx); err != nil {
		return fmt.Errorf("ipmi %s: close session: %w", d.cfg, redact(err, d.cfg.Password))
	}
	return nil
}

func controlName(c chassis.ChassisControl) string {
	switch c {
	case chassis.ChassisControlPowerDown:
		return "off"
	case chassis.ChassisControlPowerUp:
		return "on"
	case chassis.ChassisControlPowerCycle:
		return "cycle"
	case chassis.ChassisControlDiagnosticInterrupt:
		return "diag"
	case chassis.ChassisControlSoftShutdown:
		return "soft"
	}
	return fmt.Sprint(uint8(c))
}

func privilege(s string) types.PrivilegeLevel {
	switch s {
	case "callback":
		return types.PrivilegeLevelCallback
	case "user":
		return types.PrivilegeLevelUser
	case "operator":
		return types.PrivilegeLevelOperator
	}
	return types.PrivilegeLevelAdministrator
}

// classifyLogin tells "the BMC refused us" from "nobody answered". go-ipmi
// flattens the per-cipher errors of an RMCP+ login into text, so the RMCP+
// status codes are matched in the message as well as in the chain.
func classifyLogin(cfg Config, err error) error {
	msg := redact(err, cfg.Password)
	text := msg.Error()
	denied := func(why string) error {
		return fmt.Errorf("%w: ipmi %s: %s (%s)", fence.ErrLoginDenied, cfg, why, text)
	}
	var rs *types.RmcpStatusError
	if errors.As(err, &rs) && deniedStatus[rs.StatusCode()] {
		return denied("wrong user name, password or privilege level")
	}
	for code := range deniedStatus {
		if strings.Contains(text, fmt.Sprintf("RMCP+ status %#02x", uint8(code))) {
			return denied("wrong user name, password or privilege level")
		}
	}
	if errors.Is(err, client.ErrRAKPAuthentication) || strings.Contains(text, client.ErrRAKPAuthentication.Error()) {
		return denied("wrong password (RAKP authentication code mismatch)")
	}
	var re *types.ResponseError
	if errors.As(err, &re) {
		switch uint8(re.CompletionCode()) {
		// Get Session Challenge / Activate Session / Set Session Privilege:
		// invalid user name, null user disabled, no session slot for the
		// user, requested privilege exceeds the user's limit.
		case 0x81, 0x82, 0x83, 0x84, 0x86, 0xd4:
			return denied("wrong user name, password or privilege level")
		}
	}
	if errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(text, "connection refused") {
		return fmt.Errorf("%w: ipmi %s: nothing listening there (connection refused): %s", fence.ErrUnreachable, cfg, text)
	}
	if isTimeout(err) {
		// IPMI 1.5 BMCs silently drop an Activate Session whose auth code
		// does not match; they answered the challenge, so they are there.
		if !cfg.Lanplus && strings.Contains(text, "ActivateSession failed") {
			return denied("BMC answered but ignored session activation: wrong password")
		}
		return fmt.Errorf("%w: ipmi %s: %s", fence.ErrNoAnswer, cfg, text)
	}
	return fmt.Errorf("ipmi %s: login: %s", cfg, text)
}

// deniedStatus are the RMCP+ status codes that mean "you are not allowed"
// rather than "we could not agree on algorithms".
var deniedStatus = map[types.RmcpStatusCode]bool{
	types.RmcpStatusCodeUnauthorizedName:           true,
	types.RmcpStatusCodeInvalidIntegrityCheckValue: true,
	types.RmcpStatusCodeUnauthorizedRoleOfPriLevel: true,
	types.RmcpStatusCodeInvalidRole:                true,
	types.RmcpStatusCodeInvalidNameLength:          true,
	types.RmcpStatusCodeUnauthorizedGUID:           true,
}

// silentText are go-ipmi's messages for "no reply came" (v0.9.1 flattens
// some of its error chains into text, so they are matched as text too).
var silentText = []string{
	"no matching IPMI response", "no datagram matched", "no UDP datagram matched",
	"UDP read timed out", "deadline exceeded while exchanging", "i/o timeout",
}

// isTimeout reports whether err means the BMC sent no reply in time.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	text := err.Error()
	for _, s := range silentText {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// commandErr wraps a failed command of an open session; a BMC that stopped
// answering is fence.ErrNoAnswer, so Execute can tell it from a refusal.
func (d *Device) commandErr(what string, err error) error {
	r := redact(err, d.cfg.Password)
	if isTimeout(err) {
		return fmt.Errorf("%w: ipmi %s: %s: %w", fence.ErrNoAnswer, d.cfg, what, r)
	}
	return fmt.Errorf("ipmi %s: %s: %w", d.cfg, what, r)
}

// redacted keeps the error chain (for errors.Is/As) but replaces the text,
// so that a password echoed by a library can never reach logs or output.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func redact(err error, secret string) error {
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	return &redacted{msg: hideSecret(msg, secret), err: err}
}

// hideSecret replaces the secret in msg. A short secret is only replaced
// where it stands as its own token: replacing every "x" of a one-letter
// password would garble the message ("e[hidden]change") without hiding
// anything a reader could not guess.
func hideSecret(msg, secret string) string {
	if secret == "" {
		return msg
	}
	if len(secret) >= 6 {
		return strings.ReplaceAll(msg, secret, "[hidden]")
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		j := strings.Index(msg[i:], secret)
		if j < 0 {
			b.WriteString(msg[i:])
			break
		}
		start, end := i+j, i+j+len(secret)
		b.WriteString(msg[i:start])
		if !isWordByte(msg, start-1) && !isWordByte(msg, end) {
			b.WriteString("[hidden]")
		} else {
			b.WriteString(secret)
		}
		i = end
	}
	return b.String()
}

func isWordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
