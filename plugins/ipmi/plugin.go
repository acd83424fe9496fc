// Package ipmi is the IPMI-over-LAN fence plugin (fence_ipmilan and the
// aliases fence-agents ships for it: fence_ipmilanplus, fence_idrac,
// fence_ilo3, fence_ilo4, fence_ilo5, fence_imm). It speaks IPMI 2.0 RMCP+
// (lanplus: cipher suites 3 and 17, and any other go-ipmi supports) and
// IPMI 1.5 natively through github.com/bougou/go-ipmi: no ipmitool child,
// so the password is never in any process's argv.
//
// Import it for its side effect; it registers with package fence:
//
//	import _ "palisade/plugins/ipmi"
//	agent, err := fence.NewAgent("fence_ipmilan", params)
//
// Each fence request uses one RMCP+ session for every step (status, off,
// verify, on, verify); verification polls "chassis status" with no fixed
// sleep. Login failures are told apart: fence.ErrLoginDenied when the BMC
// answers and refuses, fence.ErrUnreachable when it does not answer within
// login_timeout.
package ipmi

import (
	"fmt"
	"strconv"
	"strings"

	"palisade/fence"
)

// Parameter names specific to IPMI, as fence_ipmilan spells them.
const (
	OptLanplus = "lanplus"
	OptCipher  = "cipher"
	OptPrivlvl = "privlvl"
	OptAuth    = "auth"
	OptKg      = "hexadecimal_kg"
	OptTarget  = "target"
)

// Plugin is the fence_ipmilan plugin description (registered in init).
var Plugin = &fence.Plugin{
	Name:      "fence_ipmilan",
	ShortDesc: "Fence agent for IPMI",
	LongDesc: "fence_ipmilan is an I/O Fencing agent which can be used with machines controlled by IPMI. " +
		"This implementation speaks IPMI over LAN (IPMI 1.5 and 2.0 lanplus) natively, without ipmitool, " +
		"and verifies every power change by reading the chassis power state back.",
	Aliases: []fence.Alias{
		{Name: "fence_ilo3", ShortDesc: "Fence agent for HP iLO3", Defaults: map[string]string{OptLanplus: "1", fence.OptPowerWait: "4"}},
		{Name: "fence_ilo4", ShortDesc: "Fence agent for HP iLO4", Defaults: map[string]string{OptLanplus: "1"}},
		{Name: "fence_ilo5", ShortDesc: "Fence agent for HP iLO5", Defaults: map[string]string{OptLanplus: "1"}},
		{Name: "fence_ipmilanplus", ShortDesc: "Fence agent for IPMIv2 lanplus", Defaults: map[string]string{OptLanplus: "1"}},
		{Name: "fence_imm", ShortDesc: "Fence agent for IBM Integrated Management Module"},
		{Name: "fence_idrac", ShortDesc: "Fence agent for Dell iDRAC"},
	},
	Defaults: map[string]string{fence.OptIPPort: "623", fence.OptPowerWait: "2"},
	Actions:  []fence.Action{fence.ActionDiag},
	Params: []fence.Param{
		{Name: OptAuth, Short: 'A', Type: fence.TypeSelect, Choices: []string{"md5", "password", "none"}, Placeholder: "[auth]", ShortDesc: "IPMI Lan Auth type.", Order: 1},
		{Name: OptCipher, Short: 'C', Type: fence.TypeString, Placeholder: "[cipher]", ShortDesc: "Ciphersuite to use (same as ipmitool -C parameter)", Order: 1},
		{Name: OptLanplus, Short: 'P', Type: fence.TypeBoolean, Default: "0", ShortDesc: "Use Lanplus to improve security of connection", Order: 1},
		{Name: fence.OptMethod, Short: 'm', Type: fence.TypeSelect, Default: "onoff", Choices: []string{"onoff", "cycle"}, Placeholder: "[method]", ShortDesc: "Method to fence", Order: 1},
		{Name: OptPrivlvl, Short: 'L', Type: fence.TypeSelect, Default: "administrator", Choices: []string{"callback", "user", "operator", "administrator"}, Placeholder: "[level]", ShortDesc: "Privilege level on IPMI device", Order: 1},
		// Listed (so pcs and crmsh accept configurations written for the
		// reference) but refused when set: see ConfigFromOptions.
		{Name: OptKg, Type: fence.TypeString, Placeholder: "[key]", ShortDesc: "Hexadecimal-encoded Kg key for IPMIv2 authentication (not supported by this agent: refused when set, as go-ipmi offers no way to set the BMC key)", Order: 1},
		{Name: OptTarget, Type: fence.TypeString, Placeholder: "[targetaddress]", ShortDesc: "Bridge IPMI requests to the remote target address (not supported by this agent: refused when set, since ignoring it would act on another machine)", Order: 1},
		// Options of the reference agent about its ipmitool child: accepted
		// and ignored, as there is no child.
		{Name: "ipmitool_path", Type: fence.TypeString, Default: "/usr/bin/ipmitool", Placeholder: "[path]", ShortDesc: "Path to ipmitool binary (accepted and ignored: this agent speaks IPMI itself)", Order: 200},
		{Name: "ipmitool_timeout", Type: fence.TypeString, Default: "2", Placeholder: "[timeout]", ShortDesc: "Timeout (sec) for IPMI operation (accepted and ignored: login_timeout and shell_timeout bound each try)", Order: 201},
		{Name: "use_sudo", Legacy: "sudo", Type: fence.TypeBoolean, ShortDesc: "Use sudo (without password) when calling 3rd party software (accepted and ignored: no child process is run)", Order: 205},
		{Name: "sudo_path", Type: fence.TypeString, Default: "/usr/bin/sudo", Placeholder: "[path]", ShortDesc: "Path to sudo binary (accepted and ignored: no child process is run)", Order: 300},
	},
	Open: open,
}

func init() { fence.Register(Plugin) }

// Config is the connection configuration built from fence options.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	Lanplus  bool
	// Ciphers are tried in order; empty means 17 then 3 (ipmi_sim and some
	// BMCs ignore the cipher-suite query, so we never rely on it).
	Ciphers   []uint8
	Privilege string
}

// String never shows the password.
func (c Config) String() string {
	proto := "lan"
	if c.Lanplus {
		proto = "lanplus"
	}
	return fmt.Sprintf("%s %s@%s:%d", proto, c.Username, c.Host, c.Port)
}

// ConfigFromOptions validates the IPMI options.
func ConfigFromOptions(o fence.Options) (Config, error) {
	c := Config{
		Host:      o[fence.OptIP],
		Username:  o[fence.OptUsername],
		Password:  o[fence.OptPassword],
		Lanplus:   o.Bool(OptLanplus),
		Privilege: strings.ToLower(o[OptPrivlvl]),
	}
	if c.Host == "" {
		return c, fmt.Errorf("%w: you have to enter fence address (ip)", fence.ErrConfig)
	}
	port := o[fence.OptIPPort]
	if port == "" {
		port = "623"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return c, fmt.Errorf("%w: ipport %q is not a UDP port number", fence.ErrConfig, port)
	}
	c.Port = p
	if c.Privilege == "" {
		c.Privilege = "administrator"
	}
	if o[OptKg] != "" {
		// go-ipmi v0.9.1 keeps the BMC key in an unexported session field
		// with no setter; logging in without it would only fail later,
		// with a less clear message.
		return c, fmt.Errorf("%w: hexadecimal_kg is set, but this agent cannot use a BMC key (K_g): the IPMI library it uses (go-ipmi v0.9.1) has no way to set one; remove the key from the BMC or use the reference fence_ipmilan for this device", fence.ErrConfig)
	}
	if o[OptTarget] != "" {
		return c, fmt.Errorf("%w: target=%s asks to bridge IPMI requests to another controller (IPMB), which this agent cannot do; refusing, since ignoring it would power the BMC's own machine instead of that target", fence.ErrConfig, o[OptTarget])
	}
	if cs := strings.TrimSpace(o[OptCipher]); cs != "" {
		n, err := strconv.Atoi(cs)
		if err != nil || n < 0 || n > 255 {
			return c, fmt.Errorf("%w: cipher %q is not a cipher suite number (0-255)", fence.ErrConfig, cs)
		}
		c.Ciphers = []uint8{uint8(n)}
		// ipmitool -C implies lanplus semantics only with -I lanplus; the
		// reference agent passes -C through either way, and so do we.
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
