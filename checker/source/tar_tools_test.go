package source

// Tests of the tar source against archives real tar programs made (GNU tar
// in its formats, busybox, gzip, zstd): the archive of a tree yields the
// tree's facts, one collector, two transports.

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// varietyTree has what a real image's secrets directory and first-boot
// payload may hold: a symlink, a subdirectory, hidden and odd names, a name
// too long for a plain ustar header.
func varietyTree(t testing.TB) *testtree.Tree {
	tr := testtree.Correct(t)
	d := "/srv/jupyterhub/"
	tr.Write(d+".hidden", 0o644, "x")
	tr.Write(d+"name with spaces\nand a newline", 0o640, "x")
	tr.Write(d+strings.Repeat("long-name-", 15), 0o600, hexSecret)
	tr.Mkdir(d+"backup", 0o700)
	tr.Write(d+"backup/jupyterhub_cookie_secret", 0o600, hexSecret)
	tr.Symlink("/etc/shadow", d+"link")
	tr.Write(d+".hubsecrets-instance", 0o600, "stamp\n")
	tr.Write("/usr/local/libexec/hubsecrets/jupyterhub-secrets", 0o755, "#!/bin/sh\n")
	tr.Write("/etc/systemd/system/jupyterhub-secrets.service", 0o644, "[Unit]\n")
	tr.Mkdir("/etc/systemd/system/multi-user.target.wants", 0o755)
	tr.Symlink("../jupyterhub-secrets.service", "/etc/systemd/system/multi-user.target.wants/jupyterhub-secrets.service")
	tr.Write("/etc/systemd/system/jupyterhub.service.d/jupyterhub-secrets.conf", 0o644, "[Unit]\n")
	tr.Write("/etc/machine-id", 0o444, "uninitialized\n")
	tr.Write("/var/lib/big", 0o644, strings.Repeat("y", 100000))
	// What clones would share, and a hook directory others can write to.
	tr.Write("/var/lib/dbus/machine-id", 0o644, "0123456789abcdef0123456789abcdef\n")
	tr.Write("/var/lib/cloud/data/instance-id", 0o644, "i-0123\n")
	tr.Symlink("instances/i-0123", "/var/lib/cloud/instance")
	tr.Chmod("/usr/local/libexec", 0o777)
	return tr
}

// crowdedTree has more unexpected entries than Collect lists.
func crowdedTree(t testing.TB) *testtree.Tree {
	tr := testtree.Correct(t)
	for i := range maxUnexpected + 50 {
		tr.Write(fmt.Sprintf("/srv/jupyterhub/extra-%03d", (i*37)%(maxUnexpected+50)), 0o644, "")
	}
	return tr
}

// TestTarMatchesDir archives real trees with real tar programs and checks
// that the archive yields the same facts as the tree: one collector, two
// transports.
func TestTarMatchesDir(t *testing.T) {
	trees := map[string]func(testing.TB) *testtree.Tree{
		"tutorial": testtree.Tutorial,
		"correct":  testtree.Correct,
		"variety":  varietyTree,
		"crowded":  crowdedTree,
		"copies":   copiesTree,
	}
	topLevel := func(t *testing.T, root string) []string {
		ents, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	archivers := map[string]func(t *testing.T, root, out string){
		"gnu": func(t *testing.T, root, out string) { runTool(t, "tar", "-C", root, "-cf", out, ".") },
		"gnu no ./": func(t *testing.T, root, out string) {
			runTool(t, append([]string{"tar", "-C", root, "-cf", out}, topLevel(t, root)...)...)
		},
		"gnu gzip": func(t *testing.T, root, out string) { runTool(t, "tar", "-C", root, "-czf", out, ".") },
		"gnu zstd": func(t *testing.T, root, out string) {
			needZstd(t)
			runTool(t, "tar", "-C", root, "--zstd", "-cf", out, ".")
		},
		"gnu numeric": func(t *testing.T, root, out string) {
			runTool(t, "tar", "-C", root, "--numeric-owner", "-cf", out, ".")
		},
		"gnu pax": func(t *testing.T, root, out string) { runTool(t, "tar", "-C", root, "--format=pax", "-cf", out, ".") },
		"gnu oldgnu": func(t *testing.T, root, out string) {
			runTool(t, "tar", "-C", root, "--format=oldgnu", "-cf", out, ".")
		},
		"busybox":      func(t *testing.T, root, out string) { runTool(t, "busybox", "tar", "-C", root, "-cf", out, ".") },
		"busybox gzip": func(t *testing.T, root, out string) { runTool(t, "busybox", "tar", "-C", root, "-czf", out, ".") },
	}
	for treeName, mk := range trees {
		t.Run(treeName, func(t *testing.T) {
			tr := mk(t)
			want := dirFactsJSON(t, tr.Root, Options{})
			// Without a "./" member, the root's owner and mode are unknown.
			var noRoot facts.Document
			if err := json.Unmarshal([]byte(want), &noRoot); err != nil {
				t.Fatal(err)
			}
			noRoot.Dir.Parents[0] = facts.Parent{Path: "/", Type: facts.TypeDir,
				Error: "/: the archive has no member for its root directory (./): owner and mode of the root directory unknown"}
			for arName, archive := range archivers {
				t.Run(arName, func(t *testing.T) {
					out := filepath.Join(t.TempDir(), "root.tar")
					archive(t, tr.Root, out)
					want := want
					if arName == "gnu no ./" {
						want = toJSON(t, &noRoot)
					}
					for how, open := range tarOpeners {
						got := factsJSON(t, openTarFile(t, open(t, out), Options{}), Options{})
						if got != want {
							t.Errorf("%s: archive facts differ from the tree's\narchive: %s\ntree:    %s", how, got, want)
						}
					}
				})
			}
		})
	}
}

// TestTarHardLinkTakesTargetContent archives a secret that is a hard link
// to another file: tar stores the first name as the file and the second as
// a link with no data.
func TestTarHardLinkTakesTargetContent(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Mkdir("/root", 0o700)
	tr.Secret("/root/cookie", 0o600)
	cs := tr.Path("/srv/jupyterhub/jupyterhub_cookie_secret")
	if err := os.Remove(cs); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(tr.Path("/root/cookie"), cs); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "root.tar")
	runTool(t, "tar", "-C", tr.Root, "--sort=name", "-cf", out, ".")
	if typ := memberType(t, out, "./srv/jupyterhub/jupyterhub_cookie_secret"); typ != tar.TypeLink {
		t.Fatalf("tar stored the secret as type %q, want a hard link", typ)
	}

	want := dirFactsJSON(t, tr.Root, Options{})
	for how, open := range tarOpeners {
		fsys := openTarFile(t, open(t, out), Options{})
		if got := factsJSON(t, fsys, Options{}); got != want {
			t.Errorf("%s: archive facts differ from the tree's\narchive: %s\ntree:    %s", how, got, want)
		}
		doc, _ := Collect(context.Background(), fsys, facts.Source{}, Options{})
		if s := doc.Files[facts.CookieSecret].Secret; s == nil || s.Encoding != facts.EncodingHex || s.DecodedBytes != 32 {
			t.Errorf("%s: cookie secret summary = %+v, want the target's (32 hex bytes)", how, s)
		}
	}
}

func memberType(t *testing.T, file, name string) byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s: %v", name, file, err)
		}
		if hdr.Name == name {
			return hdr.Typeflag
		}
	}
}

func TestTarNumericOwnerOverride(t *testing.T) {
	tr := testtree.Correct(t)
	out := filepath.Join(t.TempDir(), "root.tar")
	runTool(t, "tar", "-C", tr.Root, "--owner=0", "--group=0", "--numeric-owner", "-cf", out, ".")
	doc, err := Collect(context.Background(), openTarFile(t, tarOpeners["file"](t, out), Options{}), facts.Source{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := []facts.File{doc.Dir}
	for _, f := range doc.Files {
		files = append(files, f)
	}
	for _, f := range files {
		if !f.Exists || f.UID != 0 || f.GID != 0 {
			t.Errorf("%s: uid %d gid %d, want the archive's 0 and 0", f.Path, f.UID, f.GID)
		}
	}
}

// TestTarSparseLastMember checks GNU tar's sparse formats, whose data size
// archive/tar does not tell, as the last member: whole, and cut after it.
func TestTarSparseLastMember(t *testing.T) {
	for _, format := range []string{"gnu", "pax"} {
		t.Run(format, func(t *testing.T) {
			tr := testtree.Correct(t)
			f, err := os.Create(tr.Path("/zz-sparse"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte("data"), 8<<20); err != nil {
				t.Fatal(err)
			}
			f.Close()
			out := filepath.Join(t.TempDir(), "root.tar")
			runTool(t, "tar", "-C", tr.Root, "--sort=name", "--sparse", "--format="+format, "-b1", "-cf", out, ".")
			want := dirFactsJSON(t, tr.Root, Options{})
			if got := factsJSON(t, openTarFile(t, tarOpeners["stream"](t, out), Options{}), Options{}); got != want {
				t.Errorf("archive facts differ from the tree's\narchive: %s\ntree:    %s", got, want)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := OpenTar(bytes.NewReader(b[:len(b)-1024]), Options{}); err == nil {
				t.Error("archive cut before its end marker, after a sparse member: OpenTar accepted it")
			}
		})
	}
}

// TestTarOtherSecretsDir: the plan follows Options.
func TestTarOtherSecretsDir(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Secret("/etc/jupyterhub/jupyterhub_cookie_secret", 0o600)
	out := filepath.Join(t.TempDir(), "root.tar")
	runTool(t, "tar", "-C", tr.Root, "-cf", out, ".")
	opt := Options{Dir: "/etc/jupyterhub", HubUnit: "hub.service"}
	if got, want := factsJSON(t, openTarFile(t, tarOpeners["file"](t, out), opt), opt), dirFactsJSON(t, tr.Root, opt); got != want {
		t.Errorf("archive facts differ from the tree's\narchive: %s\ntree:    %s", got, want)
	}
	if _, err := OpenTar(bytes.NewReader(nil), Options{Dir: "srv/jupyterhub"}); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative Dir: %v", err)
	}
}
