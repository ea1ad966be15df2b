package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/runner"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// moveSrv moves the tree's /srv to dst (inside the root) and leaves
// /srv a symlink to target.
func moveSrv(t *testing.T, tr *testtree.Tree, dst, target string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(tr.Path(dst)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tr.Path("/srv"), tr.Path(dst)); err != nil {
		t.Fatal(err)
	}
	tr.Symlink(target, "/srv")
}

// TestPathSourcesAgree: every way the path to the secrets directory can
// go, observed through the directory, a GNU tar archive (a file, read
// again when a symlink leads out of what the first pass kept) and the
// remote command in a busybox-only chroot, gives the same facts and so the
// same verdict, which is the one expected.
func TestPathSourcesAgree(t *testing.T) {
	const dir = "/srv/jupyterhub"
	tests := []struct {
		name     string
		setup    func(t *testing.T, tr *testtree.Tree)
		denies   []string // ids among the denies
		notDeny  []string // ids that must not be there
		exit     int
		resolved string   // Dir.ResolvedPath
		parents  []string // Dir.Parents' paths
		errors   string   // a substring of the only kind of error, when exit is 2
	}{
		{name: "plain", setup: func(*testing.T, *testtree.Tree) {},
			notDeny: []string{"HUB007"}, exit: runner.ExitOK, parents: []string{"/", "/srv"}},
		{name: "/srv -> /data/srv", setup: func(t *testing.T, tr *testtree.Tree) {
			moveSrv(t, tr, "/data/srv", "/data/srv")
		}, exit: runner.ExitOK, resolved: "/data/srv/jupyterhub", parents: []string{"/", "/srv", "/data", "/data/srv"}},
		{name: "/srv -> data/srv", setup: func(t *testing.T, tr *testtree.Tree) {
			moveSrv(t, tr, "/data/srv", "data/srv")
		}, exit: runner.ExitOK, resolved: "/data/srv/jupyterhub", parents: []string{"/", "/srv", "/data", "/data/srv"}},
		{name: "/srv -> ../data/srv", setup: func(t *testing.T, tr *testtree.Tree) {
			moveSrv(t, tr, "/data/srv", "../data/srv")
		}, exit: runner.ExitOK, resolved: "/data/srv/jupyterhub", parents: []string{"/", "/srv", "/data", "/data/srv"}},
		{name: "two links", setup: func(t *testing.T, tr *testtree.Tree) {
			moveSrv(t, tr, "/data/srv", "/a")
			tr.Symlink("data/srv", "/a")
		}, exit: runner.ExitOK, resolved: "/data/srv/jupyterhub", parents: []string{"/", "/srv", "/a", "/data", "/data/srv"}},
		{name: "loop", setup: func(t *testing.T, tr *testtree.Tree) {
			if err := os.RemoveAll(tr.Path("/srv")); err != nil {
				t.Fatal(err)
			}
			tr.Symlink("/srv2", "/srv")
			tr.Symlink("srv", "/srv2")
		}, exit: runner.ExitFailure, errors: "/srv/jupyterhub: /srv: too many levels of symbolic links"},
		{name: "/srv -> ../../../x leaves the root", setup: func(t *testing.T, tr *testtree.Tree) {
			moveSrv(t, tr, "/x", "../../../x")
		}, exit: runner.ExitOK, resolved: "/x/jupyterhub", parents: []string{"/", "/srv", "/x"}},
		{name: "secrets directory a symlink", setup: func(t *testing.T, tr *testtree.Tree) {
			if err := os.Rename(tr.Path(dir), tr.Path("/srv/real")); err != nil {
				t.Fatal(err)
			}
			tr.Symlink("real", dir)
		}, denies: []string{"HUB002", "HUB010", "HUB021"}, exit: runner.ExitDenied, parents: []string{"/", "/srv"}},
		{name: "secrets directory a regular file", setup: func(t *testing.T, tr *testtree.Tree) {
			if err := os.RemoveAll(tr.Path(dir)); err != nil {
				t.Fatal(err)
			}
			tr.Write(dir, 0o644, "x")
		}, denies: []string{"HUB003"}, notDeny: []string{"HUB041"}, exit: runner.ExitDenied, parents: []string{"/", "/srv"}},
		{name: "a parent a regular file", setup: func(t *testing.T, tr *testtree.Tree) {
			if err := os.RemoveAll(tr.Path("/srv")); err != nil {
				t.Fatal(err)
			}
			tr.Write("/srv", 0o644, "x")
		}, denies: []string{"HUB001"}, notDeny: []string{"HUB041"}, exit: runner.ExitDenied},
		{name: "/srv 0777", setup: func(t *testing.T, tr *testtree.Tree) {
			tr.Chmod("/srv", 0o777)
		}, denies: []string{"HUB007"}, exit: runner.ExitDenied, parents: []string{"/", "/srv"}},
		{name: "/srv 1777", setup: func(t *testing.T, tr *testtree.Tree) {
			tr.Chmod("/srv", 0o777|os.ModeSticky)
		}, exit: runner.ExitOK, parents: []string{"/", "/srv"}},
		{name: "/srv owned by uid 1000", setup: func(t *testing.T, tr *testtree.Tree) {
			if err := os.Lchown(tr.Path("/srv"), 1000, 1000); err != nil {
				testenv.Missing(t, fmt.Sprintf("root (chown to uid 1000: %v)", err), "a parent owned by another user must be HUB007")
			}
		}, denies: []string{"HUB007"}, exit: runner.ExitDenied, parents: []string{"/", "/srv"}},
		{name: "/data/srv 0777 behind the link", setup: func(t *testing.T, tr *testtree.Tree) {
			moveSrv(t, tr, "/data/srv", "/data/srv")
			tr.Chmod("/data/srv", 0o777)
		}, denies: []string{"HUB007"}, exit: runner.ExitDenied, resolved: "/data/srv/jupyterhub", parents: []string{"/", "/srv", "/data", "/data/srv"}},
	}
	engine, err := checker.NewEngine(context.Background(), checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(t *testing.T, doc *facts.Document) (denies []string, code int) {
		t.Helper()
		rep, err := engine.Evaluate(context.Background(), doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Findings {
			if f.Severity == "deny" {
				denies = append(denies, f.ID)
			}
		}
		return denies, runner.Result{Doc: doc, Report: rep}.Code(false)
	}
	normalise := func(t *testing.T, doc *facts.Document) string {
		t.Helper()
		doc.Source = facts.Source{Kind: "dir", Root: "x"}
		if doc.Dir.Type == facts.TypeDir {
			doc.Dir.Size = 0
		}
		for k, f := range doc.FirstBoot {
			if f.Type == facts.TypeDir {
				f.Size = 0
				doc.FirstBoot[k] = f
			}
		}
		for i, e := range doc.Unexpected {
			if e.Type == facts.TypeDir {
				doc.Unexpected[i].Size = 0
			}
		}
		return toJSON(t, doc)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := testtree.Correct(t)
			tc.setup(t, tr)
			want := collectDir(t, tr.Root, Options{})
			denies, code := verdict(t, want)
			for _, id := range tc.denies {
				if !slices.Contains(denies, id) {
					t.Errorf("denies %v lack %s", denies, id)
				}
			}
			for _, id := range tc.notDeny {
				if slices.Contains(denies, id) {
					t.Errorf("denies %v hold %s", denies, id)
				}
			}
			if tc.denies == nil && tc.exit == runner.ExitOK && len(denies) != 0 {
				t.Errorf("denies %v, want none", denies)
			}
			if code != tc.exit {
				t.Errorf("exit code %d, want %d (errors %q)", code, tc.exit, want.Errors)
			}
			for _, e := range want.Errors {
				if tc.errors == "" || !strings.Contains(e, tc.errors) {
					t.Errorf("error %q, want only ones saying %q", e, tc.errors)
				}
			}
			if want.Dir.Path != dir || want.Dir.ResolvedPath != tc.resolved {
				t.Errorf("dir path %q resolved %q, want %q and %q", want.Dir.Path, want.Dir.ResolvedPath, dir, tc.resolved)
			}
			var parents []string
			for _, p := range want.Dir.Parents {
				parents = append(parents, p.Path)
			}
			if tc.parents != nil && !slices.Equal(parents, tc.parents) {
				t.Errorf("parents %v, want %v", parents, tc.parents)
			}
			wantJSON := normalise(t, want)

			t.Run("tar file", func(t *testing.T) {
				f := filepath.Join(t.TempDir(), "root.tar")
				if err := os.WriteFile(f, tarOf(t, tr.Root), 0o600); err != nil {
					t.Fatal(err)
				}
				r, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				fsys, err := OpenTar(r, Options{})
				if err != nil {
					t.Fatal(err)
				}
				got, err := Collect(context.Background(), fsys, facts.Source{}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if d, c := verdict(t, got); c != code || !slices.Equal(d, denies) {
					t.Errorf("verdict %v exit %d, want %v exit %d", d, c, denies, code)
				}
				if a := normalise(t, got); a != wantJSON {
					t.Errorf("tar facts differ from the directory's:\n%s", lineDiff(a, wantJSON))
					t.Logf("tar errors: %q", got.Errors)
				}
			})
			t.Run("remote in a busybox chroot", func(t *testing.T) {
				root := chrootWithBusybox(t, tr.Root, "busybox")
				cmd := exec.Command("chroot", root, "/bin/sh", "-c", RemoteScript(Options{}))
				cmd.Env = []string{"PATH=/bin"}
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("remote command: %v\n%s", err, stderrOf(err))
				}
				fsys, err := ParseRemote(out)
				if err != nil {
					t.Fatal(err)
				}
				got, err := Collect(context.Background(), fsys, facts.Source{}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if d, c := verdict(t, got); c != code || !slices.Equal(d, denies) {
					t.Errorf("verdict %v exit %d, want %v exit %d", d, c, denies, code)
				}
				if a := normalise(t, got); a != wantJSON {
					t.Errorf("remote facts differ from the directory's:\n%s", lineDiff(a, wantJSON))
				}
			})
		})
	}
}
