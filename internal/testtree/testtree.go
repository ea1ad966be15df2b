// Package testtree builds real root filesystems under a test's temporary
// directory: the tutorial's broken result, a correct instance, variations.
// Each root has its own etc/passwd and etc/group naming the test's uid
// "root" (and its gid as asked), as a mounted image would, so owners resolve
// the same whether or not the tests run as root.
package testtree

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
)

// Tree is a root filesystem under t.TempDir().
type Tree struct {
	t    testing.TB
	Root string
	// Secrets records every secret value written, so tests can assert that
	// none of them appears in any output.
	Secrets []string
}

// New returns a root with etc files naming our gid groupName and an empty
// /srv/jupyterhub, mode 0755, as `sudo mkdir` makes it.
func New(t testing.TB, groupName string) *Tree {
	t.Helper()
	tr := &Tree{t: t, Root: t.TempDir()}
	uid, gid := strconv.Itoa(os.Getuid()), strconv.Itoa(os.Getgid())
	tr.Write("/etc/passwd", 0o644, "root:x:"+uid+":"+gid+":root:/root:/bin/sh\n")
	tr.Write("/etc/group", 0o644, groupName+":x:"+gid+":\n")
	tr.Mkdir("/srv/jupyterhub", 0o755)
	return tr
}

// Path is p inside the root, on the host.
func (tr *Tree) Path(p string) string { return filepath.Join(tr.Root, p) }

// Mkdir makes directory p (and parents) with mode.
func (tr *Tree) Mkdir(p string, mode os.FileMode) {
	tr.t.Helper()
	if err := os.MkdirAll(tr.Path(p), mode); err != nil {
		tr.t.Fatal(err)
	}
	tr.Chmod(p, mode)
}

// Write writes p with exactly mode.
func (tr *Tree) Write(p string, mode os.FileMode, content string) {
	tr.t.Helper()
	if err := os.MkdirAll(filepath.Dir(tr.Path(p)), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(tr.Path(p), []byte(content), mode); err != nil {
		tr.t.Fatal(err)
	}
	tr.Chmod(p, mode)
}

// Chmod sets p's mode.
func (tr *Tree) Chmod(p string, mode os.FileMode) {
	tr.t.Helper()
	if err := os.Chmod(tr.Path(p), mode); err != nil {
		tr.t.Fatal(err)
	}
}

// Symlink makes p a symlink to target.
func (tr *Tree) Symlink(target, p string) {
	tr.t.Helper()
	if err := os.Symlink(target, tr.Path(p)); err != nil {
		tr.t.Fatal(err)
	}
}

// Secret writes a fresh secret (32 random bytes, hex, newline) to p.
func (tr *Tree) Secret(p string, mode os.FileMode) string {
	tr.t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tr.t.Fatal(err)
	}
	s := hex.EncodeToString(b)
	tr.Secrets = append(tr.Secrets, s)
	tr.Write(p, mode, s+"\n")
	return s
}

// DHParam writes the RFC 7919 ffdhe2048 group to p.
func (tr *Tree) DHParam(p string, mode os.FileMode) {
	tr.t.Helper()
	g, err := dhparam.Group("ffdhe2048")
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.Write(p, mode, string(g.MarshalPEM()))
}

// Tutorial lays out what the tutorial really leaves behind: the cookie
// secret written to the misspelled jupyterhub_cookie_secretl (0644, the
// shell's umask) and the real file empty, group sudo.
func Tutorial(t testing.TB) *Tree {
	t.Helper()
	tr := New(t, "sudo")
	tr.Write("/srv/jupyterhub/jupyterhub_cookie_secret", 0o600, "")
	tr.Secret("/srv/jupyterhub/jupyterhub_cookie_secretl", 0o644)
	tr.Secret("/srv/jupyterhub/proxy_auth_token", 0o600)
	tr.DHParam("/srv/jupyterhub/dhparam.pem", 0o600)
	return tr
}

// Correct lays out a correct instance: secrets 0600, distinct, ffdhe2048.
func Correct(t testing.TB) *Tree {
	t.Helper()
	tr := New(t, "root")
	tr.Secret("/srv/jupyterhub/jupyterhub_cookie_secret", 0o600)
	tr.Secret("/srv/jupyterhub/proxy_auth_token", 0o600)
	tr.DHParam("/srv/jupyterhub/dhparam.pem", 0o600)
	return tr
}
