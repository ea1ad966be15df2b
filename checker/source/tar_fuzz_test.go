package source

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// FuzzOpenTar feeds archives, real and mangled, to OpenTar as a file and as
// a stream. Neither may panic; both must agree; an FS they return must
// answer within bounds and yield a facts document.
func FuzzOpenTar(f *testing.F) {
	tr := testtree.Tutorial(f)
	tr.Symlink("jupyterhub_cookie_secret", "/srv/jupyterhub/link")
	if err := os.Link(tr.Path("/srv/jupyterhub/proxy_auth_token"), tr.Path("/srv/jupyterhub/hardlink")); err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	for i, argv := range [][]string{
		{"tar", "-b1", "-cf"},
		{"tar", "-b1", "--format=pax", "-cf"},
		{"tar", "-czf"},
		{"busybox", "tar", "-cf"},
	} {
		tool, ok := testenv.HaveTool(f, argv[0], "a seed archive made by "+strings.Join(argv[:len(argv)-1], " "))
		if !ok {
			continue
		}
		out := filepath.Join(dir, strings.Repeat("a", i+1))
		args := append(argv[1:], out, "-C", tr.Root, ".")
		if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
			f.Fatalf("%s: %v\n%s", argv, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	small := buildTar(f, tar.FormatGNU,
		tm{name: "etc/passwd", mode: 0o644, body: "root:x:0:0::/:/bin/sh\n"},
		tm{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755},
		tm{name: "srv/jupyterhub/proxy_auth_token", body: hexSecret},
		tm{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "srv/jupyterhub/proxy_auth_token"},
		tm{name: "srv/x/../jupyterhub/dhparam.pem", body: "x"},
		tm{name: "srv/jupyterhub/d/e", body: "x"},
	)
	f.Add(small)
	f.Add(zstdBytes(f, small))
	f.Add(buildTar(f, tar.FormatPAX,
		tm{name: "srv", typ: tar.TypeSymlink, link: "srv"},
		tm{name: "srv/jupyterhub/" + strings.Repeat("n", 120), body: "x"},
	))
	f.Add(buildTar(f, tar.FormatPAX,
		tm{name: "etc/nginx/nginx.conf", body: "http { include s/*; include up; server { listen 443 ssl; ssl_dhparam /opt/dh.pem; } }"},
		tm{name: "etc/nginx/s/a", typ: tar.TypeSymlink, link: "/etc/nginx/s/b"},
		tm{name: "etc/nginx/s/b", typ: tar.TypeSymlink, link: "a"},
		tm{name: "etc/nginx/up", typ: tar.TypeSymlink, link: "../../../../etc/jupyterhub/jupyterhub_config.py"},
		tm{name: "etc/jupyterhub/jupyterhub_config.py", body: "c.JupyterHub.cookie_secret_file = '/x'\n"},
		tm{name: "opt/dh.pem", body: "-----BEGIN DH PARAMETERS-----\nMAA=\n-----END DH PARAMETERS-----\n"},
		tm{name: "etc/nginx/x/../s/c", body: "server {}"},
	))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		fileFS, fileErr := OpenTar(bytes.NewReader(data), Options{})
		streamFS, streamErr := OpenTar(streamOnly{bytes.NewReader(data)}, Options{})
		if (fileErr == nil) != (streamErr == nil) {
			t.Fatalf("as a file: %v; as a stream: %v", fileErr, streamErr)
		}
		if fileErr != nil {
			if fileFS != nil || streamFS != nil {
				t.Fatal("an FS with an error")
			}
			return
		}
		a, b := checkTarFS(t, fileFS), checkTarFS(t, streamFS)
		if a != b {
			t.Fatalf("facts differ\nfile:   %s\nstream: %s", a, b)
		}
	})
}

// checkTarFS asks fsys what Collect asks and more, checks the answers are
// within bounds, and returns the facts document.
func checkTarFS(t *testing.T, fsys FS) string {
	t.Helper()
	plan := planFor(Options{})
	paths := append(plan.stat, "/", "/srv", "/srv/jupyterhub/x", "/srv/jupyterhub/..", "relative", "")
	if names, err := fsys.ReadDir(plan.list); err == nil {
		if len(names) > maxUnexpected+1+len(expected)+2 {
			t.Fatalf("ReadDir returned %d names", len(names))
		}
		for _, n := range names {
			if n == "" || n == "." || n == ".." || strings.Contains(n, "/") {
				t.Fatalf("ReadDir returned the name %q", n)
			}
			paths = append(paths, plan.list+"/"+n)
		}
	}
	for _, p := range paths {
		n, err := fsys.Lstat(p)
		if err == nil {
			switch n.Type {
			case facts.TypeFile, facts.TypeDir, facts.TypeSymlink, facts.TypeOther:
			default:
				t.Fatalf("Lstat(%q) type %q", p, n.Type)
			}
			if n.Mode&^0o7777 != 0 || n.UID < 0 || n.GID < 0 || n.Size < 0 {
				t.Fatalf("Lstat(%q) = %+v", p, n)
			}
		}
		for _, lim := range []int64{-1, 0, 1, 64, secretReadLimit + 1, accountReadLimit} {
			b, rerr := fsys.ReadPrefix(p, lim)
			if rerr != nil {
				continue
			}
			if int64(len(b)) > max(lim, 0) || err != nil || n.Type != facts.TypeFile {
				t.Fatalf("ReadPrefix(%q, %d) = %d bytes; Lstat %+v, %v", p, lim, len(b), n, err)
			}
		}
	}
	doc, err := Collect(context.Background(), fsys, facts.Source{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return toJSON(t, doc)
}
