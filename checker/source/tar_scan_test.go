package source

// Tests of the tar source's one pass over members built by hand: what a
// member can and cannot make the scan do (names, '..' names, hard links,
// symlinked parents, owners, the bounded listing of the secrets directory).

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// TestTarPAXLongName checks a member whose name only a PAX header holds.
func TestTarPAXLongName(t *testing.T) {
	long := "/srv/jupyterhub/" + strings.Repeat("n", 200)
	data := buildTar(t, tar.FormatPAX,
		tm{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755},
		tm{name: long[1:], mode: 0o640, body: "x"},
	)
	fsys := openTarFile(t, bytes.NewReader(data), Options{})
	names, err := fsys.ReadDir("/srv/jupyterhub")
	if err != nil || len(names) != 1 || names[0] != strings.Repeat("n", 200) {
		t.Fatalf("ReadDir = %q, %v", names, err)
	}
	if n, err := fsys.Lstat(long); err != nil || n.Mode != 0o640 || n.Size != 1 {
		t.Errorf("Lstat = %+v, %v", n, err)
	}
}

// TestTarHostileArchives checks what an archive cannot make the scan do:
// map a name elsewhere, follow a symlink, invent an owner, keep a stale
// member, resolve a hard link it did not see.
func TestTarHostileArchives(t *testing.T) {
	const (
		d  = "/srv/jupyterhub"
		cs = d + "/jupyterhub_cookie_secret"
		pt = d + "/proxy_auth_token"
	)
	dir := tm{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755}
	type want struct {
		path string
		node *Node  // Lstat's node, or
		err  string // Lstat's error, "not exist" for fs.ErrNotExist
		data string // ReadPrefix's content when node is a file, or
		rerr string // ReadPrefix's error
	}
	tests := []struct {
		name    string
		members []tm
		want    []want
	}{
		{"absolute and dotted names", []tm{
			{name: "/srv/jupyterhub", typ: tar.TypeDir, mode: 0o700},
			{name: "./srv//jupyterhub/./jupyterhub_cookie_secret", body: "a"},
		}, []want{
			{path: d, node: &Node{Type: facts.TypeDir, Mode: 0o700}},
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 1}, data: "a"},
		}},
		{"dot-dot names aimed at observed paths", []tm{
			{name: "etc/passwd", mode: 0o644, body: "root:x:0:0::/:/bin/sh\n"},
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", body: "good"},
			{name: "srv/x/../jupyterhub/jupyterhub_cookie_secret", body: "evil"},
			{name: "../../etc/passwd", body: "evil"},
			{name: "../../tmp/elsewhere", body: "evil"},
		}, []want{
			{path: cs, err: "'..'"},
			{path: "/etc/passwd", err: "'..'"},
			{path: "/tmp/elsewhere", err: "not collected"},
			{path: d, node: &Node{Type: facts.TypeDir, Mode: 0o755}},
		}},
		{"a later real member wins over a dot-dot one", []tm{
			dir,
			{name: "srv/jupyterhub/../jupyterhub/jupyterhub_cookie_secret", body: "evil"},
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", body: "good"},
		}, []want{
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 4}, data: "good"},
		}},
		{"symlinked parent directory", []tm{
			{name: "data/srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755},
			{name: "data/srv/jupyterhub/jupyterhub_cookie_secret", body: "x"},
			{name: "srv", typ: tar.TypeSymlink, link: "data/srv", mode: 0o777},
		}, []want{
			// Asked directly, a path below a symlink is still refused; the
			// resolved path is kept by a second pass (Collect asks for it).
			{path: d, err: "/srv is a symlink to \"data/srv\""},
			{path: cs, err: "symlink"},
			{path: "/data/srv/jupyterhub/jupyterhub_cookie_secret", node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 1}, data: "x"},
		}},
		{"secrets directory is a symlink loop", []tm{
			{name: "srv/", typ: tar.TypeDir, mode: 0o755},
			{name: "srv/jupyterhub", typ: tar.TypeSymlink, link: "jupyterhub", mode: 0o777},
		}, []want{
			{path: d, node: &Node{Type: facts.TypeSymlink, Mode: 0o777, Size: 10, LinkTarget: "jupyterhub"}},
			{path: cs, err: "symlink"},
		}},
		{"parent only implied by its members", []tm{
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", body: "x"},
		}, []want{
			{path: d, err: "only as the parent"},
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 1}, data: "x"},
		}},
		{"parent is a file", []tm{
			{name: "srv", body: "x"},
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", body: "x"},
		}, []want{
			{path: cs, err: "not a directory"},
		}},
		{"last member of a name wins", []tm{
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", mode: 0o644, body: "first"},
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", mode: 0o600, body: "second!"},
			{name: "srv/jupyterhub/proxy_auth_token", mode: 0o600, body: "token"},
			{name: "srv/jupyterhub/proxy_auth_token", typ: tar.TypeSymlink, link: "/tmp/t", mode: 0o777},
		}, []want{
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 7}, data: "second!"},
			{path: pt, node: &Node{Type: facts.TypeSymlink, Mode: 0o777, Size: 6, LinkTarget: "/tmp/t"}},
		}},
		{"hard link chain", []tm{
			{name: "root/a", body: "content"},
			{name: "root/b", typ: tar.TypeLink, link: "root/a"},
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "./root/b"},
		}, []want{
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 7}, data: "content"},
		}},
		{"hard link sees its target as it was then", []tm{
			{name: "root/a", body: "old"},
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "root/a"},
			{name: "root/a", body: "new!"},
		}, []want{
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 3}, data: "old"},
		}},
		{"hard link to a secret", []tm{
			dir,
			{name: "srv/jupyterhub/proxy_auth_token", body: "same"},
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "srv/jupyterhub/proxy_auth_token"},
		}, []want{
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: 4}, data: "same"},
		}},
		{"hard link to nothing", []tm{
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "nowhere"},
		}, []want{
			{path: cs, err: "did not keep"},
		}},
		{"hard link to a directory", []tm{
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "srv/jupyterhub"},
		}, []want{
			{path: cs, err: "a directory"},
		}},
		{"hard link with dot-dot", []tm{
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "../../etc/shadow"},
		}, []want{
			{path: cs, err: "'..'"},
		}},
		{"hard link to content longer than kept", []tm{
			{name: "var/big", body: strings.Repeat("x", linkCachePrefix+10)},
			{name: "etc/passwd", typ: tar.TypeLink, link: "var/big"},
		}, []want{
			{path: "/etc/passwd", node: &Node{Type: facts.TypeFile, Mode: 0o600, Size: linkCachePrefix + 10}, rerr: "0 of its 4107 bytes were kept"},
		}},
		{"hard link carries a small file's content at most", []tm{
			{name: "etc/passwd", mode: 0o644, body: strings.Repeat("p", linkCachePrefix+10)},
			{name: "etc/group", typ: tar.TypeLink, link: "etc/passwd"},
		}, []want{
			{path: "/etc/group", node: &Node{Type: facts.TypeFile, Mode: 0o644, Size: linkCachePrefix + 10}, rerr: "4097 of its 4107 bytes were kept"},
		}},
		{"hard link to a name now a directory", []tm{
			{name: "root/a", body: "x"},
			{name: "root/a/", typ: tar.TypeDir, mode: 0o755},
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "root/a"},
		}, []want{
			{path: cs, err: "did not keep"},
		}},
		{"device and fifo", []tm{
			dir,
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeFifo, mode: 0o600},
			{name: "srv/jupyterhub/proxy_auth_token", typ: tar.TypeChar, mode: 0o600},
		}, []want{
			{path: cs, node: &Node{Type: facts.TypeOther, Mode: 0o600}},
			{path: pt, node: &Node{Type: facts.TypeOther, Mode: 0o600}},
		}},
		{"setuid and sticky bits", []tm{
			{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o1777},
			{name: "srv/jupyterhub/jupyterhub_cookie_secret", mode: 0o4755, body: ""},
		}, []want{
			{path: d, node: &Node{Type: facts.TypeDir, Mode: 0o1777}},
			{path: cs, node: &Node{Type: facts.TypeFile, Mode: 0o4755}, data: ""},
		}},
		{"paths Collect does not ask about", []tm{dir}, []want{
			{path: "/root/.bashrc", err: "not collected"},
			{path: "/etc/shadow", err: "not exist"}, // /etc is kept whole: no member, no file
			{path: "relative", err: "not collected"},
			{path: d + "/../jupyterhub", err: "not collected"},
			{path: d + "/absent", err: "not exist"},
			{path: cs, err: "not exist"},
		}},
	}
	// The archives that must be read twice, which OpenTar refuses on a
	// stream with this error.
	streamErr := map[string]string{"symlinked parent directory": "pass the archive as a file (--tar FILE)"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := buildTar(t, tar.FormatPAX, tc.members...)
			for how, r := range map[string]io.Reader{"file": bytes.NewReader(data), "stream": streamOnly{bytes.NewReader(data)}} {
				if why := streamErr[tc.name]; how == "stream" && why != "" {
					if _, err := OpenTar(r, Options{}); err == nil || !strings.Contains(err.Error(), why) {
						t.Errorf("stream: OpenTar error %v, want one saying %q", err, why)
					}
					continue
				}
				fsys := openTarFile(t, r, Options{})
				for _, w := range tc.want {
					n, err := fsys.Lstat(w.path)
					switch {
					case w.err == "not exist":
						if !isNotExist(err) {
							t.Errorf("%s: Lstat(%s) = %+v, %v; want not-exist", how, w.path, n, err)
						}
					case w.err != "":
						if err == nil || isNotExist(err) || !strings.Contains(err.Error(), w.err) {
							t.Errorf("%s: Lstat(%s) = %+v, %v; want an error saying %q", how, w.path, n, err, w.err)
						}
					case err != nil || n != *w.node:
						t.Errorf("%s: Lstat(%s) = %+v, %v; want %+v", how, w.path, n, err, *w.node)
					case w.rerr != "":
						if b, err := fsys.ReadPrefix(w.path, 1<<20); err == nil || !strings.Contains(err.Error(), w.rerr) {
							t.Errorf("%s: ReadPrefix(%s) = %q, %v; want an error saying %q", how, w.path, b, err, w.rerr)
						}
					case n.Type == facts.TypeFile:
						b, err := fsys.ReadPrefix(w.path, 1<<20)
						if err != nil || string(b) != w.data {
							t.Errorf("%s: ReadPrefix(%s) = %q, %v; want %q", how, w.path, b, err, w.data)
						}
					}
				}
			}
		})
	}
}

// TestTarHardLinkTargetForgotten: a link on an observed path whose target
// left the bounded cache is an error, never a silent pass.
func TestTarHardLinkTargetForgotten(t *testing.T) {
	members := []tm{
		{name: "root/cookie", body: hexSecret},
		{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755},
	}
	filler := strings.Repeat("f", linkCachePrefix)
	for i := range linkCacheBudget/linkCachePrefix + 10 {
		members = append(members, tm{name: fmt.Sprintf("usr/share/f%05d", i), body: filler})
	}
	members = append(members, tm{name: "srv/jupyterhub/jupyterhub_cookie_secret", typ: tar.TypeLink, link: "root/cookie"})
	fsys := openTarFile(t, bytes.NewReader(buildTar(t, tar.FormatGNU, members...)), Options{})
	doc, err := Collect(context.Background(), fsys, facts.Source{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := doc.Files[facts.CookieSecret]; f.Error == "" || !strings.Contains(f.Error, "did not keep") || len(doc.Errors) == 0 {
		t.Errorf("cookie secret = %+v, errors %v; want an error saying the target was not kept", f, doc.Errors)
	}
}

// TestTarManyLinksToABigFile: links cost a header of input each; they must
// not cost a copy of a large target each (20,000 copies of 4 MiB would not
// finish).
func TestTarManyLinksToABigFile(t *testing.T) {
	members := []tm{{name: "etc/passwd", mode: 0o644, body: strings.Repeat("root:x:0:0::/:/bin/sh\n", accountReadLimit/22)}}
	for range 20000 {
		members = append(members, tm{name: "etc/passwd", typ: tar.TypeLink, link: "etc/passwd"})
	}
	fsys := openTarFile(t, streamOnly{bytes.NewReader(buildTar(t, tar.FormatGNU, members...))}, Options{})
	if b, err := fsys.ReadPrefix("/etc/passwd", 64); err != nil || !strings.HasPrefix(string(b), "root:x:0:0") {
		t.Errorf("ReadPrefix = %q, %v", b, err)
	}
}

// TestTarKeepsSmallestChildren: with more entries than Collect lists, the
// listing is the one Collect would make of the whole directory.
func TestTarKeepsSmallestChildren(t *testing.T) {
	members := []tm{{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755}}
	for i := 300; i > 0; i-- { // largest first: every early one is evicted
		members = append(members, tm{name: fmt.Sprintf("srv/jupyterhub/e%03d", i), body: "x"})
	}
	members = append(members, tm{name: "srv/jupyterhub/zz/sub/file", body: "x"}, tm{name: "srv/jupyterhub/.hubsecrets-lock", body: ""})
	fsys := openTarFile(t, bytes.NewReader(buildTar(t, tar.FormatPAX, members...)), Options{})
	names, err := fsys.ReadDir("/srv/jupyterhub")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != maxUnexpected+2 || names[0] != ".hubsecrets-lock" || names[1] != "e001" || names[maxUnexpected+1] != fmt.Sprintf("e%03d", maxUnexpected+1) {
		t.Errorf("ReadDir = %d names %q...%q", len(names), names[:2], names[len(names)-1])
	}
	if _, err := fsys.Lstat("/srv/jupyterhub/e250"); err == nil || isNotExist(err) {
		t.Errorf("Lstat of an entry not kept = %v, want an error, not absence", err)
	}

	long := tm{name: "srv/jupyterhub/" + strings.Repeat("n", 300), body: "x"}
	fsys = openTarFile(t, bytes.NewReader(buildTar(t, tar.FormatPAX, members[0], long)), Options{})
	if _, err := fsys.ReadDir("/srv/jupyterhub"); err == nil || !strings.Contains(err.Error(), "longer than 255") {
		t.Errorf("ReadDir with a 300-byte name = %v, want an error", err)
	}
}

// TestTarNamesIgnoreUname: names resolve from the archive's /etc/passwd,
// never from the names the archive's builder stored.
func TestTarNamesIgnoreUname(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "etc/passwd", Mode: 0o644, Size: int64(len("hub:x:1234:0::/:/bin/sh\n")), Uname: "root"},
		{Name: "srv/jupyterhub/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: 1234, Uname: "root", Gname: "root"},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			io.WriteString(tw, "hub:x:1234:0::/:/bin/sh\n")
		}
	}
	tw.Close()
	doc, err := Collect(context.Background(), openTarFile(t, &buf, Options{}), facts.Source{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Dir.UID != 1234 || doc.Dir.Owner != "hub" || doc.Dir.Group != "" {
		t.Errorf("dir uid %d owner %q group %q, want 1234, hub (from the archive's passwd) and no group name", doc.Dir.UID, doc.Dir.Owner, doc.Dir.Group)
	}
}
