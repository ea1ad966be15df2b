package source

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// inlineToken is a secret a careless admin wrote into jupyterhub_config.py:
// the facts must say a literal is there, and never carry it.
const inlineToken = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"

// oakley2 is RFC 2409's 1024-bit second Oakley group: public, and weak.
const oakley2 = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF"

func weakDHPEM(t testing.TB) string {
	p, ok := new(big.Int).SetString(oakley2, 16)
	if !ok {
		t.Fatal("bad oakley2 constant")
	}
	return string((&dhparam.Params{P: p, G: big.NewInt(2)}).MarshalPEM())
}

// configTree is a hub behind nginx as people set it up: Debian's nginx
// layout (sites-enabled holding an absolute symlink), certbot's include and
// DH parameters outside /etc/nginx, a weak group elsewhere, and a hub
// config that points away from the checked secrets.
func configTree(t testing.TB) *testtree.Tree {
	tr := testtree.Correct(t)
	tr.Write("/etc/jupyterhub/jupyterhub_config.py", 0o640, `from pathlib import Path
c = get_config()  # noqa
c.JupyterHub.cookie_secret_file = '/var/lib/jupyterhub/jupyterhub_cookie_secret'
c.ConfigurableHTTPProxy.auth_token = '`+inlineToken+`'
`)
	tr.Write("/etc/nginx/nginx.conf", 0o644, `user www-data;
events { worker_connections 768; }
http {
	ssl_protocols TLSv1.2 TLSv1.3;
	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}
`)
	tr.Write("/etc/nginx/sites-available/hub", 0o644, `server {
	listen 443 ssl;
	server_name hub.example.org;
	include /etc/letsencrypt/options-ssl-nginx.conf;
	ssl_dhparam /etc/letsencrypt/ssl-dhparams.pem;
	location / { proxy_pass http://127.0.0.1:8000; }
}
`)
	tr.Mkdir("/etc/nginx/sites-enabled", 0o755)
	tr.Symlink("/etc/nginx/sites-available/hub", "/etc/nginx/sites-enabled/hub")
	tr.Write("/etc/nginx/conf.d/other.conf", 0o644, `server { listen 8443 ssl; ssl_dhparam /opt/weak/dh1024.pem; }
server { listen 9443 ssl; server_name "no dhparam"; }
`)
	tr.Write("/etc/nginx/conf.d/.hidden.conf", 0o644, "this is not nginx syntax {")
	tr.Write("/etc/letsencrypt/options-ssl-nginx.conf", 0o644, `# certbot's
ssl_session_cache shared:le_nginx_SSL:10m;
ssl_prefer_server_ciphers off;
ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";
`)
	tr.DHParam("/etc/letsencrypt/ssl-dhparams.pem", 0o644)
	tr.Write("/opt/weak/dh1024.pem", 0o664, weakDHPEM(t))
	return tr
}

func collectDir(t *testing.T, root string, opt Options) *facts.Document {
	t.Helper()
	fsys, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	doc, err := Collect(context.Background(), fsys, facts.Source{Kind: "dir", Root: root}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCollectConfigs(t *testing.T) {
	tr := configTree(t)
	doc := collectDir(t, tr.Root, Options{})
	if len(doc.Errors) != 0 {
		t.Fatalf("errors: %v", doc.Errors)
	}
	if strings.Contains(toJSON(t, doc), inlineToken[:16]) {
		t.Fatal("the facts carry the token written in jupyterhub_config.py")
	}
	hc := doc.HubConfig
	if hc == nil || hc.Path != DefaultHubConfig {
		t.Fatalf("hub config %+v", hc)
	}
	if s := hc.CookieSecretFile; s.Kind != facts.SettingFile || s.Path != "/var/lib/jupyterhub/jupyterhub_cookie_secret" || s.Line != 3 {
		t.Errorf("cookie_secret_file %+v", s)
	}
	if s := hc.ProxyToken; s.Kind != facts.SettingLiteral || s.Line != 4 || s.Attr != "c.ConfigurableHTTPProxy.auth_token" {
		t.Errorf("proxy token %+v", s)
	}

	n := doc.Nginx
	if n == nil {
		t.Fatal("no nginx facts")
	}
	wantFiles := []string{"/etc/nginx/nginx.conf", "/etc/nginx/conf.d/other.conf", "/etc/nginx/sites-enabled/hub", "/etc/letsencrypt/options-ssl-nginx.conf"}
	if !slices.Equal(n.Files, wantFiles) || len(n.Errors) != 0 {
		t.Errorf("files %v errors %+v, want %v and no error (the hidden file is not matched)", n.Files, n.Errors, wantFiles)
	}
	if len(n.Servers) != 3 {
		t.Fatalf("servers %+v", n.Servers)
	}
	weak, bare, hub := n.Servers[0], n.Servers[1], n.Servers[2]
	if !hub.TLS || hub.DHParam == nil || hub.DHParam.Value != "/etc/letsencrypt/ssl-dhparams.pem" || !hub.DHESuites ||
		hub.Ciphers.File != "/etc/letsencrypt/options-ssl-nginx.conf" || len(hub.DHESuiteNames) != 2 {
		t.Errorf("hub server %+v", hub)
	}
	if !bare.TLS || bare.DHParam != nil || !bare.DHESuites || !bare.Ciphers.Default {
		t.Errorf("server without ssl_dhparam %+v", bare)
	}
	if weak.DHParam == nil || weak.DHParam.Value != "/opt/weak/dh1024.pem" {
		t.Errorf("weak server %+v", weak)
	}
	le := n.DHFiles["/etc/letsencrypt/ssl-dhparams.pem"]
	if !le.Exists || le.DH == nil || le.DH.Group != "ffdhe2048" || le.ModeOctal != "0644" {
		t.Errorf("certbot's DH file %+v %+v", le, le.DH)
	}
	w := n.DHFiles["/opt/weak/dh1024.pem"]
	if w.DH == nil || w.DH.PrimeBits != 1024 || w.DH.WeakGroup == "" || w.ModeOctal != "0664" {
		t.Errorf("weak DH file %+v %+v", w, w.DH)
	}
	if len(n.DHFiles) != 2 {
		t.Errorf("dh files %v", n.DHFiles)
	}
}

func TestCollectConfigsAbsent(t *testing.T) {
	doc := collectDir(t, testtree.Correct(t).Root, Options{})
	if doc.HubConfig != nil || doc.Nginx != nil || len(doc.Errors) != 0 {
		t.Errorf("hub %+v nginx %+v errors %v: want neither section when the files do not exist", doc.HubConfig, doc.Nginx, doc.Errors)
	}
	if b := toJSON(t, doc); strings.Contains(b, "hub_config") || strings.Contains(b, "nginx") {
		t.Error("the JSON mentions sections that are absent")
	}
}

func TestCollectConfigsOtherPaths(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Write("/opt/hub/config.py", 0o644, "c.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\n")
	tr.Write("/usr/local/nginx/conf/nginx.conf", 0o644, "http { include site.conf; }\n")
	tr.Write("/usr/local/nginx/conf/site.conf", 0o644, "server { listen 443 ssl; ssl_dhparam dh.pem; }\n")
	tr.DHParam("/usr/local/nginx/conf/dh.pem", 0o600)
	doc := collectDir(t, tr.Root, Options{HubConfig: "/opt/hub/config.py", NginxConfig: "/usr/local/nginx/conf/nginx.conf"})
	if doc.HubConfig == nil || doc.HubConfig.CookieSecretFile.Path != "/srv/jupyterhub/jupyterhub_cookie_secret" {
		t.Errorf("hub config %+v", doc.HubConfig)
	}
	if doc.Nginx == nil || len(doc.Nginx.Servers) != 1 || doc.Nginx.Servers[0].DHParam.Value != "/usr/local/nginx/conf/dh.pem" {
		t.Fatalf("nginx %+v", doc.Nginx)
	}
	if f := doc.Nginx.DHFiles["/usr/local/nginx/conf/dh.pem"]; f.DH == nil || !f.DH.Parsed {
		t.Errorf("dh file %+v", f)
	}
	for _, bad := range []Options{{HubConfig: "relative.py"}, {NginxConfig: "/etc/nginx/../nginx.conf"}, {NginxConfig: "/"}} {
		fsys, _ := OpenDir(tr.Root)
		_, err := Collect(context.Background(), fsys, facts.Source{}, bad)
		fsys.Close()
		if err == nil || !strings.Contains(err.Error(), "want an absolute, clean path") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestConfigSymlinks: configuration files are followed as their programs
// follow them, never out of the root, and loops end.
func TestConfigSymlinks(t *testing.T) {
	tr := testtree.New(t, "root")
	tr.Write("/etc/nginx/real.conf", 0o644, "events {}\n")
	tr.Mkdir("/etc/nginx/links", 0o755)
	tr.Symlink("../real.conf", "/etc/nginx/links/relative")
	tr.Symlink("/etc/nginx/real.conf", "/etc/nginx/links/absolute")
	tr.Symlink("../../../../../../etc/nginx/real.conf", "/etc/nginx/links/climbing")
	tr.Symlink("loop2", "/etc/nginx/links/loop1")
	tr.Symlink("loop1", "/etc/nginx/links/loop2")
	tr.Symlink("/nowhere", "/etc/nginx/links/dangling")
	tr.Symlink("/etc/nginx", "/etc/nginx-link")
	tr.Symlink("/etc/passwd", "/etc/nginx/links/notdir")
	fsys, err := OpenDir(tr.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	files := configFiles(fsys)
	for _, p := range []string{"/etc/nginx/links/relative", "/etc/nginx/links/absolute", "/etc/nginx/links/climbing", "/etc/nginx-link/links/absolute"} {
		if b, err := files.Read(p, 100); err != nil || string(b) != "events {}\n" {
			t.Errorf("Read(%s) = %q, %v", p, b, err)
		}
	}
	for p, want := range map[string]string{
		"/etc/nginx/links/loop1":      "too many levels of symbolic links",
		"/etc/nginx/links/dangling":   "not exist",
		"/etc/nginx/links":            "a directory",
		"/etc/nginx/links/notdir/x":   "not a directory",
		"/etc/nginx/links/missing":    "not exist",
		"/etc/nginx-link/links/loop2": "too many levels",
	} {
		if _, err := files.Read(p, 100); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%s) = %v, want %q", p, err, want)
		}
	}
	got, err := files.Glob("/etc/nginx-link/l*/[!ad]*")
	want := []string{"/etc/nginx-link/links/climbing", "/etc/nginx-link/links/loop1", "/etc/nginx-link/links/loop2", "/etc/nginx-link/links/notdir", "/etc/nginx-link/links/relative"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Glob = %v, %v; want %v", got, err, want)
	}
}

// tarOf archives root with GNU tar (a real archive, as users make them).
func tarOf(t *testing.T, root string, args ...string) []byte {
	t.Helper()
	tar := testenv.NeedTool(t, "tar", "the tar source is compared on archives GNU tar makes")
	out := filepath.Join(t.TempDir(), "root.tar")
	cmd := exec.Command(tar, append(append([]string{"-cf", out}, args...), "-C", root, ".")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func collectTar(t *testing.T, data []byte, opt Options) *facts.Document {
	t.Helper()
	fsys, err := OpenTar(bytes.NewReader(data), opt)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Collect(context.Background(), fsys, facts.Source{Kind: "dir", Root: "x"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestConfigSourcesAgree: a real tree, its GNU tar archive (with and
// without directory members) and the remote command run in a chroot of it
// (busybox and dash, busybox applets only) give the same document.
func TestConfigSourcesAgree(t *testing.T) {
	tr := configTree(t)
	// The first-boot hook's digests (one file past the read bound), its
	// directories, and what clones would share.
	tr.Write("/usr/local/libexec/hubsecrets/jupyterhub-secrets", 0o755, "#!/bin/sh\n"+strings.Repeat("# a line of the script\n", 2000))
	tr.Chmod("/usr/local/libexec", 0o775)
	tr.Write("/etc/systemd/system/jupyterhub-secrets.service", 0o644, strings.Repeat("#", firstbootReadLimit+1))
	tr.Write("/etc/systemd/system/jupyterhub.service.d/jupyterhub-secrets.conf", 0o644, "[Unit]\n")
	tr.Write("/var/lib/dbus/machine-id", 0o644, "0123456789abcdef0123456789abcdef\n")
	tr.Write("/var/lib/cloud/data/instance-id", 0o644, "i-0123\n")
	tr.Symlink("instances/i-0123", "/var/lib/cloud/instance")
	want := collectDir(t, tr.Root, Options{})
	want.Source = facts.Source{Kind: "dir", Root: "x"}
	if want.FirstBoot[facts.FirstBootScript].SHA256 == "" || want.FirstBoot[facts.FirstBootUnit].SHA256 != "" || want.FirstBootDirs[1].Mode != 0o775 || !want.Identity.CloudInstanceLink.Exists {
		t.Fatalf("the tree's hook and identity facts are not what it holds: %+v %+v %+v", want.FirstBoot, want.FirstBootDirs, want.Identity)
	}
	wantJSON := toJSON(t, want)
	// An archive says nothing about a directory's size.
	wantTar := *want
	wantTar.Dir.Size = 0
	wantTarJSON := toJSON(t, &wantTar)

	for name, args := range map[string][]string{
		"tar":                    nil,
		"tar --format=gnu, gzip": {"--format=gnu", "-z"},
	} {
		t.Run(name, func(t *testing.T) {
			got := collectTar(t, tarOf(t, tr.Root, args...), Options{})
			if a := toJSON(t, got); a != wantTarJSON {
				t.Errorf("tar facts differ from the directory's:\n%s", lineDiff(a, wantTarJSON))
			}
		})
	}
	t.Run("tar without directory members", func(t *testing.T) {
		var files []string
		err := filepath.Walk(tr.Root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				rel, _ := filepath.Rel(tr.Root, p)
				files = append(files, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "files.tar")
		cmd := exec.Command("tar", append([]string{"-cf", out, "--no-recursion", "-C", tr.Root}, files...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, b)
		}
		data, _ := os.ReadFile(out)
		got := collectTar(t, data, Options{})
		// Without its member, /srv/jupyterhub has no owner or mode: an
		// error there, but the configuration is followed all the same.
		if got.Nginx == nil || toJSON(t, got.Nginx) != toJSON(t, want.Nginx) || toJSON(t, got.HubConfig) != toJSON(t, want.HubConfig) {
			t.Errorf("configuration facts differ\ntar: %s\ndir: %s", toJSON(t, got.Nginx), toJSON(t, want.Nginx))
		}
	})
	for _, shell := range []string{"busybox", "dash"} {
		t.Run("remote in a chroot, "+shell, func(t *testing.T) {
			root := chrootWithBusybox(t, tr.Root, shell)
			argv := []string{root, "/bin/sh", "-c", RemoteScript(Options{})}
			cmd := exec.Command("chroot", argv...)
			cmd.Env = []string{"PATH=/bin"}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("remote command: %v\n%s", err, stderrOf(err))
			}
			if bytes.Contains(out, []byte(inlineToken)) {
				t.Fatal("the remote output carries the config's secret in the clear")
			}
			fsys, err := ParseRemote(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Collect(context.Background(), fsys, facts.Source{Kind: "dir", Root: "x"}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if a := toJSON(t, got); a != wantJSON {
				t.Errorf("remote facts differ from the directory's:\n%s", lineDiff(a, wantJSON))
			}
		})
	}
}

// chrootWithBusybox copies busybox (and dash when shell is "dash") with
// their libraries into the tree, applets in /bin, so that the remote
// command runs there as on a small target whose / is the tree. It needs
// root; the copies are removed when the test ends.
func chrootWithBusybox(t *testing.T, root, shell string) string {
	t.Helper()
	why := "the remote script in a chroot under busybox and dash must give the directory source's facts"
	testenv.NeedRoot(t, why+" (chroot)")
	bins := []string{testenv.NeedTool(t, "busybox", why)}
	if shell == "dash" {
		bins = append(bins, testenv.NeedTool(t, "dash", why))
	}
	var added []string
	t.Cleanup(func() {
		for i := len(added) - 1; i >= 0; i-- {
			os.RemoveAll(added[i])
		}
	})
	copyIn := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(root, dst)
		for d := filepath.Dir(full); d != root; d = filepath.Dir(d) {
			if _, err := os.Lstat(d); os.IsNotExist(err) {
				added = append(added, d)
			}
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o755); err != nil {
			t.Fatal(err)
		}
		added = append(added, full)
	}
	for _, bin := range bins {
		copyIn(bin, "/bin/"+filepath.Base(bin))
		out, err := exec.Command(testenv.NeedTool(t, "ldd", why), bin).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "not a dynamic executable") {
			t.Fatalf("ldd %s: %v\n%s", bin, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "/") {
					real, err := filepath.EvalSymlinks(f)
					if err != nil {
						t.Fatal(err)
					}
					copyIn(real, f)
				}
			}
		}
	}
	// The command sends its probes' errors to /dev/null, as every target has.
	devNull := filepath.Join(root, "dev/null")
	if err := os.MkdirAll(filepath.Dir(devNull), 0o755); err != nil {
		t.Fatal(err)
	}
	added = append(added, filepath.Dir(devNull))
	if err := syscall.Mknod(devNull, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		testenv.Missing(t, fmt.Sprintf("mknod (a /dev/null in the chroot): %v", err), why)
	}
	added = append(added, devNull)
	applets := []string{"stat", "od", "tr", "head", "readlink", "printf", "echo", "[", "awk", "test"}
	if shell == "dash" {
		if err := os.Symlink("dash", filepath.Join(root, "bin/sh")); err != nil {
			t.Fatal(err)
		}
		added = append(added, filepath.Join(root, "bin/sh"))
	} else {
		applets = append(applets, "sh")
	}
	for _, a := range applets {
		l := filepath.Join(root, "bin", a)
		if err := os.Symlink("busybox", l); err != nil {
			t.Fatal(err)
		}
		added = append(added, l)
	}
	return root
}

// TestTarConfigLimits: what the tar source cannot follow is an error that
// says what to do, never a silent absence.
func TestTarConfigLimits(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Write("/etc/nginx/nginx.conf", 0o644, "http { include /opt/site/hub.conf; server { listen 443 ssl; ssl_dhparam /opt/dh/notpem; } }\n")
	tr.Write("/opt/site/hub.conf", 0o644, "server { listen 8443 ssl; }\n")
	tr.Write("/opt/dh/notpem", 0o644, "garbage")
	doc := collectTar(t, tarOf(t, tr.Root), Options{})
	joined := strings.Join(doc.Errors, "\n")
	for _, want := range []string{"/opt/site/hub.conf: /opt: not collected from the archive", "extract the archive and use --root", "/opt/dh/notpem: /opt: not collected"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors %q lack %q", doc.Errors, want)
		}
	}
	dir := collectDir(t, tr.Root, Options{})
	if len(dir.Errors) != 0 || len(dir.Nginx.Servers) != 2 {
		t.Errorf("the directory source follows both: errors %v servers %+v", dir.Errors, dir.Nginx.Servers)
	}
}

// lineDiff shows the lines where got and want differ (by position), a few
// at most: enough to see what a source got wrong.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 8; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got  %s\n  want %s\n", i+1, gl, wl)
			shown++
		}
	}
	return b.String()
}

// TestTarHostileConfigs: symlink loops, names with '..' aimed at nginx's
// files and links climbing out of the root neither escape, hang nor pass
// for files they are not.
func TestTarHostileConfigs(t *testing.T) {
	data := buildTar(t, tar.FormatPAX,
		tm{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		tm{name: "etc/passwd", mode: 0o644, body: "root:x:0:0::/:/bin/sh\n"},
		tm{name: "etc/nginx/", typ: tar.TypeDir, mode: 0o755},
		tm{name: "etc/nginx/nginx.conf", mode: 0o644, body: "http { include loop/*.conf; include sites/x; include evil.conf; include up; include " + strings.Repeat("a/", 1000) + "b; }\n"},
		tm{name: "etc/nginx/loop", typ: tar.TypeSymlink, link: "loop"},
		tm{name: "etc/nginx/sites/", typ: tar.TypeDir, mode: 0o755},
		tm{name: "etc/nginx/sites/x", typ: tar.TypeSymlink, link: "/etc/nginx/sites/y"},
		tm{name: "etc/nginx/sites/y", typ: tar.TypeSymlink, link: "x"},
		tm{name: "etc/nginx/x/../evil.conf", mode: 0o644, body: "server { listen 443 ssl; }\n"},
		tm{name: "etc/nginx/up", typ: tar.TypeSymlink, link: "../../../../../../../etc/passwd"},
		tm{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755},
	)
	for how, r := range map[string]io.Reader{"file": bytes.NewReader(data), "stream": streamOnly{bytes.NewReader(data)}} {
		fsys, err := OpenTar(r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Collect(context.Background(), fsys, facts.Source{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := doc.Nginx
		if n == nil {
			t.Fatalf("%s: no nginx facts", how)
		}
		var msgs []string
		for _, e := range n.Errors {
			msgs = append(msgs, fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg))
		}
		joined := strings.Join(msgs, "\n")
		for _, want := range []string{"/etc/nginx/sites/x", "too many levels of symbolic links", "/etc/nginx/up:1: premature end of file"} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: nginx errors lack %q:\n%s", how, want, joined)
			}
		}
		if !strings.Contains(strings.Join(doc.Errors, "\n"), "'..' component") {
			t.Errorf("%s: the member aimed at evil.conf is not an error: %q", how, doc.Errors)
		}
		if slices.Contains(n.Files, "/etc/nginx/evil.conf") || len(n.Servers) != 0 {
			t.Errorf("%s: read %v, servers %+v: a '..' member must never be read", how, n.Files, n.Servers)
		}
	}
}

func TestFnmatchToGo(t *testing.T) {
	for pattern, cases := range map[string]map[string]bool{
		"*.conf":   {"a.conf": true, "a.confx": false},
		"[!a]*":    {"b": true, "a": false},
		"0[":       {"0[": true, "0": false},
		"[]x]":     {"]": true, "x": true, "y": false},
		"a\\*":     {"a*": true, "ab": false},
		"[a-c][!]": {"a]": false, "b!": false, "c[!]": true},
		"[!]x]":    {"]": false, "y": true},
	} {
		for name, want := range cases {
			got, err := path.Match(fnmatchToGo(pattern), name)
			if err != nil || got != want {
				t.Errorf("%q on %q: %v %v, want %v", pattern, name, got, err, want)
			}
		}
	}
}
