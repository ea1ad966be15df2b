package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
)

// initRoot is a root file system for init (--root): never this machine's,
// whose /etc/hubsecrets the tests must not touch. The secrets directory is
// /srv/jupyterhub inside it; the returned dir is that path on this machine.
func initRoot(t *testing.T) (root, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("hubsecrets init makes root-owned files: run the tests as root")
	}
	root = t.TempDir()
	return root, filepath.Join(root, "srv", "jupyterhub")
}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range []string{"jupyterhub_cookie_secret", "proxy_auth_token", "dhparam.pem"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

func assertNoValue(t *testing.T, files map[string][]byte, out string) {
	t.Helper()
	for _, name := range []string{"jupyterhub_cookie_secret", "proxy_auth_token"} {
		v := strings.TrimSpace(string(files[name]))
		if v == "" || strings.Contains(out, v) || strings.Contains(out, v[:16]) {
			t.Fatalf("%s's value appears in the output (or is empty)", name)
		}
	}
}

func TestInitMakesAndKeeps(t *testing.T) {
	root, dir := initRoot(t)
	r := runCLI(t, "init", "--root", root)
	if r.code != exitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	first := readAll(t, dir)
	for _, name := range []string{"jupyterhub_cookie_secret", "proxy_auth_token"} {
		fi, _ := os.Stat(filepath.Join(dir, name))
		if b := first[name]; len(b) != 65 || b[64] != '\n' || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %d bytes, mode %v", name, len(b), fi.Mode())
		}
	}
	if bytes.Equal(first["jupyterhub_cookie_secret"], first["proxy_auth_token"]) {
		t.Error("the two secrets are equal")
	}
	g, _ := dhparam.Group("ffdhe2048")
	if !bytes.Equal(first["dhparam.pem"], g.MarshalPEM()) {
		t.Error("dhparam.pem is not ffdhe2048")
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("dir mode %v", fi.Mode())
	}
	if !strings.Contains(r.stdout, "no findings") || !strings.Contains(r.stdout, "created "+dir) {
		t.Errorf("first run output:\n%s", r.stdout)
	}
	assertNoValue(t, first, r.stdout+r.stderr)

	r = runCLI(t, "init", "--root", root)
	if r.code != exitOK || !strings.Contains(r.stdout, "nothing to change") {
		t.Fatalf("second run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	second := readAll(t, dir)
	for name := range first {
		if !bytes.Equal(first[name], second[name]) {
			t.Errorf("second run changed %s", name)
		}
	}

	r = runCLI(t, "init", "--root", root, "--rotate")
	if r.code != exitOK {
		t.Fatalf("--rotate: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	third := readAll(t, dir)
	if bytes.Equal(second["jupyterhub_cookie_secret"], third["jupyterhub_cookie_secret"]) ||
		bytes.Equal(second["proxy_auth_token"], third["proxy_auth_token"]) {
		t.Error("--rotate kept a secret")
	}
	if !bytes.Equal(second["dhparam.pem"], third["dhparam.pem"]) {
		t.Error("--rotate replaced the DH parameters")
	}
	assertNoValue(t, third, r.stdout+r.stderr)
}

func TestInitReplacesWhatWasAskedOrBroken(t *testing.T) {
	root, dir := initRoot(t)
	if r := runCLI(t, "init", "--root", root); r.code != exitOK {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	r := runCLI(t, "init", "--root", root, "--dhparam-group", "ffdhe3072")
	g, _ := dhparam.Group("ffdhe3072")
	if b := readAll(t, dir)["dhparam.pem"]; r.code != exitOK || !bytes.Equal(b, g.MarshalPEM()) {
		t.Fatalf("--dhparam-group ffdhe3072: exit %d\n%s", r.code, r.stdout)
	}
	// The tutorial's mistakes: an empty cookie secret, a world-readable token.
	os.WriteFile(filepath.Join(dir, "jupyterhub_cookie_secret"), nil, 0o600)
	os.Chmod(filepath.Join(dir, "proxy_auth_token"), 0o644)
	os.Chmod(filepath.Join(dir, "dhparam.pem"), 0o644)
	r = runCLI(t, "init", "--root", root)
	if r.code != exitOK || !strings.Contains(r.stdout, "no findings") {
		t.Fatalf("repair: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if b := readAll(t, dir)["dhparam.pem"]; !bytes.Equal(b, g.MarshalPEM()) {
		t.Error("repairing the mode replaced the chosen group with the default")
	}
}

func TestInitDryRunChangesNothing(t *testing.T) {
	root, dir := initRoot(t)
	r := runCLI(t, "init", "--root", root, "--dry-run", "--install-unit")
	if r.code != exitOK || !strings.Contains(r.stdout, "would create "+dir) || !strings.Contains(r.stdout, "would write "+root+"/etc/systemd/system/jupyterhub-secrets.service") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if entries, _ := os.ReadDir(root); len(entries) > 0 {
		t.Errorf("--dry-run wrote under the root: %v", entries)
	}
}

func TestInitRefuses(t *testing.T) {
	root, dir := initRoot(t)
	os.MkdirAll(filepath.Join(root, "srv"), 0o755)
	os.Symlink(t.TempDir(), filepath.Join(root, "srv", "link"))
	tests := []struct {
		name string
		euid int
		args []string
		want string
	}{
		{"not root", 1000, []string{"--root", root}, "must run as root"},
		{"bits and group", 0, []string{"--root", root, "--dhparam-bits", "2048", "--dhparam-group", "ffdhe2048"}, "exclude each other"},
		{"small bits", 0, []string{"--root", root, "--dhparam-bits", "1024"}, "--dhparam-bits 1024"},
		{"unknown group", 0, []string{"--root", root, "--dhparam-group", "modp1024"}, "--dhparam-group"},
		{"relative dir", 0, []string{"--root", root, "--dir", "srv/jupyterhub"}, "--dir"},
		{"system dir", 0, []string{"--root", root, "--dir", "/root"}, `--dir "/root": is a system directory`},
		{"unknown owner", 0, []string{"--root", root, "--owner", "no-such-user-here"}, `owner "no-such-user-here": no such user`},
		{"symlinked dir", 0, []string{"--root", root, "--dir", "/srv/link"}, "symbolic link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLIAs(t, tt.euid, append([]string{"init"}, tt.args...)...)
			if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d stderr %q: want 2 and %q", r.code, r.stderr, tt.want)
			}
			if _, err := os.Lstat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused init left %s behind", dir)
			}
		})
	}
}
