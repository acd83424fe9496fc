package model

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"strings"
)

// Parameter digests, as Pacemaker keeps them in the operation history.
//
// Every recorded operation carries the digest of the parameters it ran
// with (op-digest). When the agent can reload (an OCF 1.1 agent with
// reload-agent, or an OCF 1.0 agent with reload), it also carries the
// names of the parameters a reload cannot apply (op-force-restart) and
// the digest of those alone (op-restart-digest). The scheduler compares
// both with the configured parameters: a different restart digest
// restarts the resource, a different digest alone reloads it (restarts it
// when the agent cannot reload).
//
// The digests are Pacemaker's own (MD5 of the canonical XML of the
// parameters), so a status written as a CIB compares the same way in
// crm_simulate.

// ParamsDigest is Pacemaker's op-digest of an operation's instance
// parameters: the MD5 of ` <parameters NAME="VALUE" .../>` and a newline,
// attributes sorted by name (the empty set gives
// f2317cad3d54cec5d7d7aa7d0bf35cf8).
func ParamsDigest(params map[string]string) string {
	return digestOf(params, nil)
}

// RestartDigest is Pacemaker's op-restart-digest: the digest of only the
// parameters named in forceRestart (those a reload cannot apply).
func RestartDigest(params map[string]string, forceRestart []string) string {
	keep := map[string]bool{}
	for _, n := range forceRestart {
		keep[n] = true
	}
	return digestOf(params, keep)
}

func digestOf(params map[string]string, keep map[string]bool) string {
	var b strings.Builder
	b.WriteString(" <parameters")
	for _, k := range SortedKeys(params) {
		if keep != nil && !keep[k] {
			continue
		}
		if strings.HasPrefix(k, "CRM_meta_") {
			// Pacemaker filters meta attributes out of start digests.
			continue
		}
		b.WriteString(" ")
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(xmlEscape(params[k]))
		b.WriteString(`"`)
	}
	b.WriteString("/>\n")
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// xmlEscape escapes an attribute value as libxml2 (Pacemaker's
// crm_xml_escape) writes it.
func xmlEscape(s string) string {
	if !strings.ContainsAny(s, "&<>\"'\n\r\t") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\n':
			b.WriteString("&#10;")
		case '\r':
			b.WriteString("&#13;")
		case '\t':
			b.WriteString("&#9;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParamRecord is what a node records about the parameters an operation ran
// with (see ResourceStatus): the digests and the parameters themselves,
// secrets left out.
type ParamRecord struct {
	Digest        string            `json:"digest,omitempty"`
	RestartDigest string            `json:"restart_digest,omitempty"`
	ForceRestart  []string          `json:"force_restart,omitempty"`
	Private       []string          `json:"private,omitempty"`
	Params        map[string]string `json:"params,omitempty"`
}

// NewParamRecord records params. canReload: the agent has a reload action
// (then restartOnly names the parameters a reload cannot apply); private
// names the parameters whose values are secrets (Pacemaker's
// op-secure-params): they count in the digests but their values are not
// kept.
func NewParamRecord(params map[string]string, canReload bool, restartOnly, private []string) ParamRecord {
	rec := ParamRecord{Digest: ParamsDigest(params)}
	if canReload {
		rec.ForceRestart = slices.Compact(slices.Sorted(slices.Values(restartOnly)))
		if rec.ForceRestart == nil {
			rec.ForceRestart = []string{}
		}
		rec.RestartDigest = RestartDigest(params, rec.ForceRestart)
	}
	for _, k := range SortedKeys(params) {
		if slices.Contains(private, k) {
			rec.Private = append(rec.Private, k)
			continue
		}
		if rec.Params == nil {
			rec.Params = map[string]string{}
		}
		rec.Params[k] = params[k]
	}
	return rec
}

// Apply copies the record into a status entry.
func (r ParamRecord) Apply(rs *ResourceStatus) {
	rs.Digest, rs.RestartDigest, rs.ForceRestart, rs.Private, rs.Params = r.Digest, r.RestartDigest, r.ForceRestart, r.Private, r.Params
}

// Record returns the entry's parameter record.
func (rs ResourceStatus) Record() ParamRecord {
	return ParamRecord{Digest: rs.Digest, RestartDigest: rs.RestartDigest, ForceRestart: rs.ForceRestart, Private: rs.Private, Params: rs.Params}
}

// DefinitionChange says what a change of a running resource's parameters
// needs.
type DefinitionChange int

// Outcomes of CompareParams.
const (
	ParamsUnknown DefinitionChange = iota // no digest recorded: nothing to compare
	ParamsSame                            // the resource runs with the configured parameters
	ParamsReload                          // only reloadable parameters changed: reload
	ParamsRestart                         // a parameter a reload cannot apply changed (or no reload): restart
)

func (d DefinitionChange) String() string {
	switch d {
	case ParamsSame:
		return "same"
	case ParamsReload:
		return "reload"
	case ParamsRestart:
		return "restart"
	}
	return "unknown"
}

// CompareParams compares what a resource runs with (rs) with its
// configured parameters, as Pacemaker's rsc_action_digest_cmp does for a
// start: a different restart digest restarts; a different digest reloads
// when the agent can (a restart digest was recorded), else restarts.
func CompareParams(rs ResourceStatus, configured map[string]string) DefinitionChange {
	if rs.Digest == "" {
		return ParamsUnknown
	}
	if rs.RestartDigest != "" && RestartDigest(configured, rs.ForceRestart) != rs.RestartDigest {
		return ParamsRestart
	}
	if ParamsDigest(configured) == rs.Digest {
		return ParamsSame
	}
	if rs.RestartDigest != "" {
		return ParamsReload
	}
	return ParamsRestart
}

// ChangedParams names the parameters whose values differ between what a
// resource runs with and its configuration (added and removed ones
// included); secrets are left out, their change shows only in the digest.
func ChangedParams(rs ResourceStatus, configured map[string]string) []string {
	names := map[string]bool{}
	for k := range configured {
		names[k] = true
	}
	for k := range rs.Params {
		names[k] = true
	}
	var out []string
	for _, k := range SortedKeys(names) {
		if slices.Contains(rs.Private, k) {
			continue
		}
		v, had := rs.Params[k]
		w, has := configured[k]
		if had != has || v != w {
			out = append(out, k)
		}
	}
	return out
}
