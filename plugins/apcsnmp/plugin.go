// Package apcsnmp is the APC (and Tripp Lite) PDU fence plugin
// (fence_apc_snmp, alias fence_tripplite_snmp): it switches PDU outlets
// over SNMP v1, v2c or v3 with github.com/gosnmp/gosnmp, using the outlet
// table the PDU's sysObjectID selects, as the ClusterLabs agent does
// (rPDUOutletControl/rPDUOutletStatus on rack PDUs, sPDUOutletCtl on
// others, MasterSwitch plus and Tripp Lite tables).
//
// Import it for its side effect; it registers with package fence:
//
//	import _ "palisade/plugins/apcsnmp"
//	agent, err := fence.NewAgent("fence_apc_snmp", map[string]string{
//		"ip": "198.18.0.20", "plug": "3,4",          // both PSUs of a node
//		"snmp_version": "3", "snmp_sec_level": "authPriv",
//		"username": "fence", "password_file": "/etc/palisade/pdu-auth.pw",
//		"snmp_auth_prot": "SHA", "snmp_priv_prot": "AES",
//		"snmp_priv_passwd_file": "/etc/palisade/pdu-priv.pw",
//	})
//
// Differences from the reference agent:
//   - No snmpget/snmpset/snmpwalk children: one UDP socket per request, and
//     the passphrases never appear in any process's argv.
//   - An outlet is OFF only when the PDU says off; an unknown or missing
//     state is an error (the reference reports OFF for anything but on).
//   - Several outlets (plug "3,4", plug_separator) are switched together:
//     all off, verified, then all on; status is ON while any is on. The
//     reference resolves the first outlet only and switches it repeatedly.
//   - list-status prints each outlet's real state (the reference prints
//     UNKNOWN for all).
//   - SNMP errors (noSuchName, wrongValue, authorizationError, wrong
//     digest, unknown user) are reported as such.
package apcsnmp

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"palisade/fence"
)

// Parameter names, as fence_apc_snmp spells them (plus Palisade's).
const (
	OptCommunity          = "community"
	OptSNMPVersion        = "snmp_version"
	OptSNMPAuthProt       = "snmp_auth_prot"
	OptSNMPSecLevel       = "snmp_sec_level"
	OptSNMPPrivProt       = "snmp_priv_prot"
	OptSNMPPrivPasswd     = "snmp_priv_passwd"
	OptSNMPPrivPasswdScr  = "snmp_priv_passwd_script"
	OptSNMPPrivPasswdFile = "snmp_priv_passwd_file"
	OptSNMPPrivPasswdEnv  = "snmp_priv_passwd_env"
)

// Plugin is the fence_apc_snmp plugin description (registered in init).
var Plugin = &fence.Plugin{
	Name:      "fence_apc_snmp",
	ShortDesc: "Fence agent for APC, Tripplite PDU over SNMP",
	LongDesc: "fence_apc_snmp is an I/O Fencing agent which can be used with the APC network power switch or Tripplite PDU devices." +
		"It logs into a device via SNMP and reboots a specified outlet. It supports SNMP v1, v2c, v3 with all combinations of  authenticity/privacy settings.",
	VendorURL: "http://www.apc.com",
	Aliases:   []fence.Alias{{Name: "fence_tripplite_snmp", ShortDesc: "Fence agent for Tripplife over SNMP"}},
	HasPlugs:  true,
	Defaults:  map[string]string{fence.OptIPPort: "161"},
	Params: []fence.Param{
		{Name: OptCommunity, Short: 'c', Type: fence.TypeString, Default: "private", Placeholder: "[community]", ShortDesc: "Set the community string", Order: 1},
		{Name: OptSNMPAuthProt, Short: 'b', Type: fence.TypeSelect, Choices: []string{"MD5", "SHA"}, Placeholder: "[prot]", ShortDesc: "Set authentication protocol", Order: 1},
		{Name: OptSNMPPrivPasswd, Short: 'P', Type: fence.TypeString, Placeholder: "[pass]", ShortDesc: "Set privacy protocol password", Order: 1},
		{Name: OptSNMPPrivPasswdScr, Short: 'R', Type: fence.TypeString, ShortDesc: "Script to run to retrieve privacy password", Order: 1},
		{Name: OptSNMPPrivPasswdFile, Type: fence.TypeString, Placeholder: "[path]", ShortDesc: "File holding the privacy password (mode 0600 or stricter; Palisade extension)", Order: 1},
		{Name: OptSNMPPrivPasswdEnv, Type: fence.TypeString, Placeholder: "[variable]", ShortDesc: "Environment variable holding the privacy password (Palisade extension)", Order: 1},
		{Name: OptSNMPPrivProt, Short: 'B', Type: fence.TypeSelect, Choices: []string{"DES", "AES"}, Placeholder: "[prot]", ShortDesc: "Set privacy protocol", Order: 1},
		{Name: OptSNMPSecLevel, Short: 'E', Type: fence.TypeSelect, Choices: []string{"noAuthNoPriv", "authNoPriv", "authPriv"}, Placeholder: "[level]", ShortDesc: "Set security level", Order: 1},
		{Name: OptSNMPVersion, Short: 'd', Type: fence.TypeSelect, Default: "1", Choices: []string{"1", "2c", "3"}, Placeholder: "[version]", ShortDesc: "Specifies SNMP version to use", Order: 1},
		// Paths of the reference's net-snmp children: accepted, unused, and
		// listed so that tools checking a CIB against the metadata (pcs,
		// crmsh) accept the same devices.
		{Name: "snmpget_path", Type: fence.TypeString, Default: "/usr/bin/snmpget", Placeholder: "[path]", ShortDesc: "Path to snmpget binary (accepted and ignored: this agent speaks SNMP itself)", Order: 1000},
		{Name: "snmpset_path", Type: fence.TypeString, Default: "/usr/bin/snmpset", Placeholder: "[path]", ShortDesc: "Path to snmpset binary (accepted and ignored: this agent speaks SNMP itself)", Order: 1000},
		{Name: "snmpwalk_path", Type: fence.TypeString, Default: "/usr/bin/snmpwalk", Placeholder: "[path]", ShortDesc: "Path to snmpwalk binary (accepted and ignored: this agent speaks SNMP itself)", Order: 1000},
	},
	Open: open,
	// The daemon's device monitor keeps the socket (SNMP has no session to
	// expire; a v3 engine that restarted is rediscovered on a new one).
	KeepSession: true,
}

func init() { fence.Register(Plugin) }

// Config is the SNMP connection configuration built from fence options.
type Config struct {
	Host      string
	Port      int
	Version   gosnmp.SnmpVersion
	Community string
	// v3 (USM).
	Username  string
	Level     gosnmp.SnmpV3MsgFlags
	AuthProto gosnmp.SnmpV3AuthProtocol
	AuthPass  string
	PrivProto gosnmp.SnmpV3PrivProtocol
	PrivPass  string
	// Separator splits the plug option into several outlets.
	Separator string
	// Timeout is one request's wait for an answer; Retries resends it
	// (outlet on/off SETs are idempotent, so a resent SET is harmless).
	Timeout time.Duration
	Retries int
}

// String never shows the community or the passphrases.
func (c Config) String() string {
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	switch c.Version {
	case gosnmp.Version3:
		return fmt.Sprintf("snmpv3 %s@%s", c.Username, addr)
	case gosnmp.Version2c:
		return "snmpv2c " + addr
	}
	return "snmpv1 " + addr
}

// ConfigFromOptions validates the SNMP options. Defaults follow net-snmp,
// whose tools the reference agent runs: security level noAuthNoPriv
// unless given (authPriv when both passphrases are given), MD5, DES.
func ConfigFromOptions(o fence.Options) (Config, error) {
	c := Config{
		Host:      o[fence.OptIP],
		Community: o[OptCommunity],
		Username:  o[fence.OptUsername],
		AuthPass:  o[fence.OptPassword],
		Separator: o[fence.OptPlugSeparator],
		Timeout:   time.Second,
		Retries:   2,
		AuthProto: gosnmp.NoAuth,
		PrivProto: gosnmp.NoPriv,
	}
	if c.Host == "" {
		return c, fmt.Errorf("%w: you have to enter fence address (ip)", fence.ErrConfig)
	}
	c.Host = strings.TrimSuffix(strings.TrimPrefix(c.Host, "["), "]")
	port := o[fence.OptIPPort]
	if port == "" {
		port = "161"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return c, fmt.Errorf("%w: ipport %q is not a UDP port number", fence.ErrConfig, port)
	}
	c.Port = p
	switch o[OptSNMPVersion] {
	case "", "1":
		c.Version = gosnmp.Version1
	case "2c":
		c.Version = gosnmp.Version2c
	case "3":
		c.Version = gosnmp.Version3
	default:
		return c, fmt.Errorf("%w: snmp_version %q is not 1, 2c or 3", fence.ErrConfig, o[OptSNMPVersion])
	}
	if c.Version != gosnmp.Version3 {
		if c.Community == "" {
			return c, fmt.Errorf("%w: SNMP v%s needs a community", fence.ErrConfig, o[OptSNMPVersion])
		}
		return c, nil
	}
	priv, err := privPassword(o)
	if err != nil {
		return c, err
	}
	c.PrivPass = priv
	level := strings.ToLower(o[OptSNMPSecLevel])
	if level == "" && priv != "" && c.AuthPass != "" {
		level = "authpriv" // fencing_snmp.py's complete_missed_params
	}
	switch level {
	case "", "noauthnopriv":
		c.Level = gosnmp.NoAuthNoPriv
	case "authnopriv":
		c.Level = gosnmp.AuthNoPriv
	case "authpriv":
		c.Level = gosnmp.AuthPriv
	}
	if c.Username == "" {
		return c, fmt.Errorf("%w: SNMP v3 needs a user name (username)", fence.ErrConfig)
	}
	if c.Level != gosnmp.NoAuthNoPriv {
		if c.AuthPass == "" {
			return c, fmt.Errorf("%w: security level %s needs the authentication passphrase (password)", fence.ErrConfig, o[OptSNMPSecLevel])
		}
		if len(c.AuthPass) < 8 {
			return c, fmt.Errorf("%w: the SNMP v3 authentication passphrase must have at least 8 characters (RFC 3414)", fence.ErrConfig)
		}
		c.AuthProto = gosnmp.MD5
		if strings.EqualFold(o[OptSNMPAuthProt], "SHA") {
			c.AuthProto = gosnmp.SHA
		}
	}
	if c.Level == gosnmp.AuthPriv {
		if c.PrivPass == "" {
			return c, fmt.Errorf("%w: security level authPriv needs the privacy passphrase (snmp_priv_passwd)", fence.ErrConfig)
		}
		if len(c.PrivPass) < 8 {
			return c, fmt.Errorf("%w: the SNMP v3 privacy passphrase must have at least 8 characters (RFC 3414)", fence.ErrConfig)
		}
		c.PrivProto = gosnmp.DES
		if strings.EqualFold(o[OptSNMPPrivProt], "AES") {
			c.PrivProto = gosnmp.AES
		}
	}
	return c, nil
}

// privPassword reads the privacy passphrase from the option, a file (mode
// 0600 or stricter), an environment variable or a script, like the login
// password.
func privPassword(o fence.Options) (string, error) {
	tmp := fence.Options{}
	switch {
	case o.Has(OptSNMPPrivPasswd):
		return o[OptSNMPPrivPasswd], nil
	case o[OptSNMPPrivPasswdFile] != "":
		tmp[fence.OptPasswordFile] = o[OptSNMPPrivPasswdFile]
	case o[OptSNMPPrivPasswdEnv] != "":
		tmp[fence.OptPasswordEnv] = o[OptSNMPPrivPasswdEnv]
	case o[OptSNMPPrivPasswdScr] != "":
		tmp[fence.OptPasswordScrip] = o[OptSNMPPrivPasswdScr]
	default:
		return "", nil
	}
	if err := fence.ResolvePassword(tmp); err != nil {
		return "", fmt.Errorf("privacy passphrase: %w", err)
	}
	return tmp[fence.OptPassword], nil
}

func open(o fence.Options) (fence.Opener, error) {
	cfg, err := ConfigFromOptions(o)
	if err != nil {
		return nil, err
	}
	// Checked here so validate-all and the daemon's start-up find a bad
	// plug without the device (switch numbers are checked once the PDU's
	// table is known).
	if plug := o[fence.OptPlug]; plug != "" {
		if _, err := ParsePlugs(plug, cfg.Separator, true); err != nil {
			return nil, err
		}
	}
	return cfg.Opener(), nil
}
