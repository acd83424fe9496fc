package agent

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseHaresource parses one haresources resource word such as
// "IPaddr::198.18.0.50/24/eth0" or "Filesystem::/dev/sdb1::/data::ext4"
// into a heartbeat-class Instance whose Params are "1", "2", ... .
func ParseHaresource(word string) (Instance, error) {
	parts := strings.Split(word, "::")
	if !safeName(parts[0]) {
		return Instance{}, fmt.Errorf("haresources resource %q: want NAME or NAME::arg1::arg2", word)
	}
	in := Instance{ID: word, Class: "heartbeat", Type: parts[0], Params: map[string]string{}}
	for i, a := range parts[1:] {
		in.Params[strconv.Itoa(i+1)] = a
	}
	return in, nil
}

// ocfEquivalents maps Heartbeat v1 resource.d scripts to the OCF agent
// that replaced them, and their positional arguments to OCF parameters.
var ocfEquivalents = map[string]struct {
	typ    string
	params []string
	split  string // split the first argument on this (IPaddr's ip/bits/nic/brd)
}{
	"IPaddr":     {"IPaddr2", []string{"ip", "cidr_netmask", "nic", "broadcast"}, "/"},
	"IPaddr2":    {"IPaddr2", []string{"ip", "cidr_netmask", "nic", "broadcast"}, "/"},
	"Filesystem": {"Filesystem", []string{"device", "directory", "fstype", "options"}, ""},
	"IPsrcaddr":  {"IPsrcaddr", []string{"ipaddress"}, ""},
}

// HaresourceToOCF converts a heartbeat-class Instance (from
// ParseHaresource) whose script has a stock OCF successor into that
// ocf:heartbeat agent, so converted haresources run on resource-agents
// without Heartbeat's resource.d scripts: "IPaddr::198.18.0.50/24/eth0"
// becomes IPaddr2 with ip, cidr_netmask and nic; "Filesystem::dev::dir::fs"
// becomes Filesystem with device, directory and fstype. ok is false for
// other scripts (run them with the heartbeat class).
func HaresourceToOCF(in Instance) (out Instance, ok bool, err error) {
	eq, ok := ocfEquivalents[in.Type]
	if !ok || in.Class != "heartbeat" {
		return in, false, nil
	}
	args, err := positional(in)
	if err != nil {
		return in, false, err
	}
	if eq.split != "" && len(args) > 0 {
		args = append(strings.Split(args[0], eq.split), args[1:]...)
	}
	if len(args) == 0 || len(args) > len(eq.params) {
		return in, false, fmt.Errorf("haresources %s: want 1 to %d arguments (%s), got %d",
			in.ID, len(eq.params), strings.Join(eq.params, ", "), len(args))
	}
	out = in
	out.Class, out.Provider, out.Type = "ocf", "heartbeat", eq.typ
	out.Params = map[string]string{}
	for i, a := range args {
		if a != "" {
			out.Params[eq.params[i]] = a
		}
	}
	return out, true, nil
}
