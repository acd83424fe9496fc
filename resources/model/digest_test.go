package model

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"testing"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The digests are Pacemaker's: MD5 of the sorted, escaped attribute list
// (hw-tests/lifecycle_scheduler_test.go checks them against crm_simulate).
func TestParamsDigestIsPacemakers(t *testing.T) {
	cases := []struct {
		params map[string]string
		text   string
	}{
		{nil, " <parameters/>\n"},
		{map[string]string{"ip": "198.18.0.50", "cidr_netmask": "24"}, ` <parameters cidr_netmask="24" ip="198.18.0.50"/>` + "\n"},
		{map[string]string{"a": `x"<&>'` + "\n\t"}, ` <parameters a="x&quot;&lt;&amp;&gt;&apos;&#10;&#9;"/>` + "\n"},
		{map[string]string{"CRM_meta_timeout": "20000", "z": "1"}, ` <parameters z="1"/>` + "\n"},
	}
	for _, c := range cases {
		if got, want := ParamsDigest(c.params), md5hex(c.text); got != want {
			t.Errorf("ParamsDigest(%v) = %s, want md5(%q) = %s", c.params, got, c.text, want)
		}
	}
	if got := ParamsDigest(map[string]string{}); got != "f2317cad3d54cec5d7d7aa7d0bf35cf8" {
		t.Errorf("empty set: %s, want Pacemaker's f2317cad3d54cec5d7d7aa7d0bf35cf8", got)
	}
}

func TestCompareParams(t *testing.T) {
	ran := map[string]string{"fake": "one", "state": "/run/d1", "passwd": "secret"}
	reloadable := NewParamRecord(ran, true, []string{"state"}, []string{"passwd"})
	plain := NewParamRecord(ran, false, nil, []string{"passwd"})
	if _, ok := reloadable.Params["passwd"]; ok || !slices.Equal(reloadable.Private, []string{"passwd"}) {
		t.Fatalf("secret kept in the record: %+v", reloadable)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{"fake": "one", "state": "/run/d1", "passwd": "secret"}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name    string
		rec     ParamRecord
		cfg     map[string]string
		want    DefinitionChange
		changed []string
	}{
		{"unknown", ParamRecord{}, with("fake", "two"), ParamsUnknown, nil},
		{"same", reloadable, ran, ParamsSame, nil},
		{"reloadable", reloadable, with("fake", "two"), ParamsReload, []string{"fake"}},
		{"restart param", reloadable, with("state", "/run/d2"), ParamsRestart, []string{"state"}},
		{"no reload", plain, with("fake", "two"), ParamsRestart, []string{"fake"}},
		{"secret", reloadable, with("passwd", "other"), ParamsReload, nil},
		{"removed", plain, with("fake", ""), ParamsRestart, []string{"fake"}},
		{"added", plain, with("new", "1"), ParamsRestart, []string{"new"}},
	}
	for _, c := range cases {
		var rs ResourceStatus
		c.rec.Apply(&rs)
		if got := CompareParams(rs, c.cfg); got != c.want {
			t.Errorf("%s: CompareParams = %s, want %s", c.name, got, c.want)
		}
		if c.want != ParamsUnknown {
			if got := ChangedParams(rs, c.cfg); !slices.Equal(got, c.changed) {
				t.Errorf("%s: ChangedParams = %v, want %v", c.name, got, c.changed)
			}
		}
	}
}
