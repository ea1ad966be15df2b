package provisioner

import (
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
)

func TestPrepareDefaults(t *testing.T) {
	var p Provisioner
	// Prepare may run twice (packer validate, then build): same result.
	for i := 0; i < 2; i++ {
		if err := p.Prepare(map[string]interface{}{}); err != nil {
			t.Fatalf("Prepare #%d: %v", i+1, err)
		}
	}
	type view struct {
		dir, owner, group, mode, dhGroup, unit, cmd, existing, format, remote string
	}
	c := p.config
	// owner and group come from the policy's parameters in force.
	got := view{c.Directory, p.payload.Params.Owner, p.payload.Params.Group, c.DirectoryMode, c.DHParamGroup, c.HubUnit,
		c.ExecuteCommand, c.ExistingSecrets, c.ReportFormat, c.RemoteDir}
	want := view{"/srv/jupyterhub", "root", "root", "0755", "ffdhe2048", "jupyterhub.service",
		"{{.Vars}} sh '{{.Path}}'", "remove", "text", "/tmp"}
	if got != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	group, _ := dhparam.Group("ffdhe2048")
	if string(p.dhPEM) != string(group.MarshalPEM()) {
		t.Error("default DH parameters are not ffdhe2048")
	}
	if p.engine == nil {
		t.Error("the policy engine was not compiled")
	}

	if err := p.Prepare(map[string]interface{}{"use_sudo": true}); err != nil {
		t.Fatal(err)
	}
	if got := p.config.ExecuteCommand; got != "sudo -n {{.Vars}} sh '{{.Path}}'" {
		t.Errorf("use_sudo execute_command = %q", got)
	}
}

func TestPrepareAcceptsAlternatives(t *testing.T) {
	dir := t.TempDir()
	good := writeDH(t, dir, "good.pem", mustGroup(t, "ffdhe3072"))
	for name, raw := range map[string]map[string]interface{}{
		"group 4096":       {"dhparam_group": "ffdhe4096"},
		"bits":             {"dhparam_bits": 3072},
		"file":             {"dhparam_file": good},
		"owner and mode":   {"owner": "jupyterhub", "group": "jupyterhub", "directory_mode": "0750"},
		"custom command":   {"execute_command": "doas {{.Vars}} sh '{{.Path}}'"},
		"report":           {"report_file": filepath.Join(dir, "r.sarif"), "report_format": "sarif"},
		"report, new dirs": {"report_file": filepath.Join(dir, "reports", "ci", "r.json")}, // made when written
		"skip verify":      {"skip_verify": true},
		"fail on secrets":  {"existing_secrets": "fail"},
		"template hub":     {"hub_unit": "jupyterhub@main.service", "directory": "/opt/hub/secrets"},
		"remote dir":       {"remote_dir": "/var/tmp"},
		"interpolated dir": {"directory": "/srv/{{user `hub`}}", "packer_user_variables": map[string]string{"hub": "hub1"}},
	} {
		t.Run(name, func(t *testing.T) {
			var p Provisioner
			if err := p.Prepare(raw); err != nil {
				t.Fatal(err)
			}
		})
	}
	var p Provisioner
	if err := p.Prepare(map[string]interface{}{"directory": "/srv/{{user `hub`}}", "packer_user_variables": map[string]string{"hub": "hub1"}}); err != nil {
		t.Fatal(err)
	}
	if p.config.Directory != "/srv/hub1" {
		t.Errorf("directory not interpolated: %q", p.config.Directory)
	}
}

// Every bad value is refused with an error that names its field.
func TestPrepareErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	composite := new(big.Int).Lsh(big.NewInt(1), 2047)
	composite.Add(composite, big.NewInt(1)) // 2^2047+1 is divisible by 3
	notSafe := writeDH(t, dir, "notsafe.pem", &dhparam.Params{P: composite, G: big.NewInt(2)})
	// RFC 2409's 1024-bit group: a safe prime, shared by millions (Logjam).
	oakley2, _ := new(big.Int).SetString("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"+
		"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"+
		"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
		"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)
	small := writeDH(t, dir, "small.pem", &dhparam.Params{P: oakley2, G: big.NewInt(2)})
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a pem\n"), 0o644)
	link := filepath.Join(dir, "link.json")
	os.Symlink(garbage, link)
	linkDir := filepath.Join(dir, "reports")
	os.Symlink(t.TempDir(), linkDir)

	tests := []struct {
		name  string
		raw   map[string]interface{}
		field string // must appear in the error
		fix   string // and so must this hint
	}{
		{"relative directory", map[string]interface{}{"directory": "srv/jupyterhub"}, "directory", "absolute"},
		{"unclean directory", map[string]interface{}{"directory": "/srv/../srv/jupyterhub"}, "directory", "clean"},
		{"root directory", map[string]interface{}{"directory": "/"}, "directory", "/srv/jupyterhub"},
		{"system directory", map[string]interface{}{"directory": "/root"}, `directory "/root": is a system directory`, "use a directory of its own, e.g. /srv/jupyterhub"},
		{"directory below /run", map[string]interface{}{"directory": "/run/jupyterhub"}, "directory", "lies below /run"},
		{"directory with space", map[string]interface{}{"directory": "/srv/jupyter hub"}, "directory", "no spaces"},
		{"bad owner", map[string]interface{}{"owner": "-rf"}, "owner", "name"},
		{"numeric owner", map[string]interface{}{"owner": "1000"}, "owner", "name"},
		{"bad group", map[string]interface{}{"group": "hub users"}, "group", "name"},
		{"mode not octal", map[string]interface{}{"directory_mode": "rwx"}, "directory_mode", "0755"},
		{"mode world writable", map[string]interface{}{"directory_mode": "0777"}, "directory_mode", "0750"},
		{"mode owner cannot enter", map[string]interface{}{"directory_mode": "0600"}, "directory_mode", "rwx"},
		{"unknown group", map[string]interface{}{"dhparam_group": "modp1024"}, "dhparam_group", "ffdhe2048"},
		{"bits too small", map[string]interface{}{"dhparam_bits": 1024}, "dhparam_bits", "2048"},
		{"bits odd size", map[string]interface{}{"dhparam_bits": 2500}, "dhparam_bits", "3072"},
		{"bits and group", map[string]interface{}{"dhparam_bits": 2048, "dhparam_group": "ffdhe2048"}, "dhparam_bits", "set one"},
		{"file and group", map[string]interface{}{"dhparam_file": notSafe, "dhparam_group": "ffdhe2048"}, "dhparam_file", "set one"},
		{"missing file", map[string]interface{}{"dhparam_file": filepath.Join(dir, "nope.pem")}, "dhparam_file", "openssl dhparam"},
		{"garbage file", map[string]interface{}{"dhparam_file": garbage}, "dhparam_file", "openssl dhparam"},
		{"not a safe prime", map[string]interface{}{"dhparam_file": notSafe}, "dhparam_file", "HUB027"},
		{"small prime", map[string]interface{}{"dhparam_file": small}, "dhparam_file", "HUB026"},
		{"weak group", map[string]interface{}{"dhparam_file": small}, "dhparam_file", "oakley-group-2"},
		{"bad hub unit", map[string]interface{}{"hub_unit": "jupyterhub"}, "hub_unit", "jupyterhub.service"},
		{"hub unit path", map[string]interface{}{"hub_unit": "../x.service"}, "hub_unit", "systemd unit"},
		{"sudo and command", map[string]interface{}{"use_sudo": true, "execute_command": "sudo sh '{{.Path}}'"}, "use_sudo", "set one"},
		{"command without path", map[string]interface{}{"execute_command": "sh /tmp/x.sh"}, "execute_command", "{{.Path}}"},
		{"command bad template", map[string]interface{}{"execute_command": "sh {{.Path"}, "execute_command", "template"},
		{"existing secrets", map[string]interface{}{"existing_secrets": "keep"}, "existing_secrets", `"fail"`},
		{"report format", map[string]interface{}{"report_format": "html"}, "report_format", "sarif"},
		{"report under a file", map[string]interface{}{"report_file": filepath.Join(garbage, "r.txt")}, "report_file", garbage + " exists on the build host and is not a directory"},
		{"report deep under a file", map[string]interface{}{"report_file": filepath.Join(garbage, "a", "b", "r.txt")}, "report_file", garbage + " exists on the build host and is not a directory"},
		{"report is a directory", map[string]interface{}{"report_file": dir}, "report_file", "is a directory"},
		{"report is a symlink", map[string]interface{}{"report_file": link}, "report_file", "is a symbolic link"},
		{"report in a symlinked dir", map[string]interface{}{"report_file": filepath.Join(linkDir, "r.json")}, "report_file", "its directory " + linkDir + " is a symbolic link"},
		{"report without verify", map[string]interface{}{"skip_verify": true, "report_file": filepath.Join(dir, "r.txt")}, "report_file", "skip_verify"},
		{"policy dir missing", map[string]interface{}{"policy_dirs": []string{filepath.Join(dir, "nope")}}, "policy_dirs", "directories"},
		{"policy data missing", map[string]interface{}{"policy_data": []string{filepath.Join(dir, "nope.json")}}, "policy_data", "JSON"},
		{"policy without verify", map[string]interface{}{"skip_verify": true, "policy_dirs": []string{dir}}, "policy_dirs", "skip_verify"},
		{"relative remote dir", map[string]interface{}{"remote_dir": "tmp"}, "remote_dir", "absolute"},
		{"remote dir quote", map[string]interface{}{"remote_dir": "/tmp/it's"}, "remote_dir", "quotes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Provisioner
			err := p.Prepare(tc.raw)
			if err == nil {
				t.Fatalf("Prepare(%v) = nil, want an error naming %s", tc.raw, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), tc.fix) {
				t.Errorf("error does not name %q with the fix %q:\n%v", tc.field, tc.fix, err)
			}
		})
	}
}

func TestPrepareReportsEveryBadField(t *testing.T) {
	var p Provisioner
	err := p.Prepare(map[string]interface{}{"owner": "-x", "hub_unit": "x", "existing_secrets": "keep", "dhparam_bits": 512})
	if err == nil {
		t.Fatal("no error")
	}
	for _, f := range []string{"owner", "hub_unit", "existing_secrets", "dhparam_bits"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error does not name %s:\n%v", f, err)
		}
	}
}

func TestPrepareRejectsUnknownAndCoreOptions(t *testing.T) {
	var p Provisioner
	err := p.Prepare(map[string]interface{}{"directroy": "/srv/x"})
	if err == nil || !strings.Contains(err.Error(), "directroy") {
		t.Errorf("unknown option: %v", err)
	}
}

func mustGroup(t *testing.T, name string) *dhparam.Params {
	t.Helper()
	g, err := dhparam.Group(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// writeDH writes p and g as PKCS#3 PEM, whatever they are.
func writeDH(t *testing.T, dir, name string, params *dhparam.Params) string {
	t.Helper()
	der, err := asn1.Marshal(struct{ P, G *big.Int }{params.P, params.G})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}
