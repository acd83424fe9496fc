// Package fence is Palisade's fencing core: the Device interface fence
// plugins implement, the plugin registry, and the one place where a fence
// request is carried out (delay, login under login_timeout, the reboot
// sequence, verification of every power change by reading the state back
// until power_timeout, retry_on, and a structured Result). A power-off that
// could not be verified is a failure, never a success.
//
// # Using it from the daemon
//
// Plugins register from init functions, so import them for their side
// effect, build an Agent from the plugin name and the parameters read from
// YAML, and run an action:
//
//	import _ "palisade/plugins/ipmi"
//
//	agent, err := fence.NewAgent("fence_ipmilan", map[string]string{
//		"ip": "198.18.0.10", "ipport": "623", "username": "admin",
//		"password_file": "/etc/palisade/bmc-n1.pw", // or password_env
//		"lanplus": "1", "cipher": "3",
//	})
//	if err != nil { ... }               // bad configuration, names the key
//	res := agent.Off(ctx)               // ctx = the request's deadline
//	if res.Fenced() { ... }             // OFF was read back from the BMC
//	// else res.Err wraps ErrLoginDenied, ErrUnreachable, ErrTimedOutOff, ...
//
// Parameter names are those of ClusterLabs fence-agents (stdin form): ip,
// ipport, username, password, password_script, plug, lanplus, cipher,
// privlvl, method, delay, login_timeout, power_timeout, power_wait,
// stonith_status_sleep, retry_on. Legacy names (ipaddr, login, passwd,
// port) are accepted. Unknown names are refused, naming the key (the
// fence-agents stdin form, in package agentcli, warns and goes on instead).
// Palisade adds password_file (mode 0600 or stricter) and password_env.
//
// An Agent holds no connection: each Do/Off opens one session for the
// whole request and closes it, so an Agent may be shared, but callers
// should serialize requests to the same BMC (power commands are not
// idempotent). password_script runs once, in NewAgent.
//
// A device that answers nothing (ErrNoAnswer) is logged in to again with
// backoff for the request's SilentBudget (power_timeout or login_timeout,
// or DefaultSilentBudget when Pacemaker disabled the timeouts), so a BMC
// that comes back within it is used; one that refuses (nothing listening,
// login denied) fails at once. Every plugin is named both fence_x and
// fence_palisade_x (Lookup, ReferenceName, PalisadeName).
//
// Result: OK (the requested state was read back), OffVerified (a status
// read showed OFF), Fenced() = OK && OffVerified, State, Already, Err
// (wraps ErrLoginDenied, ErrUnreachable, ErrTimedOutOff, ErrTimedOutOn,
// ErrStatus, ErrUnsupported or ErrConfig), Warnings (e.g. the "on" half of
// a reboot failed after OFF was verified), Elapsed; String() for logs.
// method=cycle reboots succeed without OffVerified: use onoff for fencing.
//
// Classify(res.Err) names what a request came to for the fence history
// (ok, refused, login-denied, unreachable, timeout, ...): a device that
// rejects the power command is ErrRefused as well as ErrTimedOutOff, whose
// fence-agents message it keeps. A device may add a remark (Noter,
// Result.Note: who confirmed a manual fence).
//
// Lower level: Execute(ctx, opener, Request) runs a request against any
// Opener (tests use a fake device); RequestFromOptions builds the Request.
// Every wait, deadline and timestamp goes through a fence/clock.Clock:
// ExecuteWith and Agent.Clock take one (the wall clock by default; tests
// use clock.Logical and run whole requests in logical time).
//
// Device monitoring: Agent.Prober checks a device again and again, on a
// session kept open between checks where the plugin allows it
// (Plugin.KeepSession); Plugin.Unmonitored says why a device is not
// checked, Plugin.Manual marks a device that waits for a person.
//
// # Writing a plugin
//
// Implement Device (Status, SetPower, Close) and optionally Cycler,
// Diagnoser, Lister and Monitorer; declare device-specific Params; and call
// Register with a Plugin whose Open validates options and returns an Opener
// that connects. The fence-agents command line (package fence/agentcli) and
// its metadata XML come from the same declarations. A plugin that is not a
// network device (meatware, watchdog) or whose parameters come from
// elsewhere sets OwnParams and declares every parameter itself; a package
// that builds plugins on demand (plugins/external, for installed
// ClusterLabs agents) registers a Resolver, which Lookup asks for names no
// plugin registered.
package fence
