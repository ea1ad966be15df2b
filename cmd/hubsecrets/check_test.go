package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// assertNoSecret fails if any secret written to the tree appears in out.
func assertNoSecret(t *testing.T, tr *testtree.Tree, out string) {
	t.Helper()
	for _, s := range tr.Secrets {
		if strings.Contains(out, s) || strings.Contains(out, s[:16]) {
			t.Fatal("a secret value (or a part of one) appears in the output")
		}
	}
}

func TestCheckTutorialTree(t *testing.T) {
	tr := testtree.Tutorial(t)
	r := runCLI(t, "check", "--root", tr.Root)
	if r.code != exitDenied {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"DENY  HUB016  /srv/jupyterhub/jupyterhub_cookie_secret",
		"WARN  HUB040  /srv/jupyterhub/jupyterhub_cookie_secretl",
		"looks like a misspelling of jupyterhub_cookie_secret",
		"fix: ",
		"1 denied",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	assertNoSecret(t, tr, r.stdout+r.stderr)
}

func TestCheckCorrectTreePasses(t *testing.T) {
	tr := testtree.Correct(t)
	r := runCLI(t, "check", "--root", tr.Root)
	if r.code != exitOK || !strings.Contains(r.stdout, "no findings") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "check", "--root", tr.Root, "--strict"); r.code != exitOK {
		t.Errorf("--strict on a clean tree: exit %d", r.code)
	}
}

func TestCheckEveryFormatNeverLeaksASecret(t *testing.T) {
	tr := testtree.Tutorial(t)
	// Make it worse so more findings talk about the secrets' files.
	tr.Write("/srv/jupyterhub/proxy_auth_token", 0o644, tr.Secrets[0]+"\n")
	for _, format := range []string{"text", "json", "sarif", "junit"} {
		t.Run(format, func(t *testing.T) {
			r := runCLI(t, "check", "--root", tr.Root, "--format", format)
			if r.code != exitDenied {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			assertNoSecret(t, tr, r.stdout+r.stderr)
			if !strings.Contains(r.stdout, "HUB016") {
				t.Errorf("the %s report lacks the empty cookie secret finding", format)
			}
			switch format {
			case "json", "sarif":
				var v map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
					t.Errorf("not JSON: %v", err)
				}
			case "junit":
				var v struct{ XMLName xml.Name }
				if err := xml.Unmarshal([]byte(r.stdout), &v); err != nil || v.XMLName.Local != "testsuites" {
					t.Errorf("not JUnit XML: %v %v", err, v.XMLName)
				}
			}
		})
	}
	r := runCLI(t, "facts", "--root", tr.Root)
	if r.code != exitOK || !strings.Contains(r.stdout, `"schema": "hubsecrets/facts/v1"`) {
		t.Fatalf("facts: exit %d %s", r.code, r.stderr)
	}
	validFactsOutput(t, r.stdout)
	assertNoSecret(t, tr, r.stdout)
}

func TestCheckJSONShape(t *testing.T) {
	tr := testtree.Tutorial(t)
	r := runCLI(t, "check", "--root", tr.Root, "--format", "json")
	var rep struct {
		Profile, Root string
		Findings      []struct{ ID, Severity, Path, Title, Msg, Fix string }
		Summary       struct{ Deny, Warn int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Profile != "instance" || rep.Root != tr.Root || rep.Summary.Deny < 1 || rep.Summary.Warn < 1 {
		t.Errorf("report = %+v", rep)
	}
	for _, f := range rep.Findings {
		if f.ID == "" || f.Title == "" || f.Msg == "" || f.Fix == "" || !strings.HasPrefix(f.Path, "/srv/jupyterhub") {
			t.Errorf("incomplete finding %+v", f)
		}
	}
}

func TestCheckOutputFileAndStrict(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Write("/srv/jupyterhub/notes.txt", 0o644, "hello\n") // a warning only
	out := filepath.Join(t.TempDir(), "report.sarif")
	r := runCLI(t, "check", "--root", tr.Root, "--format", "sarif", "--output", out)
	if r.code != exitOK || r.stdout != "" {
		t.Fatalf("exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), `"version": "2.1.0"`) {
		t.Fatalf("report file: %v %.200s", err, b)
	}
	if r := runCLI(t, "check", "--root", tr.Root, "--strict"); r.code != exitDenied {
		t.Errorf("--strict with a warning: exit %d, want 1", r.code)
	}
}

func TestCheckSitePolicyAndData(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Chmod("/srv/jupyterhub/jupyterhub_cookie_secret", 0o640)
	if r := runCLI(t, "check", "--root", tr.Root); r.code != exitDenied || !strings.Contains(r.stdout, "0640") {
		t.Fatalf("0640 under the default policy: exit %d\n%s", r.code, r.stdout)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "site.json")
	os.WriteFile(data, []byte(`{"hubsecrets": {"params": {"allow_group_read": true}}}`), 0o644)
	if r := runCLI(t, "check", "--root", tr.Root, "--data", data); r.code != exitOK {
		t.Errorf("0640 with allow_group_read: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	pol := filepath.Join(dir, "policy")
	os.Mkdir(pol, 0o755)
	os.WriteFile(filepath.Join(pol, "site.rego"), []byte(`package site

# METADATA
# title: DH parameters must be 3072 bits here
# custom:
#   id: SITE001
deny contains {"id": "SITE001", "path": f.path, "msg": "site rule: need 3072 bits", "fix": "hubsecrets dhparam --group ffdhe3072"} if {
	f := input.files.dhparam
	f.dh.prime_bits < 3072
}
`), 0o644)
	r := runCLI(t, "check", "--root", tr.Root, "--data", data, "--policy", pol)
	if r.code != exitDenied || !strings.Contains(r.stdout, "SITE001") {
		t.Errorf("site policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestCheckCannotCheck(t *testing.T) {
	tr := testtree.Correct(t)
	bad := filepath.Join(t.TempDir(), "bad.rego")
	os.WriteFile(bad, []byte("package site\ndeny contains x if {"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing root", []string{"--root", "/nonexistent/root"}, "--root"},
		{"bad dir", []string{"--root", tr.Root, "--dir", "srv/jupyterhub"}, "--dir"},
		{"bad profile", []string{"--root", tr.Root, "--profile", "laptop"}, "laptop"},
		{"bad format", []string{"--root", tr.Root, "--format", "yaml"}, "--format"},
		{"bad policy", []string{"--root", tr.Root, "--policy", filepath.Dir(bad)}, "bad.rego"},
		{"missing data", []string{"--root", tr.Root, "--data", "/nonexistent.json"}, "nonexistent.json"},
		{"stray argument", []string{"--root", tr.Root, "extra"}, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"check"}, tt.args...)...)
			if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want 2 and a message naming %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

func TestCheckUnreadableFileExits2(t *testing.T) {
	testenv.NeedNonRoot(t, "root reads every file; the permission error cannot be made here")
	tr := testtree.Correct(t)
	tr.Chmod("/srv/jupyterhub/proxy_auth_token", 0o000)
	r := runCLI(t, "check", "--root", tr.Root)
	if r.code != exitFailure || !strings.Contains(r.stderr, "proxy_auth_token") {
		t.Errorf("exit %d stderr %q", r.code, r.stderr)
	}
}

// TestCheckSymlinkedParents: /srv a symlink to a data volume resolves as
// on the scanned system, inside the root, through --root and --tar (a
// file, read twice; standard input cannot be, and says so); where it
// leads to nothing, that is a deny, not an error.
func TestCheckSymlinkedParents(t *testing.T) {
	tr := testtree.Correct(t)
	if err := os.Mkdir(tr.Path("/data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tr.Path("/srv"), tr.Path("/data/srv")); err != nil {
		t.Fatal(err)
	}
	tr.Symlink("/data/srv", "/srv") // absolute: taken inside the root
	if r := runCLI(t, "check", "--root", tr.Root); r.code != exitOK {
		t.Errorf("--root: exit %d stdout %q stderr %q: want a pass", r.code, r.stdout, r.stderr)
	}
	if tar, ok := testenv.HaveTool(t, "tar", "--tar through a symlinked /srv"); ok {
		archive := filepath.Join(t.TempDir(), "root.tar.gz")
		if b, err := exec.Command(tar, "-czf", archive, "-C", tr.Root, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, b)
		}
		if r := runCLI(t, "check", "--tar", archive); r.code != exitOK {
			t.Errorf("--tar FILE: exit %d stdout %q stderr %q: want a pass", r.code, r.stdout, r.stderr)
		}
		data, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		e := &env{
			stdin:      struct{ io.Reader }{bytes.NewReader(data)}, // a pipe: no Seek
			stdout:     &stdout,
			stderr:     &stderr,
			getenv:     func(string) string { return "" },
			isTerminal: func(io.Writer) bool { return false },
			geteuid:    os.Geteuid,
		}
		if code := run(e, []string{"check", "--tar", "-"}); code != exitFailure || !strings.Contains(stderr.String(), "pass the archive as a file (--tar FILE)") {
			t.Errorf("--tar -: exit %d stderr %q: want 2 and a message saying to pass a file", code, stderr.String())
		}
	}
	os.RemoveAll(tr.Path("/data"))
	r := runCLI(t, "check", "--root", tr.Root)
	if r.code != exitDenied || !strings.Contains(r.stdout, "HUB001") || strings.Contains(r.stdout, "HUB041") {
		t.Errorf("dangling /srv: exit %d stdout %q stderr %q: want a deny (HUB001)", r.code, r.stdout, r.stderr)
	}
}

// --output is written as dhparam --out is: atomically, parents made,
// never through a symbolic link, the previous report kept on failure.
func TestCheckOutputAtomic(t *testing.T) {
	tr := testtree.Tutorial(t)
	dir := t.TempDir()

	t.Run("parents made", func(t *testing.T) {
		out := filepath.Join(dir, "reports", "ci", "hub.json")
		r := runCLI(t, "check", "--root", tr.Root, "--format", "json", "--output", out)
		if r.code != exitDenied || r.stdout != "" {
			t.Fatalf("exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(b), `"HUB016"`) {
			t.Fatalf("report file: %v %.200s", err, b)
		}
		if fi, err := os.Stat(out); err != nil || fi.Mode() != 0o644 {
			t.Errorf("report mode %v (%v), want 0644", fi.Mode(), err)
		}
		assertNoSecret(t, tr, string(b))
	})

	t.Run("symbolic link refused", func(t *testing.T) {
		target := filepath.Join(dir, "shadow")
		os.WriteFile(target, []byte("root:*:19000:0:99999:7:::\n"), 0o640)
		link := filepath.Join(dir, "hub.sarif")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, "check", "--root", tr.Root, "--format", "sarif", "--output", link)
		want := "hubsecrets check: --output: write " + link + ": is a symbolic link"
		if r.code != exitFailure || !strings.Contains(r.stderr, want) || r.stdout != "" {
			t.Errorf("exit %d stdout %q stderr %q: want 2 and %q", r.code, r.stdout, r.stderr, want)
		}
		if b, _ := os.ReadFile(target); string(b) != "root:*:19000:0:99999:7:::\n" {
			t.Errorf("the link's target became %q", b)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
		}
	})

	t.Run("failed write keeps the previous report", func(t *testing.T) {
		// A format that stops halfway, as a full disk would stop a write:
		// writing into FILE directly would leave half a report.
		report.Formats["halfway"] = func(w io.Writer, _ []report.Report, _ report.Options) error {
			io.WriteString(w, `{"version": "2.1.0", "runs": [`)
			return syscall.ENOSPC
		}
		defer delete(report.Formats, "halfway")
		out := filepath.Join(dir, "previous.sarif")
		os.WriteFile(out, []byte("the previous report\n"), 0o644)
		r := runCLI(t, "check", "--root", tr.Root, "--format", "halfway", "--output", out)
		if r.code != exitFailure || !strings.Contains(r.stderr, "--output: write halfway report: no space left on device") {
			t.Errorf("exit %d stderr %q: want 2 and the write error", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(out); string(b) != "the previous report\n" {
			t.Errorf("the previous report became %q", b)
		}
	})
}
