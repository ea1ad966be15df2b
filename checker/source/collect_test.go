package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

const hexSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"

// collect observes a test tree through DirFS.
func collect(t *testing.T, tr *testtree.Tree) *facts.Document {
	t.Helper()
	fsys, err := OpenDir(tr.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	doc, err := Collect(context.Background(), fsys, facts.Source{Kind: "dir", Root: tr.Root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	validFacts(t, doc)
	return doc
}

func TestCollectTutorialTree(t *testing.T) {
	doc := collect(t, testtree.Tutorial(t))

	if doc.Schema != facts.Schema || len(doc.Errors) != 0 {
		t.Fatalf("schema %q errors %v", doc.Schema, doc.Errors)
	}
	if d := doc.Dir; !d.Exists || d.Type != facts.TypeDir || d.ModeOctal != "0755" || d.Path != "/srv/jupyterhub" {
		t.Errorf("dir = %+v", d)
	}
	cs := doc.Files[facts.CookieSecret]
	if !cs.Exists || cs.Type != facts.TypeFile || cs.Size != 0 || cs.Secret == nil || cs.Secret.Encoding != facts.EncodingEmpty {
		t.Errorf("cookie secret = %+v secret %+v", cs, cs.Secret)
	}
	if cs.Owner != "root" || cs.Group != "sudo" || cs.Mode != 0o600 {
		t.Errorf("cookie secret owner %q group %q mode %o; want names from the root's own etc files", cs.Owner, cs.Group, cs.Mode)
	}
	pt := doc.Files[facts.ProxyToken]
	if pt.Secret == nil || pt.Secret.Encoding != facts.EncodingHex || pt.Secret.DecodedBytes != 32 || !pt.Secret.TrailingNewline || !pt.Secret.Lowercase {
		t.Errorf("proxy token secret = %+v", pt.Secret)
	}
	dh := doc.Files[facts.DHParam].DH
	if dh == nil || !dh.Parsed || dh.Group != "ffdhe2048" || dh.PrimeBits != 2048 || !dh.SafePrime || dh.Generator != 2 {
		t.Errorf("dhparam = %+v", dh)
	}
	if len(doc.Unexpected) != 1 {
		t.Fatalf("unexpected = %+v, want the misspelled secret", doc.Unexpected)
	}
	u := doc.Unexpected[0]
	if u.Name != "jupyterhub_cookie_secretl" || u.Resembles != "jupyterhub_cookie_secret" || u.ResemblesKey != facts.CookieSecret || u.Type != facts.TypeFile {
		t.Errorf("unexpected entry = %+v", u)
	}
}

func TestCollectNeverFollowsSymlinks(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte(hexSecret), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("secret file", func(t *testing.T) {
		tr := testtree.New(t, "root")
		tr.Symlink(filepath.Join(outside, "secret"), "/srv/jupyterhub/jupyterhub_cookie_secret")
		cs := collect(t, tr).Files[facts.CookieSecret]
		if cs.Type != facts.TypeSymlink || cs.LinkTarget != filepath.Join(outside, "secret") || cs.Secret != nil {
			t.Errorf("cookie secret = %+v, want an unread symlink", cs)
		}
	})
	t.Run("directory", func(t *testing.T) {
		tr := testtree.New(t, "root")
		if err := os.Remove(tr.Path("/srv/jupyterhub")); err != nil {
			t.Fatal(err)
		}
		tr.Symlink(outside, "/srv/jupyterhub")
		doc := collect(t, tr)
		if doc.Dir.Type != facts.TypeSymlink {
			t.Errorf("dir = %+v, want a symlink", doc.Dir)
		}
		if f := doc.Files[facts.CookieSecret]; f.Exists {
			t.Errorf("cookie secret seen through a symlinked directory: %+v", f)
		}
		if len(doc.Unexpected) != 0 {
			t.Errorf("listed a symlinked directory: %+v", doc.Unexpected)
		}
	})
}

func TestCollectOddFiles(t *testing.T) {
	tr := testtree.New(t, "root")
	if err := syscall.Mkfifo(tr.Path("/srv/jupyterhub/jupyterhub_cookie_secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr.Mkdir("/srv/jupyterhub/proxy_auth_token", 0o700)
	// A 1 GiB sparse dhparam.pem: the collector must read a bounded prefix.
	f, err := os.Create(tr.Path("/srv/jupyterhub/dhparam.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	doc := collect(t, tr) // a FIFO must not block
	if f := doc.Files[facts.CookieSecret]; f.Type != facts.TypeOther || f.Secret != nil {
		t.Errorf("fifo = %+v", f)
	}
	if f := doc.Files[facts.ProxyToken]; f.Type != facts.TypeDir || f.Secret != nil {
		t.Errorf("dir as token = %+v", f)
	}
	if dh := doc.Files[facts.DHParam].DH; dh == nil || dh.Parsed || dh.ParseError == "" {
		t.Errorf("huge dhparam = %+v", dh)
	}
}

func TestCollectUnknownIDsAndEqualSecrets(t *testing.T) {
	tr := testtree.New(t, "root")
	tr.Write("/etc/passwd", 0o644, "someone:x:4242:4242::/:/bin/sh\n") // our uid has no name here
	tr.Write("/srv/jupyterhub/jupyterhub_cookie_secret", 0o600, hexSecret)
	tr.Write("/srv/jupyterhub/proxy_auth_token", 0o600, strings.TrimSpace(hexSecret)+"  \n")
	doc := collect(t, tr)
	cs, pt := doc.Files[facts.CookieSecret], doc.Files[facts.ProxyToken]
	if cs.Owner != "" || cs.UID != os.Getuid() {
		t.Errorf("owner %q uid %d: an id without a name in the root's passwd must stay unnamed", cs.Owner, cs.UID)
	}
	if len(cs.Secret.SameAs) != 1 || cs.Secret.SameAs[0] != facts.ProxyToken || len(pt.Secret.SameAs) != 1 {
		t.Errorf("same_as = %v / %v: secrets equal after strip()", cs.Secret.SameAs, pt.Secret.SameAs)
	}
}

func TestCollectFirstBootAndMachineID(t *testing.T) {
	tr := testtree.New(t, "root")
	tr.Write("/usr/local/libexec/hubsecrets/jupyterhub-secrets", 0o755, "#!/bin/sh\n")
	tr.Write("/etc/systemd/system/jupyterhub-secrets.service", 0o644, "[Unit]\n")
	tr.Mkdir("/etc/systemd/system/multi-user.target.wants", 0o755)
	tr.Symlink("/etc/systemd/system/jupyterhub-secrets.service", "/etc/systemd/system/multi-user.target.wants/jupyterhub-secrets.service")
	tr.Write("/etc/machine-id", 0o444, "0123456789abcdef0123456789abcdef\n")
	doc := collect(t, tr)
	for key, want := range map[string]string{
		facts.FirstBootScript:  facts.TypeFile,
		facts.FirstBootUnit:    facts.TypeFile,
		facts.FirstBootEnabled: facts.TypeSymlink,
		facts.FirstBootDropIn:  "",
		facts.FirstBootStamp:   "",
	} {
		if got := doc.FirstBoot[key].Type; got != want {
			t.Errorf("firstboot %s type %q, want %q", key, got, want)
		}
	}
	if doc.MachineID.State != facts.MachineIDInitialized {
		t.Errorf("machine-id = %+v", doc.MachineID)
	}
	if doc.FirstBoot[facts.FirstBootDropIn].Path != "/etc/systemd/system/jupyterhub.service.d/jupyterhub-secrets.conf" {
		t.Errorf("drop-in path %q", doc.FirstBoot[facts.FirstBootDropIn].Path)
	}
	// sha256sum of "#!/bin/sh\n"; no digest for what is not a file.
	if got := doc.FirstBoot[facts.FirstBootScript].SHA256; got != "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf" {
		t.Errorf("script sha256 %q", got)
	}
	if got := doc.FirstBoot[facts.FirstBootEnabled].SHA256 + doc.FirstBoot[facts.FirstBootDropIn].SHA256; got != "" {
		t.Errorf("sha256 of a link or a missing file: %q", got)
	}
}

func TestCollectHookDirsAndImageIdentity(t *testing.T) {
	tr := testtree.New(t, "root")
	tr.Write("/usr/local/libexec/hubsecrets/jupyterhub-secrets", 0o755, "#!/bin/sh\n")
	tr.Chmod("/usr/local/libexec/hubsecrets", 0o777)
	tr.Write("/var/lib/dbus/machine-id", 0o644, "0123456789abcdef0123456789abcdef\n")
	tr.Mkdir("/var/lib/cloud", 0o755)
	tr.Symlink("/var/lib/cloud/instances/i-0123", "/var/lib/cloud/instance")
	doc := collect(t, tr)
	var got []string
	for _, d := range doc.FirstBootDirs {
		got = append(got, fmt.Sprintf("%s %s %s %d", d.Path, d.Type, d.ModeOctal, d.Size))
	}
	want := []string{
		"/usr/local/libexec/hubsecrets dir 0777 0",
		"/usr/local/libexec dir 0755 0",
		"/usr/local dir 0755 0",
		"/usr dir 0755 0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("firstboot_dirs:\n got %q\nwant %q", got, want)
	}
	id := doc.Identity
	if id.DBusMachineID.Type != facts.TypeFile || id.CloudInstanceID.Exists ||
		id.CloudInstanceLink.Type != facts.TypeSymlink || id.CloudInstanceLink.LinkTarget != "/var/lib/cloud/instances/i-0123" {
		t.Errorf("identity = %+v", id)
	}
}

func TestCollectRejectsBadDir(t *testing.T) {
	fsys, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	for _, dir := range []string{"srv/jupyterhub", "/srv/../srv/jupyterhub", "/", "/srv/jupyterhub/"} {
		if _, err := Collect(context.Background(), fsys, facts.Source{}, Options{Dir: dir}); err == nil {
			t.Errorf("Collect(dir %q) succeeded, want an error", dir)
		}
	}
}

func TestSummariseSecret(t *testing.T) {
	tests := []struct {
		name, in string
		want     facts.Secret
	}{
		{"hex newline", hexSecret, facts.Secret{Encoding: "hex", DecodedBytes: 32, Lowercase: true, TrailingNewline: true}},
		{"hex no newline", strings.TrimSpace(hexSecret), facts.Secret{Encoding: "hex", DecodedBytes: 32, Lowercase: true}},
		{"upper hex", strings.ToUpper(hexSecret), facts.Secret{Encoding: "hex", DecodedBytes: 32, TrailingNewline: true}},
		{"short hex", "abcd\n", facts.Secret{Encoding: "hex", DecodedBytes: 2, Lowercase: true, TrailingNewline: true}},
		{"unpadded base64", "abc\n", facts.Secret{Encoding: "other", TrailingNewline: true}},
		{"base64", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=\n", facts.Secret{Encoding: "base64", DecodedBytes: 32, TrailingNewline: true}},
		{"empty", "", facts.Secret{Encoding: "empty"}},
		{"whitespace only", " \n\t\n", facts.Secret{Encoding: "empty", TrailingNewline: true}},
		{"other", "not a secret!\n", facts.Secret{Encoding: "other", TrailingNewline: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SummariseSecret([]byte(tt.in))
			if len(got.SameAs) != 0 {
				t.Errorf("SameAs = %v for one secret alone", got.SameAs)
			}
			got.SameAs, tt.want.SameAs = nil, nil
			if (got.Quality != nil) != (got.Encoding == facts.EncodingHex) {
				t.Errorf("Quality = %+v for encoding %s", got.Quality, got.Encoding)
			}
			got.Quality = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SummariseSecret = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResembles(t *testing.T) {
	tests := map[string]string{
		"jupyterhub_cookie_secretl":    "jupyterhub_cookie_secret",
		"jupyterhub_cookie_secret.bak": "jupyterhub_cookie_secret",
		"cookie_secret":                "jupyterhub_cookie_secret",
		"Proxy-Auth-Token":             "proxy_auth_token",
		"proxy_auth_tokn":              "proxy_auth_token",
		"dhparams.pem":                 "dhparam.pem",
		"jupyterhub.sqlite":            "",
		"notes.txt":                    "",
	}
	for name, want := range tests {
		if _, got := resembles(name); got != want {
			t.Errorf("resembles(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestClassifyMachineID(t *testing.T) {
	tests := map[string]string{
		"":                                   facts.MachineIDEmpty,
		"\n":                                 facts.MachineIDEmpty,
		"uninitialized\n":                    facts.MachineIDUninitialized,
		"0123456789abcdef0123456789abcdef\n": facts.MachineIDInitialized,
		"xyz\n":                              facts.MachineIDInvalid,
	}
	for in, want := range tests {
		if got := classifyMachineID([]byte(in)); got != want {
			t.Errorf("classifyMachineID(%q) = %q, want %q", in, got, want)
		}
	}
}
