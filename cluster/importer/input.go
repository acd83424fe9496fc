package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Source is one input file.
type Source struct {
	Name string // as shown in the report and errors ("ha.cf", "/etc/ha.d/ha.cf")
	Data []byte
	// Mode is the file's permission bits, 0 if unknown (used to warn about
	// a world-readable authkeys).
	Mode fs.FileMode
}

// HeartbeatFiles are the files of a Heartbeat /etc/ha.d.
type HeartbeatFiles struct {
	HaCf        *Source // required
	Haresources *Source // nil if absent (crm on, or no resources)
	Authkeys    *Source // nil if absent
	// ResourceScripts names the scripts in the directory's resource.d, to
	// tell Heartbeat scripts from init scripts in haresources.
	ResourceScripts map[string]bool
}

// maxInput bounds what is read: configuration files are small, and a
// mistaken path (a device, a log) must not be slurped.
const maxInput = 4 << 20

func readSource(path, name string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: is %s, want a regular file", path, fi.Mode().Type())
	}
	if fi.Size() > maxInput {
		return nil, fmt.Errorf("%s: %d bytes, more than any configuration file (%d)", path, fi.Size(), maxInput)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &Source{Name: name, Data: data, Mode: fi.Mode().Perm()}, nil
}

// ReadHeartbeatDir reads ha.cf, haresources and authkeys from a Heartbeat
// configuration directory (usually /etc/ha.d). Only ha.cf is required.
func ReadHeartbeatDir(dir string) (*HeartbeatFiles, error) {
	hb := &HeartbeatFiles{ResourceScripts: map[string]bool{}}
	var err error
	hb.HaCf, err = readSource(filepath.Join(dir, "ha.cf"), filepath.Join(dir, "ha.cf"))
	if err != nil {
		return nil, fmt.Errorf("reading Heartbeat configuration: %w", err)
	}
	for _, f := range []struct {
		name string
		dst  **Source
	}{{"haresources", &hb.Haresources}, {"authkeys", &hb.Authkeys}} {
		s, err := readSource(filepath.Join(dir, f.name), filepath.Join(dir, f.name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("reading Heartbeat configuration: %w", err)
		default:
			*f.dst = s
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, "resource.d"))
	if err == nil {
		for _, e := range ents {
			hb.ResourceScripts[e.Name()] = true
		}
	}
	return hb, nil
}

// ReadSource reads one input file (a CIB, crm configure show output).
func ReadSource(path string) (*Source, error) {
	s, err := readSource(path, path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return s, nil
}

// Input is what to convert: Heartbeat files, a CIB, or both (Heartbeat v2
// with `crm on`: the membership comes from ha.cf, the resources from the
// CIB).
type Input struct {
	Heartbeat *HeartbeatFiles
	// CIB is a cib.xml, or the output of `crm configure show` (told apart
	// by the first non-blank character: '<' is XML).
	CIB *Source
}

// AddressHint is one --address NODE[@IFACE]=IP: the node's address on the
// link that uses interface IFACE (any link if IFACE is empty).
type AddressHint struct {
	Node, Interface string
	Addr            netip.Addr
}

// ParseAddressHint reads NODE[@IFACE]=IP.
func ParseAddressHint(s string) (AddressHint, error) {
	lhs, ip, ok := strings.Cut(s, "=")
	if !ok {
		return AddressHint{}, fmt.Errorf("--address %q: want NODE=IP or NODE@INTERFACE=IP", s)
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return AddressHint{}, fmt.Errorf("--address %q: %q is not an IP address", s, ip)
	}
	node, ifc, _ := strings.Cut(lhs, "@")
	if node == "" {
		return AddressHint{}, fmt.Errorf("--address %q: no node name", s)
	}
	return AddressHint{Node: strings.ToLower(node), Interface: ifc, Addr: a.Unmap()}, nil
}

// Options steer the conversion.
type Options struct {
	// ClusterName overrides ha.cf's `cluster` (default "linux-ha", as
	// Heartbeat).
	ClusterName string
	// KeyFile is the path written as auth.key_file (default
	// /etc/palisade/authkey); secret files for fence devices go beside it.
	KeyFile string
	// Addresses fill in node addresses ha.cf does not give.
	Addresses []AddressHint
	// LocalNode names the node whose /etc/ha.d this is (default: the
	// Host's name when it is one of the nodes).
	LocalNode string
	// Host, if set, is asked for this machine's name, its interface
	// addresses and the nodes' addresses (/etc/hosts).
	Host Host
}

// DefaultKeyFile is where the converted or generated key goes by default.
const DefaultKeyFile = "/etc/palisade/authkey"

// SecretFile is a file holding one secret (key file, BMC password), to be
// written mode 0600.
type SecretFile struct {
	Path string
	Data []byte
}

// Result is a finished conversion.
type Result struct {
	// ClusterYAML is a whole cluster.yaml when the input had a membership
	// source (ha.cf); for a CIB alone it is only the resources section, as
	// `palisade config push` accepts it (ResourcesOnly is then true).
	ClusterYAML   []byte
	ResourcesOnly bool
	// Sensitive is set when resource parameters hold what looks like a
	// password (as Pacemaker kept them in the CIB): write the YAML mode
	// 0600.
	Sensitive bool
	// Secrets are the key file and any BMC password files, in path order.
	Secrets []SecretFile
	Report  Report
}

func (r *Result) addSecret(path string, data []byte) {
	r.Secrets = append(r.Secrets, SecretFile{Path: path, Data: data})
	sort.Slice(r.Secrets, func(i, j int) bool { return r.Secrets[i].Path < r.Secrets[j].Path })
}
