package apcsnmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"syscall"

	"github.com/gosnmp/gosnmp"

	"palisade/fence"
)

// Device is one open SNMP socket to a PDU, whose outlet table is known.
// It implements fence.Device, fence.Lister and fence.Monitorer. Outlet
// names are resolved once per Device.
type Device struct {
	cfg   Config
	g     *gosnmp.GoSNMP
	table Table
	// sysObjectID is what the PDU said it is.
	sysObjectID string
	resolved    map[string][]Outlet
}

// Opener returns a fence.Opener for cfg.
func (cfg Config) Opener() fence.Opener {
	return func(ctx context.Context) (fence.Device, error) { return cfg.Open(ctx) }
}

// Open creates the socket and reads sysObjectID to choose the outlet table
// (which also proves the PDU answers and accepts the credentials). ctx
// bounds it (Execute passes login_timeout).
func (cfg Config) Open(ctx context.Context) (*Device, error) {
	g := &gosnmp.GoSNMP{
		Target: cfg.Host, Port: uint16(cfg.Port), Transport: "udp",
		Community: cfg.Community, Version: cfg.Version,
		Timeout: cfg.Timeout, Retries: cfg.Retries, Context: ctx,
		MaxOids: 32, MaxRepetitions: 32,
	}
	if cfg.Version == gosnmp.Version3 {
		g.SecurityModel = gosnmp.UserSecurityModel
		g.MsgFlags = cfg.Level
		sp := &gosnmp.UsmSecurityParameters{
			UserName:               cfg.Username,
			AuthenticationProtocol: cfg.AuthProto, AuthenticationPassphrase: cfg.AuthPass,
			PrivacyProtocol: cfg.PrivProto, PrivacyPassphrase: cfg.PrivPass,
		}
		if cfg.Level != gosnmp.NoAuthNoPriv {
			// See usm.go: discover, then hand gosnmp the keys.
			eng, err := discoverEngine(ctx, cfg)
			if err != nil {
				d := &Device{cfg: cfg}
				return nil, d.loginErr(err)
			}
			sp.AuthoritativeEngineID = eng.AuthoritativeEngineID
			sp.AuthoritativeEngineBoots = eng.AuthoritativeEngineBoots
			sp.AuthoritativeEngineTime = eng.AuthoritativeEngineTime
			sp.SecretKey, sp.PrivacyKey = usmKeys(cfg, eng.AuthoritativeEngineID)
			g.ContextEngineID = eng.AuthoritativeEngineID
		}
		g.SecurityParameters = sp
	}
	if err := g.Connect(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", fence.ErrUnreachable, cfg, redact(err, cfg))
	}
	d := &Device{cfg: cfg, g: g, resolved: map[string][]Outlet{}}
	vars, err := d.get(ctx, OIDSysObjectID)
	if err != nil {
		g.Conn.Close()
		return nil, d.loginErr(err)
	}
	d.table = ChooseTable(vars[0])
	if s, ok := vars[0].Value.(string); ok {
		d.sysObjectID = s
	}
	slog.Debug("pdu answered", "pdu", cfg.String(), "sysObjectID", d.sysObjectID, "table", d.table.Name)
	return d, nil
}

// Table is the outlet table chosen from the PDU's sysObjectID.
func (d *Device) Table() Table { return d.table }

// SNMPError is a request the agent answered with an error status.
type SNMPError struct {
	Op     string
	Status gosnmp.SNMPError
	OID    string
}

func (e *SNMPError) Error() string {
	// RFC 3416 spells them noSuchName, wrongValue, ...; gosnmp capitalizes.
	name := e.Status.String()
	if name != "" {
		name = strings.ToLower(name[:1]) + name[1:]
	}
	s := fmt.Sprintf("%s: the PDU answered %s", e.Op, name)
	if e.OID != "" {
		s += " for " + e.OID
	}
	return s
}

// Unwrap: an authorization error is a refused login.
func (e *SNMPError) Unwrap() error {
	if e.Status == gosnmp.AuthorizationError || e.Status == gosnmp.NoAccess {
		return fence.ErrLoginDenied
	}
	return nil
}

// checkPacket turns an answer's error-status into an error naming the
// object it is about.
func checkPacket(op string, p *gosnmp.SnmpPacket, oids []string) error {
	if p == nil {
		return fmt.Errorf("%s: no answer", op)
	}
	if p.Error == gosnmp.NoError {
		return nil
	}
	e := &SNMPError{Op: op, Status: p.Error}
	if i := int(p.ErrorIndex) - 1; i >= 0 && i < len(oids) {
		e.OID = oids[i]
	}
	return e
}

func (d *Device) get(ctx context.Context, oids ...string) ([]gosnmp.SnmpPDU, error) {
	d.g.Context = ctx
	p, err := d.g.Get(oids)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", strings.Join(oids, " "), redact(err, d.cfg))
	}
	if err := checkPacket("GET", p, oids); err != nil {
		return nil, err
	}
	if len(p.Variables) != len(oids) {
		return nil, fmt.Errorf("GET %s: %d values in the answer", strings.Join(oids, " "), len(p.Variables))
	}
	return p.Variables, nil
}

func (d *Device) walk(ctx context.Context, root string) ([]gosnmp.SnmpPDU, error) {
	d.g.Context = ctx
	var vars []gosnmp.SnmpPDU
	var err error
	if d.cfg.Version == gosnmp.Version1 {
		vars, err = d.g.WalkAll(root)
	} else {
		vars, err = d.g.BulkWalkAll(root)
	}
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", root, redact(err, d.cfg))
	}
	return vars, nil
}

// outlets resolves the plug option into outlets: numbers directly, names
// by walking the outlet name column (once per Device).
func (d *Device) outlets(ctx context.Context, plug string) ([]Outlet, error) {
	if o, ok := d.resolved[plug]; ok {
		return o, nil
	}
	refs, err := ParsePlugs(plug, d.cfg.Separator, d.table.Switches)
	if err != nil {
		return nil, err
	}
	var names map[string]Outlet
	var out []Outlet
	for _, r := range refs {
		if r.Name == "" {
			out = append(out, r.Outlet)
			continue
		}
		if names == nil {
			if names, err = d.names(ctx); err != nil {
				return nil, err
			}
		}
		o, ok := names[r.Name]
		if !ok {
			return nil, fmt.Errorf("%s: can't find port with name %s (outlets: %s)", d.cfg, r.Name, outletNames(names))
		}
		out = append(out, o)
	}
	d.resolved[plug] = out
	return out, nil
}

func (d *Device) names(ctx context.Context) (map[string]Outlet, error) {
	vars, err := d.walk(ctx, d.table.Names)
	if err != nil {
		return nil, err
	}
	names := map[string]Outlet{}
	for _, v := range vars {
		o, name, ok := d.table.NameEntry(v)
		if !ok {
			continue
		}
		if prev, dup := names[name]; dup {
			// Two outlets with one name: switching one would leave the
			// other on, so a name is only good when unique.
			names[name] = Outlet{Index: -1, Switch: prev.Index}
			continue
		}
		names[name] = o
	}
	for n, o := range names {
		if o.Index < 0 {
			delete(names, n)
			slog.Warn("pdu has several outlets with one name; refer to them by number", "pdu", d.cfg.String(), "name", n)
		}
	}
	return names, nil
}

func outletNames(m map[string]Outlet) string {
	if len(m) == 0 {
		return "none"
	}
	var s []string
	for n, o := range m {
		s = append(s, o.String()+"="+n)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

// Status reads every outlet of plug: OFF only when all are off, ON when
// any is on.
func (d *Device) Status(ctx context.Context, plug string) (fence.PowerState, error) {
	outs, err := d.outlets(ctx, plug)
	if err != nil {
		return fence.PowerUnknown, fmt.Errorf("%w: %w", fence.ErrStatus, err)
	}
	states, err := d.states(ctx, outs)
	if err != nil {
		return fence.PowerUnknown, err
	}
	st := fence.PowerOff
	for _, s := range states {
		if s == fence.PowerOn {
			st = fence.PowerOn
		}
	}
	return st, nil
}

func (d *Device) states(ctx context.Context, outs []Outlet) ([]fence.PowerState, error) {
	var states []fence.PowerState
	for i := 0; i < len(outs); i += 16 {
		chunk := outs[i:min(i+16, len(outs))]
		oids := make([]string, len(chunk))
		for j, o := range chunk {
			oids[j] = d.table.StatusOID(o)
		}
		vars, err := d.get(ctx, oids...)
		if err != nil {
			return nil, fmt.Errorf("%s: reading outlet state: %w", d.cfg, err)
		}
		for j, v := range vars {
			s, err := d.table.State(v)
			if err != nil {
				return nil, fmt.Errorf("%s: outlet %s: %w", d.cfg, chunk[j], err)
			}
			states = append(states, s)
		}
	}
	return states, nil
}

// SetPower switches every outlet of plug, one SET each, in order.
func (d *Device) SetPower(ctx context.Context, plug string, on bool) error {
	outs, err := d.outlets(ctx, plug)
	if err != nil {
		return err
	}
	val := d.table.TurnOff
	if on {
		val = d.table.TurnOn
	}
	for _, o := range outs {
		oid := d.table.ControlOID(o)
		d.g.Context = ctx
		p, err := d.g.Set([]gosnmp.SnmpPDU{{Name: oid, Type: gosnmp.Integer, Value: val}})
		if err != nil {
			return fmt.Errorf("%s: SET %s = %d (outlet %s): %w", d.cfg, oid, val, o, redact(err, d.cfg))
		}
		if err := checkPacket(fmt.Sprintf("SET %s = %d (outlet %s)", oid, val, o), p, []string{oid}); err != nil {
			return fmt.Errorf("%s: %w", d.cfg, err)
		}
	}
	return nil
}

// List walks the outlet names and reads every outlet's state.
func (d *Device) List(ctx context.Context) ([]fence.Plug, error) {
	vars, err := d.walk(ctx, d.table.Names)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.cfg, err)
	}
	var outs []Outlet
	var plugs []fence.Plug
	for _, v := range vars {
		o, name, ok := d.table.NameEntry(v)
		if !ok {
			continue
		}
		outs = append(outs, o)
		plugs = append(plugs, fence.Plug{ID: o.String(), Alias: name})
	}
	states, err := d.states(ctx, outs)
	if err != nil {
		return nil, err
	}
	for i := range plugs {
		plugs[i].State = states[i]
	}
	return plugs, nil
}

// Monitor checks that the PDU answers with its outlet table, as the
// reference agent's monitor (a walk of the outlet names) does.
func (d *Device) Monitor(ctx context.Context) error {
	vars, err := d.walk(ctx, d.table.Names)
	if err != nil {
		return fmt.Errorf("%s: %w", d.cfg, err)
	}
	for _, v := range vars {
		if _, _, ok := d.table.NameEntry(v); ok {
			return nil
		}
	}
	return fmt.Errorf("%s: %w: no outlets under %s (sysObjectID %s, %s table)", d.cfg, fence.ErrStatus, d.table.Names, d.sysObjectID, d.table.Name)
}

// Close closes the socket.
func (d *Device) Close() error {
	if d.g.Conn == nil {
		return nil
	}
	return d.g.Conn.Close()
}

// loginErr classifies the first request's failure.
func (d *Device) loginErr(err error) error {
	switch {
	case strings.Contains(err.Error(), "not authentic"):
		// gosnmp could not authenticate the agent's answer: the agent
		// refused our user or keys (its report is sent unauthenticated).
		return fmt.Errorf("%w: %s: the PDU rejected the SNMP v3 user, passphrase or protocols: %w", fence.ErrLoginDenied, d.cfg, err)
	case errors.Is(err, gosnmp.ErrWrongDigest), errors.Is(err, gosnmp.ErrUnknownUsername),
		errors.Is(err, gosnmp.ErrUnknownSecurityLevel), errors.Is(err, gosnmp.ErrDecryption),
		errors.Is(err, fence.ErrLoginDenied):
		return fmt.Errorf("%w: %s: %w", fence.ErrLoginDenied, d.cfg, err)
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, io.EOF):
		// An ICMP port unreachable: nothing listens there; reported at once.
		return fmt.Errorf("%w: %s: nothing listening there: %w", fence.ErrUnreachable, d.cfg, err)
	case errors.Is(err, gosnmp.ErrMaxRetriesExceeded), errors.Is(err, context.DeadlineExceeded):
		// No answer: a hung agent, which Execute tries again within the
		// silent-device budget (a wrong community looks just the same).
		hint := ""
		if d.cfg.Version != gosnmp.Version3 {
			hint = " (an agent drops requests with a wrong community silently, so that looks the same)"
		} else if d.cfg.PrivProto != gosnmp.NoPriv {
			hint = " (an agent drops requests it cannot decrypt, e.g. a wrong privacy protocol, silently)"
		}
		return fmt.Errorf("%w: %s%s: %w", fence.ErrNoAnswer, d.cfg, hint, err)
	}
	return fmt.Errorf("%s: %w", d.cfg, err)
}

// redact hides the community and passphrases should a library echo them.
func redact(err error, cfg Config) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range []string{cfg.AuthPass, cfg.PrivPass, cfg.Community} {
		if len(s) >= 4 && strings.Contains(msg, s) {
			msg, changed = strings.ReplaceAll(msg, s, "[hidden]"), true
		}
	}
	if !changed {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
