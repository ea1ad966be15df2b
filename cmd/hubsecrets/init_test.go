package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// initRoot is a root file system for init (--root): never this machine's,
// whose /etc/hubsecrets the tests must not touch. The secrets directory is
// /srv/jupyterhub inside it; the returned dir is that path on this machine.
func initRoot(t *testing.T) (root, dir string) {
	t.Helper()
	testenv.NeedRoot(t, "hubsecrets init makes root-owned files")
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

// withAccounts copies this machine's accounts into root, so the closing
// check names owners as the script's chown resolved them.
func withAccounts(t *testing.T, root string) {
	t.Helper()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	for _, name := range []string{"passwd", "group"} {
		b, err := os.ReadFile("/etc/" + name)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "etc", name), b, 0o644)
	}
}

// TestInitOwnerPassesItsOwnCheck: init --owner daemon --group daemon
// writes the contract its closing check then goes by (it denied HUB014 and
// HUB024, and its fix was to chown the secrets back to root).
func TestInitOwnerPassesItsOwnCheck(t *testing.T) {
	root, dir := initRoot(t)
	withAccounts(t, root)
	r := runCLI(t, "init", "--root", root, "--owner", "daemon", "--group", "daemon", "--dir-mode", "0750")
	if r.code != exitOK || !strings.Contains(r.stdout, "no findings") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	k, err := os.ReadFile(filepath.Join(root, "etc/hubsecrets/params.json"))
	if err != nil || !strings.Contains(string(k), `"owner": "daemon"`) {
		t.Fatalf("contract: %v\n%s", err, k)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o750 {
		t.Errorf("dir mode %v", fi.Mode())
	}
	// A second run with no flags keeps the contract's owner: nothing changes.
	before := readAll(t, dir)
	if r := runCLI(t, "init", "--root", root); r.code != exitOK || !strings.Contains(r.stdout, "nothing to change") {
		t.Fatalf("second run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := readAll(t, dir)
	for name := range before {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("the second run changed %s", name)
		}
	}
}

// TestInitAdoptsValidSecrets: valid hand-made secrets (the tutorial's
// openssl rand -hex 32, in upper case with CRLF even) are kept, and this
// instance is recorded for them.
func TestInitAdoptsValidSecrets(t *testing.T) {
	root, dir := initRoot(t)
	os.MkdirAll(dir, 0o755)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte("4b6f1c0e9d2a4c8e8f3a2b1c0d9e8f7a\n"), 0o444)
	cookie := []byte(strings.ToUpper(strings.Repeat("0f1e2d3c4b5a6978", 4)) + "\r\n")
	token := []byte(strings.Repeat("8796a5b4c3d2e1f0", 4) + "\n")
	os.WriteFile(filepath.Join(dir, "jupyterhub_cookie_secret"), cookie, 0o600)
	os.WriteFile(filepath.Join(dir, "proxy_auth_token"), token, 0o400)
	r := runCLI(t, "init", "--root", root)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := readAll(t, dir)
	if !bytes.Equal(got["jupyterhub_cookie_secret"], cookie) || !bytes.Equal(got["proxy_auth_token"], token) {
		t.Error("init replaced valid secrets")
	}
	if !strings.Contains(r.stdout, "kept the existing secrets and recorded this instance") || strings.Contains(r.stdout, "restart") {
		t.Errorf("output:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, ".hubsecrets-instance")); err != nil {
		t.Errorf("no stamp: %v", err)
	}
	// --rotate replaces them, and says the hub must be restarted.
	r = runCLI(t, "init", "--root", root, "--rotate")
	if got := readAll(t, dir); r.code != exitOK || bytes.Equal(got["jupyterhub_cookie_secret"], cookie) {
		t.Fatalf("--rotate: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestInitPreflight: what would make the run fail is found before anything
// is written, --dry-run exits as the real run does, and the error is said
// once.
func TestInitPreflight(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"directory writable by all", func(dir string) { os.Chmod(dir, 0o777) }, "chmod go-w"},
		{"directory owned by a user", func(dir string) { os.Chown(dir, 1000, 1000) }, "chown root"},
		{"dhparam.pem a directory", func(dir string) {
			os.Remove(filepath.Join(dir, "dhparam.pem"))
			os.Mkdir(filepath.Join(dir, "dhparam.pem"), 0o755)
		}, "not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, dir := initRoot(t)
			os.MkdirAll(dir, 0o755)
			weak := []byte(oakley2PEM)
			os.WriteFile(filepath.Join(dir, "dhparam.pem"), weak, 0o644)
			tt.setup(dir)
			for _, dry := range []bool{true, false} {
				args := []string{"init", "--root", root}
				if dry {
					args = append(args, "--dry-run")
				}
				r := runCLI(t, args...)
				if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("dry run %v: exit %d, want 2 and %q\n%s%s", dry, r.code, tt.want, r.stdout, r.stderr)
				}
				if n := strings.Count(r.stderr, tt.want); n != 1 {
					t.Errorf("dry run %v: the error is said %d times:\n%s", dry, n, r.stderr)
				}
			}
			if b, err := os.ReadFile(filepath.Join(dir, "dhparam.pem")); err == nil && !bytes.Equal(b, weak) {
				t.Error("a refused init rewrote dhparam.pem")
			}
			if _, err := os.Stat(filepath.Join(root, "etc/hubsecrets")); err == nil {
				t.Error("a refused init wrote the contract")
			}
		})
	}
}
