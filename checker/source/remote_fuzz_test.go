package source

import (
	"context"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// FuzzParseRemote feeds the remote collector's output, real and mangled,
// to ParseRemote and what it returns to Collect: no panic, no unbounded
// answer, and a document (or an error) every time.
func FuzzParseRemote(f *testing.F) {
	// Real output: the command run by dash on this host, pointed at a tree
	// with a hub config and nginx files (relative includes, a glob, a
	// symlink, ssl_dhparam).
	tr := testtree.Correct(f)
	tr.Write("/etc/jupyterhub/jupyterhub_config.py", 0o644, "c.JupyterHub.cookie_secret_file = '/x'\n")
	tr.Write("/etc/nginx/nginx.conf", 0o644, "http { include conf.d/*.conf; include missing.conf; }\n")
	tr.Write("/etc/nginx/conf.d/a.conf", 0o644, "server { listen 443 ssl; ssl_dhparam 'dh.pem'; }\n")
	tr.Symlink("a.conf", "/etc/nginx/conf.d/b.conf")
	tr.DHParam("/etc/nginx/dh.pem", 0o600)
	opt := Options{
		Dir:         tr.Path("/srv/jupyterhub"),
		HubConfig:   tr.Path("/etc/jupyterhub/jupyterhub_config.py"),
		NginxConfig: tr.Path("/etc/nginx/nginx.conf"),
	}
	if dash, ok := testenv.HaveTool(f, "dash", "a seed of the remote script's real output"); ok {
		out, err := exec.Command(dash, "-c", RemoteScript(opt)).Output()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(out)
	}
	hx := func(s string) string { return hex.EncodeToString([]byte(s)) }
	f.Add([]byte(remoteMagic + "\nS " + hx("/srv/jupyterhub") + " 41ed 0 0 4096\nD " + hx("/srv/jupyterhub") + " " + hx("x") +
		"\nR " + hx("/etc/nginx/nginx.conf") + " " + hx("include a/*.conf;") + "\nG " + hx("/etc/nginx/a/*.conf") + " " + hx("/etc/nginx/a/../b.conf") +
		"\nQ " + hx("/etc/nginx/b.conf") + "\nW " + hx("/x") + " " + hx("dir") + "\nX " + hx("/y") + " " + hx("no") + "\nend\n"))
	f.Add([]byte(remoteMagic + "\nL " + hx("/a") + " " + hx("/a") + "\nS " + hx("/a") + " a1ff 0 0 2\nend\n"))
	f.Add([]byte(remoteMagic + "\nG " + hx("/p") + "\nR " + hx(".") + "\nend\n"))

	f.Fuzz(func(t *testing.T, out []byte) {
		fsys, err := ParseRemote(out)
		if err != nil {
			if fsys != nil {
				t.Fatal("an FS with an error")
			}
			return
		}
		files := configFiles(fsys)
		for _, p := range []string{"/", "/etc/nginx/nginx.conf", "/etc/nginx/b.conf", "/a", "relative", ""} {
			for _, n := range []int64{-1, 0, 10, 1 << 20} {
				if b, err := files.Read(p, n); err == nil && int64(len(b)) > max(n, 0) {
					t.Fatalf("Read(%q, %d) = %d bytes", p, n, len(b))
				}
				if b, err := fsys.ReadPrefix(p, n); err == nil && int64(len(b)) > max(n, 0) {
					t.Fatalf("ReadPrefix(%q, %d) = %d bytes", p, n, len(b))
				}
			}
			if m, err := files.Glob(p + "/*"); err == nil && len(m) > maxGlobMatches {
				t.Fatalf("Glob: %d matches", len(m))
			}
		}
		doc, err := Collect(context.Background(), fsys, facts.Source{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(toJSON(t, doc), "\x00") {
			t.Fatal("a NUL in the document")
		}
	})
}
