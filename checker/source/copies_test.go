package source

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// copiesTree is a correct instance after a hand repair: a readable copy of
// the cookie secret (the tutorial's cp jupyterhub_cookie_secretl ...), an
// uppercase copy of the proxy token, a proxy token of 64 zeros, the hub's
// database beside the secrets, and files that are not copies.
func copiesTree(t testing.TB) *testtree.Tree {
	tr := testtree.Correct(t)
	cookie := tr.Secrets[0]
	tr.Write("/srv/jupyterhub/jupyterhub_cookie_secretl", 0o644, cookie+"\n")
	tr.Write("/srv/jupyterhub/token.BAK", 0o600, "  "+strings.ToUpper(tr.Secrets[1]))
	tr.Write("/srv/jupyterhub/jupyterhub.sqlite", 0o644, "SQLite format 3\x00")
	tr.Write("/srv/jupyterhub/notes", 0o644, cookie[:32]+"\n")
	tr.Write("/srv/jupyterhub/big", 0o644, strings.Repeat(cookie+"\n", 100))
	tr.Write("/srv/jupyterhub/empty", 0o644, "")
	tr.Mkdir("/srv/jupyterhub/old", 0o700)
	// Beside the secrets directory: a backup of the token, a file that is
	// not a copy, a directory holding a copy (not searched: not recursive).
	tr.Write("/srv/proxy_auth_token.bak", 0o644, tr.Secrets[1]+"\n")
	tr.Write("/srv/README", 0o644, "hub\n")
	tr.Write("/srv/other/jupyterhub_cookie_secret", 0o600, cookie+"\n")
	return tr
}

// crowdedParentTree has more entries beside the secrets directory than the
// search looks at, one of them a copy.
func crowdedParentTree(t testing.TB) *testtree.Tree {
	tr := testtree.Correct(t)
	for i := range maxParentEntries {
		tr.Write(fmt.Sprintf("/srv/f%03d", i), 0o644, "x")
	}
	tr.Write("/srv/copy", 0o644, tr.Secrets[0])
	return tr
}

func TestCollectFindsCopies(t *testing.T) {
	tr := copiesTree(t)
	doc := collectDir(t, tr.Root, Options{})
	want := map[string]string{"jupyterhub_cookie_secretl": facts.CookieSecret, "token.BAK": facts.ProxyToken}
	for _, e := range doc.Unexpected {
		if e.CopyOf != want[e.Name] {
			t.Errorf("%s: copy_of %q, want %q", e.Name, e.CopyOf, want[e.Name])
		}
		if e.Name == "jupyterhub_cookie_secretl" && (e.Mode != 0o644 || e.Owner != "root") {
			t.Errorf("%s: mode %o owner %q", e.Name, e.Mode, e.Owner)
		}
	}
	if len(doc.Errors) != 0 {
		t.Errorf("errors: %v", doc.Errors)
	}
	if p := doc.Parent; p == nil || p.Path != "/srv" || !p.Searched || len(p.Copies) != 1 ||
		p.Copies[0].Name != "proxy_auth_token.bak" || p.Copies[0].CopyOf != facts.ProxyToken || p.Copies[0].Mode != 0o644 {
		t.Errorf("parent: %+v", doc.Parent)
	}
	crowded := collectDir(t, crowdedParentTree(t).Root, Options{})
	if p := crowded.Parent; p == nil || p.Searched || len(p.Copies) != 0 {
		t.Errorf("crowded parent: %+v", p)
	}
	// A live secret of zeros: quality reported, and a file of zeros is
	// its copy.
	tr.Write("/srv/jupyterhub/proxy_auth_token", 0o600, fmt.Sprintf("%064d\n", 0))
	tr.Write("/srv/jupyterhub/zeros", 0o644, fmt.Sprintf("%064d", 0))
	doc = collectDir(t, tr.Root, Options{})
	q := doc.Files[facts.ProxyToken].Secret.Quality
	if q == nil || q.Period != 1 || !q.KnownExample {
		t.Errorf("quality of zeros: %+v", q)
	}
	for _, e := range doc.Unexpected {
		if e.Name == "zeros" && e.CopyOf != facts.ProxyToken {
			t.Errorf("zeros: copy_of %q", e.CopyOf)
		}
	}
	// No live secret to compare with: nothing is a copy.
	tr.Write("/srv/jupyterhub/jupyterhub_cookie_secret", 0o600, "")
	tr.Write("/srv/jupyterhub/proxy_auth_token", 0o600, "")
	for _, e := range collectDir(t, tr.Root, Options{}).Unexpected {
		if e.CopyOf != "" {
			t.Errorf("%s: copy_of %q with empty secrets", e.Name, e.CopyOf)
		}
	}
}

// TestCopiesSourcesAgree: the copies, the secrets' quality and the hub's
// files come out the same from a directory, a tar archive and the remote
// command (busybox and dash, in a chroot of the tree).
func TestCopiesSourcesAgree(t *testing.T) {
	t.Run("copies", func(t *testing.T) { copiesSourcesAgree(t, copiesTree(t), "busybox", "dash") })
	// A crowded parent costs the remote command a few processes an
	// entry: one shell is enough.
	t.Run("crowded parent", func(t *testing.T) { copiesSourcesAgree(t, crowdedParentTree(t), "busybox") })
	t.Run("parent of 100", func(t *testing.T) {
		tr := crowdedParentTree(t)
		if err := os.Remove(tr.Path("/srv/f000")); err != nil {
			t.Fatal(err)
		}
		copiesSourcesAgree(t, tr)
	})
}

func copiesSourcesAgree(t *testing.T, tr *testtree.Tree, shells ...string) {
	tr.Write("/srv/jupyterhub/proxy_auth_token", 0o600, "deadbeef"+strings.Repeat("DEADBEEF", 7)+"\n")
	want := collectDir(t, tr.Root, Options{})
	want.Source = facts.Source{Kind: "dir", Root: "x"}
	if want.Files[facts.ProxyToken].Secret.Quality.Period != 8 || want.Parent == nil {
		t.Fatalf("token quality %+v, parent %+v", want.Files[facts.ProxyToken].Secret.Quality, want.Parent)
	}
	wantTar := *want
	wantTar.Dir.Size = 0
	wantTar.Unexpected = slices.Clone(want.Unexpected)
	for i, e := range wantTar.Unexpected {
		if e.Type == facts.TypeDir {
			wantTar.Unexpected[i].Size = 0 // an archive says nothing about a directory's size
		}
	}
	wantTarJSON := toJSON(t, &wantTar)
	for name, args := range map[string][]string{"tar": nil, "tar gzip": {"-z"}} {
		t.Run(name, func(t *testing.T) {
			if a := toJSON(t, collectTar(t, tarOf(t, tr.Root, args...), Options{})); a != wantTarJSON {
				t.Errorf("tar facts differ from the directory's:\n%s", lineDiff(a, wantTarJSON))
			}
		})
	}
	wantJSON := toJSON(t, want)
	for _, shell := range shells {
		t.Run("remote in a chroot, "+shell, func(t *testing.T) {
			root := chrootWithBusybox(t, tr.Root, shell)
			cmd := exec.Command("chroot", root, "/bin/sh", "-c", RemoteScript(Options{}))
			cmd.Env = []string{"PATH=/bin"}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("remote command: %v\n%s", err, stderrOf(err))
			}
			if bytes.Contains(out, []byte(tr.Secrets[0])) {
				t.Fatal("the remote output carries a secret in the clear")
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
