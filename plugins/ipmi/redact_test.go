package ipmi

import "testing"

func TestHideSecret(t *testing.T) {
	cases := []struct{ msg, secret, want string }{
		{"exchange error", "x", "exchange error"},
		{"login x failed", "x", "login [hidden] failed"},
		{"pw=x", "x", "pw=[hidden]"},
		{"key s3cretpassword leaked", "s3cretpassword", "key [hidden] leaked"},
		{"as3cretpasswordz", "s3cretpassword", "a[hidden]z"},
		{"nothing here", "", "nothing here"},
	}
	for _, c := range cases {
		if got := hideSecret(c.msg, c.secret); got != c.want {
			t.Errorf("hideSecret(%q, %q) = %q, want %q", c.msg, c.secret, got, c.want)
		}
	}
}
