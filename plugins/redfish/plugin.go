// Package redfish is the Redfish fence plugin (fence_redfish): it powers a
// server off and on through its BMC's Redfish service (iDRAC, iLO, XCC,
// OpenBMC, ...) with github.com/stmcginnis/gofish.
//
// Import it for its side effect; it registers with package fence:
//
//	import _ "palisade/plugins/redfish"
//	agent, err := fence.NewAgent("fence_redfish", map[string]string{
//		"ip": "198.18.0.10", "username": "admin",
//		"password_file": "/etc/palisade/bmc-n1.pw",
//		"ssl_ca_file": "/etc/palisade/bmc-ca.pem", // or ssl_insecure: "1"
//	})
//
// What it does beyond the ClusterLabs agent of the same name:
//   - HTTPS with certificate verification unless ssl_insecure is set;
//     ssl_ca_file (Palisade extension) names the CA to trust, otherwise the
//     system's roots (SSL_CERT_FILE / SSL_CERT_DIR) are used.
//   - A Redfish session per request (auth_method=session, the default; the
//     session is deleted when the request ends) or HTTP basic auth
//     (auth_method=basic, what the reference agent does on every request).
//     A service without a session service is used with basic auth.
//   - The system is found from the service root unless systems_uri names
//     it; a service with several systems is refused (the reference agent
//     silently takes the last one) so the wrong machine is never fenced.
//   - Power changes use ComputerSystem.Reset with a reset type the system
//     advertises (ForceOff, or GracefulShutdown with off_reset_type; On,
//     else ForceOn or PushPowerButton; Nmi for diag).
//   - PoweringOn and PoweringOff are not final states: status waits for On
//     or Off (up to power_timeout).
//   - HTTP status codes and @Message.ExtendedInfo error bodies are checked
//     and reported in the error.
//
// Each Device (one open session) can also be kept by a caller for many
// status reads (the daemon's monitor): an expired session is renewed once
// on a 401.
package redfish

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"palisade/fence"
)

// Parameter names specific to Redfish, as fence_redfish spells them (plus
// Palisade's extensions).
const (
	OptRedfishURI   = "redfish_uri"
	OptSystemsURI   = "systems_uri"
	OptSSL          = "ssl"
	OptSSLInsecure  = "ssl_insecure"
	OptSSLSecure    = "ssl_secure"
	OptSSLCAFile    = "ssl_ca_file"
	OptAuthMethod   = "auth_method"
	OptOffResetType = "off_reset_type"
)

// Plugin is the fence_redfish plugin description (registered in init).
var Plugin = &fence.Plugin{
	Name:      "fence_redfish",
	ShortDesc: "I/O Fencing agent for Redfish",
	LongDesc: "fence_redfish is an I/O Fencing agent which can be used with Out-of-Band controllers that support Redfish APIs. " +
		"These controllers provide remote access to control power on a server. This implementation verifies the BMC's " +
		"certificate unless told otherwise, uses a Redfish session per request, reports the BMC's error messages, and " +
		"waits for PoweringOn/PoweringOff to end before reporting a power state.",
	VendorURL: "http://www.dmtf.org",
	// fence-agents 4.12 ships no vendor-named Redfish agents
	// (fence_idrac, fence_ilo* are IPMI agents), so there are no aliases.
	Defaults: map[string]string{fence.OptIPPort: "443"},
	Actions:  []fence.Action{fence.ActionDiag},
	Params: []fence.Param{
		{Name: OptRedfishURI, Legacy: "redfish-uri", Type: fence.TypeString, Default: "/redfish/v1", Placeholder: "[uri]", ShortDesc: "Base or starting Redfish URI", Order: 1},
		{Name: OptSystemsURI, Legacy: "systems-uri", Type: fence.TypeString, Placeholder: "[uri]", ShortDesc: "Redfish Systems resource URI, i.e. /redfish/v1/Systems/System.Embedded.1", Order: 1},
		{Name: OptSSL, Short: 'z', Type: fence.TypeBoolean, Default: "1", ShortDesc: "Use SSL connection with verifying certificate", Order: 1},
		{Name: OptSSLInsecure, Type: fence.TypeBoolean, ShortDesc: "Use SSL connection without verifying certificate", Order: 1},
		{Name: OptSSLSecure, Type: fence.TypeBoolean, ShortDesc: "Use SSL connection with verifying certificate", Order: 1},
		{Name: OptSSLCAFile, Type: fence.TypeString, Placeholder: "[path]", ShortDesc: "PEM file with the CA certificates to trust for the BMC (Palisade extension; default: the system's)", Order: 1},
		{Name: OptAuthMethod, Type: fence.TypeSelect, Default: "session", Choices: []string{"session", "basic"}, Placeholder: "[method]", ShortDesc: "Authenticate with a Redfish session (deleted afterwards) or HTTP basic auth on every request (Palisade extension)", Order: 1},
		{Name: OptOffResetType, Type: fence.TypeSelect, Default: "ForceOff", Choices: []string{"ForceOff", "GracefulShutdown"}, Placeholder: "[type]", ShortDesc: "Reset type used to power off (Palisade extension; OFF is verified either way)", Order: 1},
		// The reference lists gnutls-cli (used by its other SSL agents);
		// there is no child process here. Listed so that tools checking a
		// CIB against the metadata (pcs, crmsh) accept the same devices.
		{Name: "gnutlscli_path", Type: fence.TypeString, Default: "/usr/bin/gnutls-cli", Placeholder: "[path]", ShortDesc: "Path to gnutls-cli binary (accepted and ignored: this agent speaks HTTPS itself)", Order: 1000},
	},
	Open: open,
	// A session is kept by the daemon's device monitor: an expired one is
	// renewed on a 401 (see Device).
	KeepSession: true,
}

func init() { fence.Register(Plugin) }

// Config is the connection configuration built from fence options.
type Config struct {
	Host       string
	Port       int
	Username   string
	Password   string
	RedfishURI string
	// SystemsURI is the ComputerSystem to control; "" = discover it.
	SystemsURI string
	Insecure   bool
	// RootCAs are the CAs to trust; nil = the system's.
	RootCAs *x509.CertPool
	// BasicAuth sends the credentials with every request instead of
	// opening a session.
	BasicAuth bool
	// OffType is the reset type for "off" (ForceOff or GracefulShutdown).
	OffType string
	// TransitionTimeout bounds waiting for PoweringOn/PoweringOff to end
	// in a status read (power_timeout); 0 = only the caller's context.
	TransitionTimeout time.Duration
	// PollCap caps the interval between reads while waiting
	// (stonith_status_sleep).
	PollCap time.Duration
}

// String never shows the password.
func (c Config) String() string {
	return fmt.Sprintf("%s@%s", c.Username, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
}

// Endpoint is the service's base URL.
func (c Config) Endpoint() string {
	return "https://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// ConfigFromOptions validates the Redfish options.
func ConfigFromOptions(o fence.Options) (Config, error) {
	c := Config{
		Host:              o[fence.OptIP],
		Username:          o[fence.OptUsername],
		Password:          o[fence.OptPassword],
		RedfishURI:        o[OptRedfishURI],
		SystemsURI:        o[OptSystemsURI],
		Insecure:          o.Bool(OptSSLInsecure),
		BasicAuth:         strings.EqualFold(o[OptAuthMethod], "basic"),
		OffType:           "ForceOff",
		TransitionTimeout: o.Seconds(fence.OptPowerTimeout),
		PollCap:           o.Seconds(fence.OptStatusSleep),
	}
	if strings.EqualFold(o[OptOffResetType], "GracefulShutdown") {
		c.OffType = "GracefulShutdown"
	}
	if c.Host == "" {
		return c, fmt.Errorf("%w: you have to enter fence address (ip)", fence.ErrConfig)
	}
	port := o[fence.OptIPPort]
	// fence_redfish accepts "host:port" in ip for backwards compatibility.
	if strings.Count(c.Host, ":") == 1 {
		c.Host, port, _ = strings.Cut(c.Host, ":")
	}
	c.Host = strings.TrimSuffix(strings.TrimPrefix(c.Host, "["), "]")
	if port == "" {
		port = "443"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return c, fmt.Errorf("%w: ipport %q is not a TCP port number", fence.ErrConfig, port)
	}
	c.Port = p
	if c.Username == "" {
		return c, fmt.Errorf("%w: you have to enter a login name (username)", fence.ErrConfig)
	}
	if c.RedfishURI == "" {
		c.RedfishURI = "/redfish/v1"
	}
	for _, u := range []struct{ name, v string }{{OptRedfishURI, c.RedfishURI}, {OptSystemsURI, c.SystemsURI}} {
		if u.v != "" && (!strings.HasPrefix(u.v, "/") || strings.ContainsAny(u.v, " \t\r\n?#")) {
			return c, fmt.Errorf("%w: %s %q is not an absolute URI path such as /redfish/v1/Systems/1", fence.ErrConfig, u.name, u.v)
		}
	}
	if f := o[OptSSLCAFile]; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("%w: reading ssl_ca_file: %w", fence.ErrConfig, err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return c, fmt.Errorf("%w: ssl_ca_file %s holds no PEM certificate", fence.ErrConfig, f)
		}
	}
	return c, nil
}

func open(o fence.Options) (fence.Opener, error) {
	cfg, err := ConfigFromOptions(o)
	if err != nil {
		return nil, err
	}
	return cfg.Opener(), nil
}
