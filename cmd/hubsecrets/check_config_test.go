package main

import (
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// inlineToken is a proxy token written into jupyterhub_config.py: no
// report may ever show it.
const inlineToken = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"

// oakley2 is RFC 2409's 1024-bit group: public, and weak.
const oakley2 = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF"

// writeMisconfigured adds to a root a hub config that points away from the
// checked secrets (and writes the token into itself), and nginx with
// Debian's layout whose hub site names a weak group elsewhere and a second
// TLS server that enables DHE without DH parameters.
func writeMisconfigured(t *testing.T, tr *testtree.Tree) {
	t.Helper()
	tr.Write("/etc/jupyterhub/jupyterhub_config.py", 0o640, `c = get_config()  # noqa
c.JupyterHub.cookie_secret_file = '/var/lib/jupyterhub/jupyterhub_cookie_secret'
c.ConfigurableHTTPProxy.auth_token = '`+inlineToken+`'
`)
	tr.Write("/etc/nginx/nginx.conf", 0o644, "events {}\nhttp {\n\tinclude /etc/nginx/sites-enabled/*;\n}\n")
	tr.Write("/etc/nginx/sites-available/hub", 0o644, `server {
	listen 443 ssl;
	server_name hub.example.org;
	ssl_dhparam /etc/ssl/dh1024.pem;
}
server {
	listen 8443 ssl;
	server_name admin.example.org;
}
`)
	tr.Mkdir("/etc/nginx/sites-enabled", 0o755)
	tr.Symlink("/etc/nginx/sites-available/hub", "/etc/nginx/sites-enabled/hub")
	p, _ := new(big.Int).SetString(oakley2, 16)
	tr.Write("/etc/ssl/dh1024.pem", 0o644, string((&dhparam.Params{P: p, G: big.NewInt(2)}).MarshalPEM()))
}

// writeWellConfigured adds the README's two hub config lines and an nginx
// site on the checked dhparam.pem with Mozilla's intermediate ciphers.
func writeWellConfigured(t *testing.T, tr *testtree.Tree) {
	t.Helper()
	tr.Write("/etc/jupyterhub/jupyterhub_config.py", 0o644, `from pathlib import Path
c.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'
c.ConfigurableHTTPProxy.auth_token = Path('/srv/jupyterhub/proxy_auth_token').read_text().strip()
`)
	tr.Write("/etc/nginx/nginx.conf", 0o644, `events {}
http {
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
	server { listen 443 ssl; server_name hub.example.org; ssl_dhparam /srv/jupyterhub/dhparam.pem; }
}
`)
}

func TestCheckConfigFindings(t *testing.T) {
	tr := testtree.Correct(t)
	writeMisconfigured(t, tr)
	r := runCLI(t, "check", "--root", tr.Root)
	if r.code != exitDenied {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"DENY  HUB043  /etc/jupyterhub/jupyterhub_config.py",
		`fix: sudo sed -i '2s|^\([[:space:]]*\).*|\1c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' /etc/jupyterhub/jupyterhub_config.py`,
		"DENY  HUB047  /etc/jupyterhub/jupyterhub_config.py",
		`fix: sudo sed -i '3s|^\([[:space:]]*\).*|\1c.ConfigurableHTTPProxy.auth_token = open('\''/srv/jupyterhub/proxy_auth_token'\'').read().strip()|' /etc/jupyterhub/jupyterhub_config.py && sudo hubsecrets init --rotate  # rotates the exposed token`,
		"WARN  HUB054  /etc/nginx/sites-enabled/hub",
		`fix: sudo sed -i '4s|^\([[:space:]]*\).*|\1ssl_dhparam /srv/jupyterhub/dhparam.pem;|' /etc/nginx/sites-enabled/hub`,
		"DENY  HUB055  /etc/ssl/dh1024.pem",
		"known weak or widely shared group oakley-group-2",
		"WARN  HUB056  /etc/nginx/sites-enabled/hub",
		"The server block at /etc/nginx/sites-enabled/hub line 6 (server_name admin.example.org) uses",
		"fix: add to the server block at /etc/nginx/sites-enabled/hub line 6: ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:",
		"or add to the server block at /etc/nginx/sites-enabled/hub line 6: ssl_dhparam /srv/jupyterhub/dhparam.pem;",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	j := runCLI(t, "check", "--root", tr.Root, "--format", "json")
	if want := "/etc/jupyterhub/jupyterhub_config.py line 2 sets c.JupyterHub.cookie_secret_file to /var/lib/jupyterhub/jupyterhub_cookie_secret, not the checked /srv/jupyterhub/jupyterhub_cookie_secret"; !slices.ContainsFunc(findingKeys(t, j.stdout), func(k string) bool { return strings.Contains(k, want) }) {
		t.Errorf("the JSON report lacks %q", want)
	}
	for _, format := range []string{"text", "json", "sarif", "junit"} {
		r := runCLI(t, "check", "--root", tr.Root, "--format", format)
		if strings.Contains(r.stdout+r.stderr, inlineToken[:16]) {
			t.Fatalf("the %s report shows the token written in the config", format)
		}
		assertNoSecret(t, tr, r.stdout+r.stderr)
	}
	f := runCLI(t, "facts", "--root", tr.Root)
	if f.code != exitOK || !strings.Contains(f.stdout, `"hub_config"`) || !strings.Contains(f.stdout, `"dhe_suite_names"`) || strings.Contains(f.stdout, inlineToken[:16]) {
		t.Errorf("facts: exit %d\n%.3000s", f.code, f.stdout)
	}
	validFactsOutput(t, f.stdout)
}

func TestCheckWellConfiguredPasses(t *testing.T) {
	tr := testtree.Correct(t)
	writeWellConfigured(t, tr)
	r := runCLI(t, "check", "--root", tr.Root, "--strict")
	if r.code != exitOK || !strings.Contains(r.stdout, "no findings") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// findingKeys is what a JSON report found, for comparing sources.
func findingKeys(t *testing.T, stdout string) []string {
	t.Helper()
	var rep struct {
		Findings []struct{ ID, Path, Msg, Fix string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.ID+" "+f.Path+" "+f.Msg+" "+f.Fix)
	}
	slices.Sort(out)
	return out
}

// TestCheckConfigTarMatchesRoot: a real GNU tar archive of the tree gives
// the same findings as the tree.
func TestCheckConfigTarMatchesRoot(t *testing.T) {
	tar := testenv.NeedTool(t, "tar", "a GNU tar archive of the tree must give the tree's findings")
	tr := testtree.Correct(t)
	writeMisconfigured(t, tr)
	archive := filepath.Join(t.TempDir(), "root.tar.gz")
	if b, err := exec.Command(tar, "-czf", archive, "-C", tr.Root, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	dir := runCLI(t, "check", "--root", tr.Root, "--format", "json")
	tarred := runCLI(t, "check", "--tar", archive, "--format", "json")
	if dir.code != exitDenied || tarred.code != exitDenied {
		t.Fatalf("exit %d (root) and %d (tar)\n%s", dir.code, tarred.code, tarred.stderr)
	}
	if a, b := findingKeys(t, dir.stdout), findingKeys(t, tarred.stdout); !slices.Equal(a, b) {
		t.Errorf("findings differ\nroot: %q\ntar:  %q", a, b)
	}
}

func TestCheckConfigPathFlags(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Write("/opt/hub/config.py", 0o644, "c.ConfigurableHTTPProxy.auth_token = ''\n")
	tr.Write("/usr/local/nginx/conf/nginx.conf", 0o644, "http { server { listen 443 ssl; ssl_ciphers DHE-RSA-AES128-GCM-SHA256; } }\n")
	r := runCLI(t, "check", "--root", tr.Root, "--hub-config", "/opt/hub/config.py", "--nginx-config", "/usr/local/nginx/conf/nginx.conf")
	for _, want := range []string{"WARN  HUB049  /opt/hub/config.py", "WARN  HUB056  /usr/local/nginx/conf/nginx.conf", "WARN  HUB044  /opt/hub/config.py"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	if r.code != exitOK {
		t.Errorf("warnings only: exit %d, want 0", r.code)
	}
	if r := runCLI(t, "check", "--root", tr.Root); strings.Contains(r.stdout, "HUB049") {
		t.Errorf("the default paths do not exist here, yet:\n%s", r.stdout)
	}
	for _, args := range [][]string{
		{"--hub-config", "etc/jupyterhub/jupyterhub_config.py"},
		{"--nginx-config", "/etc/nginx/../nginx.conf"},
		{"--nginx-config", ""},
	} {
		r := runCLI(t, append([]string{"check", "--root", tr.Root}, args...)...)
		if r.code != exitFailure || !strings.Contains(r.stderr, args[0]+" ") || !strings.Contains(r.stderr, "want an absolute, clean path") {
			t.Errorf("%v: exit %d stderr %q, want 2 and a message naming the flag", args, r.code, r.stderr)
		}
	}
	h := runCLI(t, "check", "--help")
	for _, flag := range []string{"--hub-config PATH", "--nginx-config PATH", "/etc/jupyterhub/jupyterhub_config.py", "/etc/nginx/nginx.conf"} {
		if !strings.Contains(h.stdout+h.stderr, flag) {
			t.Errorf("--help lacks %q", flag)
		}
	}
}

// TestCheckConfigOversizedInclude: an include hubsecrets does not read is
// "could not check" (exit 2), never a silent pass.
func TestCheckConfigOversizedInclude(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Write("/etc/nginx/nginx.conf", 0o644, "http { include big.conf; }\n")
	tr.Write("/etc/nginx/big.conf", 0o644, strings.Repeat("# padding\n", 110000))
	r := runCLI(t, "check", "--root", tr.Root)
	if r.code != exitFailure || !strings.Contains(r.stderr, "could not check /etc/nginx/big.conf: larger than 1024 KiB") {
		t.Errorf("exit %d stderr %q", r.code, r.stderr)
	}
}

// TestCheckConfigSSH: over SSH (a real sshd chrooted in a Debian root) the
// remote command follows the same configuration: the findings equal those
// of scanning that root as a directory.
func TestCheckConfigSSH(t *testing.T) {
	s := startSSHD(t)
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	s.keyscan(t, knownHosts)
	good := testtree.Correct(t)
	install(t, good, s.root)
	writeOn := func(p string, mode os.FileMode, content string) {
		full := filepath.Join(s.root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	// The same files as writeMisconfigured, in the served root.
	tmp := testtree.New(t, "root")
	writeMisconfigured(t, tmp)
	for _, p := range []string{"/etc/jupyterhub/jupyterhub_config.py", "/etc/nginx/nginx.conf", "/etc/nginx/sites-available/hub", "/etc/ssl/dh1024.pem"} {
		b, err := os.ReadFile(tmp.Path(p))
		if err != nil {
			t.Fatal(err)
		}
		writeOn(p, 0o644, string(b))
	}
	if err := os.MkdirAll(filepath.Join(s.root, "etc/nginx/sites-enabled"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/nginx/sites-available/hub", filepath.Join(s.root, "etc/nginx/sites-enabled/hub")); err != nil {
		t.Fatal(err)
	}
	host := "127.0.0.1:" + s.port
	remote := runCLI(t, "check", "--ssh", "root@"+host, "--identity", s.key, "--known-hosts", knownHosts, "--format", "json")
	local := runCLI(t, "check", "--root", s.root, "--format", "json")
	if remote.code != exitDenied || local.code != exitDenied {
		t.Fatalf("exit %d (ssh) and %d (root)\n%s%s", remote.code, local.code, remote.stderr, local.stderr)
	}
	if a, b := findingKeys(t, local.stdout), findingKeys(t, remote.stdout); !slices.Equal(a, b) {
		t.Errorf("findings differ\nroot: %q\nssh:  %q", a, b)
	}
	for _, id := range []string{"HUB043", "HUB047", "HUB054", "HUB055", "HUB056"} {
		if !strings.Contains(remote.stdout, id) {
			t.Errorf("the SSH scan lacks %s", id)
		}
	}
	if strings.Contains(remote.stdout+remote.stderr, inlineToken[:16]) {
		t.Fatal("the SSH report shows the token written in the config")
	}
}
