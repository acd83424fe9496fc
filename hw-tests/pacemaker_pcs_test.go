package hwtests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPacemakerPCS: pcs checks a stonith device's options against the
// agent's metadata. With fence_palisade_ipmilan, the configurations written
// for the reference fence_ipmilan (including its ipmitool/sudo options and
// the options we refuse at run time) are accepted, exactly as for the
// reference, and an unknown option is refused by pcs as for the reference.
// pcs edits a CIB file (-f), so no cluster runs; our agent is put into
// /usr/sbin (where pcs looks) through an overlay in a private mount
// namespace, so the host's /usr/sbin does not change.
func TestPacemakerPCS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a private mount namespace")
	}
	for _, p := range []string{"pcs", "cibadmin", "unshare"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (Debian packages pcs, pacemaker-cli-utils): %v", p, err)
		}
	}
	refAgent(t)
	dir := t.TempDir()
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(palisadeBins(t), "fence-agent"), filepath.Join(upper, "fence_palisade_ipmilan")); err != nil {
		t.Fatal(err)
	}
	cib := filepath.Join(dir, "cib.xml")
	out, err := exec.Command("cibadmin", "--empty").Output()
	if err != nil {
		t.Fatalf("cibadmin --empty: %v", err)
	}
	if err := os.WriteFile(cib, out, 0o600); err != nil {
		t.Fatal(err)
	}
	// Everything the reference's metadata lists that a Pacemaker
	// configuration for it may carry, the reference-only options included.
	common := "ip=198.18.0.201 ipport=623 username=admin password=secret lanplus=1 cipher=3 privlvl=administrator " +
		"method=onoff power_wait=2 login_timeout=5 power_timeout=20 shell_timeout=3 retry_on=1 delay=0 " +
		"ipmitool_path=/usr/bin/ipmitool ipmitool_timeout=2 use_sudo=0 sudo_path=/usr/bin/sudo pcmk_host_list=n1"
	script := `set -e
mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=` + upper + `,workdir=` + work + `" /usr/sbin
run() { echo "== $*"; if "$@" 2>&1; then echo "rc=0"; else echo "rc=$?"; fi; }
run pcs -f ` + cib + ` stonith create fence-ours fence_palisade_ipmilan ` + common + `
run pcs -f ` + cib + ` stonith create fence-ref fence_ipmilan ` + common + `
run pcs -f ` + cib + ` stonith create fence-ours-target fence_palisade_ipmilan ip=198.18.0.202 target=0x20 hexadecimal_kg=00 pcmk_host_list=n2
run pcs -f ` + cib + ` stonith create fence-ours-typo fence_palisade_ipmilan ip=198.18.0.203 no_such_param=1 pcmk_host_list=n3
run pcs -f ` + cib + ` stonith create fence-ref-typo fence_ipmilan ip=198.18.0.203 no_such_param=1 pcmk_host_list=n3
run pcs -f ` + cib + ` stonith config
`
	res, err := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script).CombinedOutput()
	text := string(res)
	if err != nil {
		t.Fatalf("pcs run: %v\n%s", err, text)
	}
	sections := map[string]string{}
	for _, part := range strings.Split(text, "== ")[1:] {
		head, body, _ := strings.Cut(part, "\n")
		f := strings.Fields(head)
		if len(f) > 5 && f[4] == "create" {
			sections[f[5]] = body
		} else {
			sections["config"] = body
		}
	}
	for _, dev := range []string{"fence-ours", "fence-ref", "fence-ours-target"} {
		if !strings.Contains(sections[dev], "rc=0") {
			t.Errorf("pcs refused %s:\n%s", dev, sections[dev])
		}
	}
	for _, dev := range []string{"fence-ours-typo", "fence-ref-typo"} {
		if strings.Contains(sections[dev], "rc=0") || !strings.Contains(sections[dev], "no_such_param") {
			t.Errorf("pcs accepted an unknown option for %s (it checks against the metadata):\n%s", dev, sections[dev])
		}
	}
	cfg := sections["config"]
	if !strings.Contains(cfg, "fence-ours") || !strings.Contains(cfg, "ipmitool_path=/usr/bin/ipmitool") || !strings.Contains(cfg, "type=fence_palisade_ipmilan") {
		t.Errorf("pcs stonith config:\n%s", cfg)
	}
	if _, err := os.Lstat("/usr/sbin/fence_palisade_ipmilan"); err == nil {
		t.Error("the test left /usr/sbin/fence_palisade_ipmilan on the host")
	}
	if t.Failed() {
		t.Logf("pcs:\n%s", text)
	}
}
