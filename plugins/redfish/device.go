package redfish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stmcginnis/gofish"
	"github.com/stmcginnis/gofish/schemas"

	"palisade/fence"
)

// closeTimeout bounds deleting the session: the fence result is known by
// then, so a BMC that does not answer must not delay it.
const closeTimeout = time.Second

// Device is one open connection (and session) to a Redfish service,
// controlling one ComputerSystem. It implements fence.Device and
// fence.Diagnoser.
type Device struct {
	cfg    Config
	hc     *http.Client
	c      *gofish.APIClient
	system string
	// last is the system as last read: the Reset target and the reset
	// types come from it.
	last  *schemas.ComputerSystem
	types []schemas.ResetType
}

// Opener returns a fence.Opener that logs in with cfg.
func (cfg Config) Opener() fence.Opener {
	return func(ctx context.Context) (fence.Device, error) { return cfg.Open(ctx) }
}

func (cfg Config) httpClient() *http.Client {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case cfg.Insecure:
		tc.InsecureSkipVerify = true //nolint:gosec // ssl_insecure asked for it
	case cfg.RootCAs != nil:
		tc.RootCAs = cfg.RootCAs
	default:
		// The system's roots, verified here rather than by crypto/tls only
		// to make a one-shot fence_redfish fast: see verifySystem.
		tc.InsecureSkipVerify = true //nolint:gosec // VerifyConnection verifies
		tc.VerifyConnection = verifySystem(cfg.Host)
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tc,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		},
		// A BMC that redirects is followed only to the same host: the
		// credentials must not go anywhere else.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 || req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// bundleFiles are the CA bundles tried for the fast path: the file
// SSL_CERT_FILE names, else the distributions' bundles.
var bundleFiles = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem"}

var (
	bundleOnce sync.Once
	bundle     *x509.CertPool
)

// verifySystem verifies the server's chain for host against the system's
// roots, accepting exactly what crypto/tls with x509.SystemCertPool
// accepts. Go's system pool also parses every file of /etc/ssl/certs,
// which costs a one-shot fence_redfish about 10 ms; the bundle file holds
// the same roots on Debian and RHEL, so it is tried first and the full
// pool only when the bundle does not verify the chain.
func verifySystem(host string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the BMC sent no certificate")
		}
		opts := x509.VerifyOptions{DNSName: host, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		leaf := cs.PeerCertificates[0]
		bundleOnce.Do(func() {
			files := bundleFiles
			if f := os.Getenv("SSL_CERT_FILE"); f != "" {
				files = []string{f}
			}
			for _, f := range files {
				if pem, err := os.ReadFile(f); err == nil {
					p := x509.NewCertPool()
					if p.AppendCertsFromPEM(pem) {
						bundle = p
						return
					}
				}
			}
		})
		if bundle != nil {
			opts.Roots = bundle
			if _, err := leaf.Verify(opts); err == nil {
				return nil
			}
		}
		sys, err := x509.SystemCertPool()
		if err == nil {
			opts.Roots = sys
			_, err = leaf.Verify(opts)
		}
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
}

// Open connects, authenticates (a session, or basic auth) and finds the
// system. ctx bounds all of it (Execute passes login_timeout).
func (cfg Config) Open(ctx context.Context) (*Device, error) {
	d := &Device{cfg: cfg, hc: cfg.httpClient()}
	c, err := d.connect(ctx, cfg.BasicAuth)
	if err != nil && !cfg.BasicAuth && noSessionService(err) {
		slog.Debug("redfish service has no session service; using basic auth", "bmc", cfg.String(), "err", describe(err))
		c, err = d.connect(ctx, true)
	}
	if err != nil {
		d.hc.CloseIdleConnections()
		return nil, d.loginErr("logging in", err)
	}
	d.c = c
	d.system = cfg.SystemsURI
	if d.system == "" {
		if d.system, err = d.discover(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	slog.Debug("redfish session open", "bmc", cfg.String(), "system", d.system, "session", d.hasSession())
	return d, nil
}

// connect reads the service root and, unless basic, opens a session.
func (d *Device) connect(ctx context.Context, basic bool) (*gofish.APIClient, error) {
	return gofish.ConnectContext(ctx, gofish.ClientConfig{
		Endpoint: d.cfg.Endpoint(), Username: d.cfg.Username, Password: d.cfg.Password,
		BasicAuth: basic, HTTPClient: d.hc, NoModifyTransport: true, ReuseConnections: true,
	})
}

// noSessionService: the session could not be created because the service
// has none (no Sessions link, or the collection refuses POST).
func noSessionService(err error) bool {
	if he, ok := asHTTPError("", err); ok {
		return he.Status == 404 || he.Status == 405 || he.Status == 501
	}
	return strings.Contains(err.Error(), "no target provided")
}

func (d *Device) hasSession() bool {
	_, err := d.c.GetSession()
	return err == nil
}

// discover finds the one ComputerSystem of the service, as the reference
// agent does (service root -> Systems -> Members), but refuses a choice.
func (d *Device) discover(ctx context.Context) (string, error) {
	var root struct {
		Systems struct {
			ID string `json:"@odata.id"`
		}
	}
	if err := d.getJSON(ctx, d.cfg.RedfishURI, &root); err != nil {
		return "", d.loginErr("reading "+d.cfg.RedfishURI, err)
	}
	if root.Systems.ID == "" {
		return "", fmt.Errorf("redfish %s: %w: %s links no Systems collection; set systems_uri", d.cfg, fence.ErrStatus, d.cfg.RedfishURI)
	}
	var coll struct {
		Members []struct {
			ID string `json:"@odata.id"`
		}
	}
	if err := d.getJSON(ctx, root.Systems.ID, &coll); err != nil {
		return "", d.loginErr("reading "+root.Systems.ID, err)
	}
	var ids []string
	for _, m := range coll.Members {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("redfish %s: %w: %s has no members", d.cfg, fence.ErrStatus, root.Systems.ID)
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("redfish %s: %w: the service has %d systems (%s); set systems_uri to the one to fence",
		d.cfg, fence.ErrConfig, len(ids), strings.Join(ids, ", "))
}

// client is the gofish client bound to ctx for one call.
func (d *Device) client(ctx context.Context) *gofish.APIClient { return d.c.WithContext(ctx) }

// get reads uri; on a 401 with a session it logs in again once (a kept
// session may have expired) and retries.
func (d *Device) get(ctx context.Context, uri string) ([]byte, error) {
	body, err := d.getOnce(ctx, uri)
	if err != nil && d.renew(ctx, err) {
		body, err = d.getOnce(ctx, uri)
	}
	return body, err
}

func (d *Device) getOnce(ctx context.Context, uri string) ([]byte, error) {
	resp, err := d.client(ctx).Get(uri)
	if err != nil {
		if he, ok := asHTTPError("GET "+uri, err); ok {
			return nil, he
		}
		return nil, fmt.Errorf("GET %s: %w", uri, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the answer: %w", uri, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("GET %s: answer larger than %d bytes", uri, maxBody)
	}
	return body, nil
}

func (d *Device) getJSON(ctx context.Context, uri string, v any) error {
	body, err := d.get(ctx, uri)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", uri, err)
	}
	return nil
}

// renew logs in again after a 401 on a session client. It reports whether
// the request is worth repeating.
func (d *Device) renew(ctx context.Context, err error) bool {
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || !d.hasSession() {
		return false
	}
	slog.Debug("redfish session rejected; logging in again", "bmc", d.cfg.String())
	c, cerr := d.connect(ctx, false)
	if cerr != nil {
		slog.Debug("redfish login again failed", "bmc", d.cfg.String(), "err", redact(cerr, d.cfg.Password))
		return false
	}
	d.c = c
	return true
}

// readSystem reads the system resource once.
func (d *Device) readSystem(ctx context.Context) (*schemas.ComputerSystem, error) {
	body, err := d.get(ctx, d.system)
	if err != nil {
		return nil, err
	}
	cs, err := decodeSystem(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", d.system, err)
	}
	cs.SetClient(d.c)
	d.last = cs
	return cs, nil
}

// Status reads PowerState. PoweringOn and PoweringOff are waited out (up to
// power_timeout and ctx): only On, Off (and Paused, as ON) are answers.
func (d *Device) Status(ctx context.Context, _ string) (fence.PowerState, error) {
	var deadline <-chan time.Time
	if d.cfg.TransitionTimeout > 0 {
		t := time.NewTimer(d.cfg.TransitionTimeout)
		defer t.Stop()
		deadline = t.C
	}
	limit := d.cfg.PollCap
	if limit <= 0 {
		limit = time.Second
	}
	wait := 10 * time.Millisecond
	for {
		cs, err := d.readSystem(ctx)
		if err != nil {
			return fence.PowerUnknown, fmt.Errorf("redfish %s: %w", d.cfg, redact(err, d.cfg.Password))
		}
		st, final := powerOf(cs.PowerState)
		if final {
			if st == fence.PowerUnknown {
				return st, fmt.Errorf("redfish %s: %s reports PowerState %q", d.cfg, d.system, clean(string(cs.PowerState)))
			}
			return st, nil
		}
		slog.Debug("redfish system in transition", "bmc", d.cfg.String(), "state", string(cs.PowerState))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-deadline:
			t.Stop()
			return fence.PowerUnknown, fmt.Errorf("redfish %s: %s still %s after power_timeout %s", d.cfg, d.system, cs.PowerState, d.cfg.TransitionTimeout)
		case <-ctx.Done():
			t.Stop()
			return fence.PowerUnknown, fmt.Errorf("redfish %s: %s still %s: %w", d.cfg, d.system, cs.PowerState, ctx.Err())
		}
		wait = min(2*wait, limit)
	}
}

// SetPower sends ComputerSystem.Reset with the advertised type for on/off.
func (d *Device) SetPower(ctx context.Context, _ string, on bool) error {
	want := []schemas.ResetType{schemas.ResetType(d.cfg.OffType)}
	if on {
		want = []schemas.ResetType{schemas.OnResetType, schemas.ForceOnResetType, schemas.PushPowerButtonResetType}
	}
	return d.reset(ctx, want)
}

// Diag sends a diagnostic interrupt (ResetType Nmi).
func (d *Device) Diag(ctx context.Context, _ string) error {
	return d.reset(ctx, []schemas.ResetType{schemas.NmiResetType})
}

// reset posts the first of want the system advertises. A system that
// advertises nothing gets want[0].
func (d *Device) reset(ctx context.Context, want []schemas.ResetType) error {
	cs := d.last
	if cs == nil {
		var err error
		if cs, err = d.readSystem(ctx); err != nil {
			return fmt.Errorf("redfish %s: %w", d.cfg, redact(err, d.cfg.Password))
		}
	}
	if d.types == nil {
		cs.SetClient(d.client(ctx))
		types, err := cs.GetSupportedResetTypes()
		if err != nil {
			return fmt.Errorf("redfish %s: reading the reset types of %s: %w", d.cfg, d.system, describe(err))
		}
		d.types = append([]schemas.ResetType{}, types...)
	}
	rt := want[0]
	if len(d.types) > 0 {
		i := slices.IndexFunc(want, func(t schemas.ResetType) bool { return slices.Contains(d.types, t) })
		if i < 0 {
			return fmt.Errorf("redfish %s: %w: %s advertises reset types %v, none of %v", d.cfg, fence.ErrUnsupported, d.system, d.types, want)
		}
		rt = want[i]
	}
	slog.Debug("redfish reset", "bmc", d.cfg.String(), "system", d.system, "type", string(rt))
	err := d.postReset(ctx, cs, rt)
	if err != nil && d.renew(ctx, err) {
		err = d.postReset(ctx, cs, rt)
	}
	if err != nil {
		return fmt.Errorf("redfish %s: %w", d.cfg, redact(err, d.cfg.Password))
	}
	return nil
}

func (d *Device) postReset(ctx context.Context, cs *schemas.ComputerSystem, rt schemas.ResetType) error {
	cs.SetClient(d.client(ctx))
	if _, err := cs.Reset(rt); err != nil {
		op := "POST " + d.system + "/Actions/ComputerSystem.Reset (ResetType " + string(rt) + ")"
		if he, ok := asHTTPError(op, err); ok {
			return he
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Close deletes the session (if any) and closes the connections.
func (d *Device) Close() error {
	defer d.hc.CloseIdleConnections()
	sess, err := d.c.GetSession()
	if err != nil {
		return nil // basic auth: nothing to end
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := d.client(ctx).Service.DeleteSession(sess.ID); err != nil {
		return fmt.Errorf("redfish %s: deleting session %s: %w", d.cfg, sess.ID, describe(err))
	}
	return nil
}

// System is the URI of the controlled ComputerSystem.
func (d *Device) System() string { return d.system }

func describe(err error) error {
	if he, ok := asHTTPError("", err); ok {
		return he
	}
	return err
}

// loginErr classifies a failure while logging in: refused credentials, a
// certificate the client does not trust (a configuration error), nobody
// answering (silent, or refused at the TCP level), or something else (a
// broken service), always with what the service said.
func (d *Device) loginErr(doing string, err error) error {
	if he, ok := asHTTPError("", err); ok {
		err = he
	}
	msg := redact(err, d.cfg.Password)
	var he *HTTPError
	switch {
	case errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden):
		return fmt.Errorf("%w: redfish %s: %s: %w", fence.ErrLoginDenied, d.cfg, doing, msg)
	case isCertErr(err):
		// A configuration problem (or someone else answering): logging in
		// again cannot help, so it is reported at once, not retried.
		return fmt.Errorf("%w: redfish %s: %s: the BMC's certificate is not trusted (set ssl_ca_file, or ssl_insecure to skip verification): %w", fence.ErrConfig, d.cfg, doing, msg)
	case isSilent(err):
		// Connected (or connecting) and no answer in time: a hung BMC,
		// which Execute tries again within the silent-device budget.
		return fmt.Errorf("%w: redfish %s: %s: %w", fence.ErrNoAnswer, d.cfg, doing, msg)
	case isUnreachable(err):
		// Refused or reset: nothing to wait for, reported at once.
		return fmt.Errorf("%w: redfish %s: %s: %w", fence.ErrUnreachable, d.cfg, doing, msg)
	}
	return fmt.Errorf("redfish %s: %s: %w", d.cfg, doing, msg)
}

func isCertErr(err error) bool {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &ve)
}

func isUnreachable(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// isSilent reports whether err means the BMC sent nothing in time (a
// connect, TLS handshake or response that timed out).
func isSilent(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
