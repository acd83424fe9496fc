package fence

// Names of the parameters every plugin has. Plugins and the daemon use these
// constants instead of string literals.
const (
	OptAction        = "action"
	OptIP            = "ip"
	OptIPPort        = "ipport"
	OptUsername      = "username"
	OptPassword      = "password"
	OptPasswordFile  = "password_file"
	OptPasswordEnv   = "password_env"
	OptPasswordScrip = "password_script"
	OptPlug          = "plug"
	OptPortAsIP      = "port_as_ip"
	OptMethod        = "method"
	OptDelay         = "delay"
	OptLoginTimeout  = "login_timeout"
	OptPowerTimeout  = "power_timeout"
	OptPowerWait     = "power_wait"
	OptStatusSleep   = "stonith_status_sleep"
	OptRetryOn       = "retry_on"
	OptDisableTmo    = "disable_timeout"
	OptVerbose       = "verbose"
	OptVerboseLevel  = "verbose_level"
	OptQuiet         = "quiet"
	OptDebugFile     = "debug_file"
	OptHelp          = "help"
	OptVersion       = "version"
	OptPlugSeparator = "plug_separator"
	OptSeparator     = "separator"
	OptShellTimeout  = "shell_timeout"
)

// commonParams are the parameters fence-agents' fencing.py adds to every
// agent, with its option letters, legacy names, defaults and order.
// hasPlugs selects between the two flavours fencing.py has: devices with
// outlets (plug required, list supported, --separator) and single-machine
// devices (the plug is only an alias of the address, with --port-as-ip).
func commonParams(hasPlugs bool) []Param {
	ps := []Param{
		{Name: OptAction, Short: 'o', Type: TypeString, Default: "reboot", Required: true, Placeholder: "[action]", ShortDesc: "Fencing action", Order: 1},
		{Name: OptIP, Short: 'a', Legacy: "ipaddr", Type: TypeString, Placeholder: "[ip]", ShortDesc: "IP address or hostname of fencing device", Order: 1},
		{Name: OptIPPort, Short: 'u', Type: TypeInteger, Placeholder: "[port]", ShortDesc: "TCP/UDP port to use for connection with device", Order: 1},
		{Name: OptUsername, Short: 'l', Legacy: "login", Type: TypeString, Placeholder: "[name]", ShortDesc: "Login name", Order: 1},
		{Name: OptPassword, Short: 'p', Legacy: "passwd", Type: TypeString, Placeholder: "[password]", ShortDesc: "Login password or passphrase", Order: 1},
		{Name: OptPasswordScrip, Short: 'S', Legacy: "passwd_script", Type: TypeString, Placeholder: "[script]", ShortDesc: "Script to run to retrieve password", Order: 1},
		{Name: OptPasswordFile, Type: TypeString, Placeholder: "[path]", ShortDesc: "File holding the login password (mode 0600 or stricter; Palisade extension)", Order: 1},
		{Name: OptPasswordEnv, Type: TypeString, Placeholder: "[variable]", ShortDesc: "Environment variable holding the login password (Palisade extension)", Order: 1},
		{Name: OptQuiet, Short: 'q', Type: TypeBoolean, ShortDesc: "Disable logging to stderr. Does not affect --verbose or --debug-file or logging to syslog.", Order: 50},
		{Name: OptVerbose, Short: 'v', Type: TypeBoolean, ShortDesc: "Verbose mode. Multiple -v flags can be stacked on the command line (e.g., -vvv) to increase verbosity.", Order: 51},
		{Name: OptVerboseLevel, Type: TypeInteger, ShortDesc: "Level of debugging detail in output. Defaults to the number of --verbose flags specified on the command line, or to 1 if verbose=1 in a stonith device configuration (i.e., on stdin).", Order: 52},
		{Name: OptDebugFile, Short: 'D', Legacy: "debug", Type: TypeString, Placeholder: "[debugfile]", ShortDesc: "Write debug information to given file", Order: 53},
		{Name: OptVersion, Short: 'V', Type: TypeBoolean, ShortDesc: "Display version information and exit", Order: 54},
		{Name: OptHelp, Short: 'h', Type: TypeBoolean, ShortDesc: "Display help and exit", Order: 55},
		{Name: OptPlugSeparator, Type: TypeString, Default: ",", Placeholder: "[char]", ShortDesc: "Separator for plug parameter when specifying more than 1 plug", Order: 100},
		{Name: OptDelay, Type: TypeSecond, Default: "0", Placeholder: "[seconds]", ShortDesc: "Wait X seconds before fencing is started", Order: 200},
		{Name: OptDisableTmo, Type: TypeString, Placeholder: "[true/false]", ShortDesc: "Disable timeout (true/false) (default: true when run from Pacemaker 2.0+)", Order: 200},
		{Name: OptLoginTimeout, Type: TypeSecond, Default: "5", Placeholder: "[seconds]", ShortDesc: "Wait X seconds for cmd prompt after login", Order: 200},
		{Name: OptPowerTimeout, Type: TypeSecond, Default: "20", Placeholder: "[seconds]", ShortDesc: "Test X seconds for status change after ON/OFF", Order: 200},
		{Name: OptPowerWait, Type: TypeSecond, Default: "0", Placeholder: "[seconds]", ShortDesc: "Wait X seconds after issuing ON/OFF", Order: 200},
		{Name: OptShellTimeout, Type: TypeSecond, Default: "3", Placeholder: "[seconds]", ShortDesc: "Wait X seconds for cmd prompt after issuing command", Order: 200},
		{Name: OptStatusSleep, Type: TypeSecond, Default: "1", Placeholder: "[seconds]", ShortDesc: "Sleep X seconds between status calls during a STONITH action", Order: 200},
		{Name: OptRetryOn, Type: TypeInteger, Default: "1", Placeholder: "[attempts]", ShortDesc: "Count of attempts to retry power on", Order: 201},
	}
	if hasPlugs {
		ps = append(ps,
			Param{Name: OptPlug, Short: 'n', Legacy: "port", Type: TypeString, Required: true, Placeholder: "[id]", ShortDesc: "Physical plug number on device, UUID or identification of machine", Order: 1},
			Param{Name: OptSeparator, Short: 'C', Type: TypeString, Default: ",", Placeholder: "[char]", ShortDesc: "Separator for CSV created by 'list' operation", Order: 100},
		)
	} else {
		ps = append(ps,
			Param{Name: OptPlug, Short: 'n', Legacy: "port", Type: TypeString, Placeholder: "[ip]", ShortDesc: "IP address or hostname of fencing device (together with --port-as-ip)", Order: 1},
			Param{Name: OptPortAsIP, Type: TypeBoolean, ShortDesc: `Make "port/plug" to be an alias to IP address`, Order: 200},
		)
	}
	return ps
}
