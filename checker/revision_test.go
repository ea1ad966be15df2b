package checker

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestPolicyRevision(t *testing.T) {
	embedded := newEngine(t, Options{}).PolicyRevision()
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+\S*\+sha256:[0-9a-f]{12}$`).MatchString(embedded) {
		t.Fatalf("embedded policy revision %q: want vVERSION+sha256:DIGEST", embedded)
	}
	if again := newEngine(t, Options{Profile: ProfileImage}).PolicyRevision(); again != embedded {
		t.Errorf("revision depends on the profile: %q vs %q", again, embedded)
	}

	dir := t.TempDir()
	rego := filepath.Join(dir, "site.rego")
	write := func(body string) {
		if err := os.WriteFile(rego, []byte("package site\n\n"+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`deny contains "a" if false`)
	r1 := newEngine(t, Options{PolicyDirs: []string{dir}}).PolicyRevision()
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(embedded) + ` \+ sha256:[0-9a-f]{12}$`).MatchString(r1) {
		t.Fatalf("revision with a site policy %q: want %q + sha256:DIGEST", r1, embedded)
	}
	// The same content, named as a file rather than its directory.
	if r := newEngine(t, Options{PolicyDirs: []string{rego}}).PolicyRevision(); r != r1 {
		t.Errorf("the file and its directory give %q and %q", r, r1)
	}
	write(`deny contains "b" if false`)
	if r2 := newEngine(t, Options{PolicyDirs: []string{dir}}).PolicyRevision(); r2 == r1 {
		t.Errorf("revision %q did not change with the site policy's content", r2)
	}

	bdir := filepath.Join(t.TempDir(), "bundle")
	os.MkdirAll(filepath.Join(bdir, "site"), 0o755)
	os.WriteFile(filepath.Join(bdir, ".manifest"), []byte(`{"revision": "site-42", "roots": ["site"]}`), 0o644)
	os.WriteFile(filepath.Join(bdir, "site", "x.rego"), []byte("package site\n\ndeny contains \"x\" if false\n"), 0o644)
	if r := newEngine(t, Options{PolicyDirs: []string{bdir}}).PolicyRevision(); r != embedded+" + site-42" {
		t.Errorf("revision with a bundle: %q, want %q", r, embedded+" + site-42")
	}
}
