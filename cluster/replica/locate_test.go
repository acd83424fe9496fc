package replica

import "testing"

func TestLocateParam(t *testing.T) {
	file := []byte(`cluster: {name: demo}
resources:
  constraints:
    locations:
      - {id: vip, rsc: grp, node: n1, score: 10}
  resources:
    - id: grp
      kind: group
      members:
        - id: vip
          class: palisade
          type: vip
          params:
            ip: 198.19.0.500
            nic: eth9
        - {id: dummy, type: Dummy}
`)
	for _, c := range []struct {
		rsc, param string
		line       int
	}{
		{"vip", "ip", 14}, {"vip", "nic", 15}, {"vip", "cidr_netmask", 13}, {"vip", "", 13},
		{"dummy", "state", 16}, {"grp", "", 7}, {"nope", "ip", 0},
	} {
		if got := LocateParam(file, c.rsc, c.param); got != c.line {
			t.Errorf("%s %s: line %d, want %d", c.rsc, c.param, got, c.line)
		}
	}
}
