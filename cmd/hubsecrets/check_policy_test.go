package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// siteRule is a site rule written as policy/README.md documents them.
const siteRule = `package site.hub

# METADATA
# title: DH parameters of 3072 bits
# description: This site wants 3072-bit DH parameters.
# custom:
#   id: SITE001
#   severity: deny
deny contains {"id": rego.metadata.rule().custom.id, "path": f.path, "msg": msg, "fix": "hubsecrets dhparam --group ffdhe3072"} if {
	f := input.files.dhparam
	f.dh.prime_bits < 3072
	msg := sprintf("%s has %d bits, this site wants 3072", [f.path, f.dh.prime_bits])
}
`

// writeBundle writes a gzipped OPA bundle as opa build does, with the
// site rule (and its test, which must not be loaded), data and roots.
func writeBundle(t *testing.T, path string, roots []string, data map[string]any, files map[string]string) {
	t.Helper()
	if data == nil {
		data = map[string]any{}
	}
	b := bundle.Bundle{Data: data}
	b.Manifest.Revision = "site-2026.12.01"
	b.Manifest.Roots = &roots
	for name, src := range files {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/" + name, Path: "/" + name, Raw: []byte(src), Parsed: m})
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPolicyBundle(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Chmod("/srv/jupyterhub/jupyterhub_cookie_secret", 0o640)
	dir := t.TempDir()
	site := filepath.Join(dir, "site-bundle.tar.gz")
	// The bundle's data allows 0640: the bundle's data must apply too.
	writeBundle(t, site, []string{"site", "hubsecrets/params"},
		map[string]any{"hubsecrets": map[string]any{"params": map[string]any{"allow_group_read": true}}},
		map[string]string{
			"site/hub.rego":      siteRule,
			"site/hub_test.rego": "package site.hub_test\n\ntest_x if data.nothing.here\n",
		})

	r := runCLI(t, "check", "--root", tr.Root, "--policy", site)
	if r.code != exitDenied || !strings.Contains(r.stdout, "SITE001") || !strings.Contains(r.stdout, "this site wants 3072") {
		t.Fatalf("check --policy %s: exit %d, want 1 and SITE001\nstdout:\n%s\nstderr:\n%s", site, r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "HUB013") {
		t.Errorf("the bundle's data (allow_group_read) was not applied:\n%s", r.stdout)
	}

	// The same bundle as a directory with a .manifest.
	bdir := filepath.Join(dir, "bundle-dir")
	for name, content := range map[string]string{
		".manifest":     `{"revision": "r1", "roots": ["site"]}`,
		"site/hub.rego": siteRule,
		"README.txt":    "not a policy",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(bdir, name)), 0o755)
		os.WriteFile(filepath.Join(bdir, name), []byte(content), 0o644)
	}
	r = runCLI(t, "check", "--root", tr.Root, "--policy", bdir)
	if r.code != exitDenied || !strings.Contains(r.stdout, "SITE001") {
		t.Fatalf("check --policy %s (bundle directory): exit %d\nstdout:\n%s\nstderr:\n%s", bdir, r.code, r.stdout, r.stderr)
	}
}

// TestCheckPolicyRefusesWhatItWouldNotLoad: a named path that holds no
// policy is an error (exit 2) naming it, never a silently smaller policy.
func TestCheckPolicyRefusesWhatItWouldNotLoad(t *testing.T) {
	tr := testtree.Correct(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	os.WriteFile(filepath.Join(empty, "data.json"), []byte(`{}`), 0o644)
	broken := filepath.Join(dir, "broken.tar.gz")
	os.WriteFile(broken, []byte{0x1f, 0x8b, 0x08, 0, 'x'}, 0o644)
	mine := filepath.Join(dir, "mine.tar.gz")
	writeBundle(t, mine, []string{""}, nil, map[string]string{"hub.rego": siteRule})
	ours := filepath.Join(dir, "ours.tar.gz")
	writeBundle(t, ours, []string{"hubsecrets"}, nil, map[string]string{"x.rego": "package hubsecrets\n\nsite_x := 1\n"})
	a := filepath.Join(dir, "a.tar.gz")
	writeBundle(t, a, []string{"site"}, nil, map[string]string{"hub.rego": siteRule})
	b := filepath.Join(dir, "b.tar.gz")
	writeBundle(t, b, []string{"site/hub"}, nil, map[string]string{"hub.rego": siteRule})
	test := filepath.Join(dir, "hub_test.rego")
	os.WriteFile(test, []byte("package site_test\n"), 0o644)

	for _, tc := range []struct {
		name   string
		policy []string
		want   []string
	}{
		{"not a policy", []string{"/etc/passwd"}, []string{"/etc/passwd", "neither a Rego policy", "OPA bundle"}},
		{"missing", []string{filepath.Join(dir, "nope")}, []string{filepath.Join(dir, "nope"), "want a .rego file"}},
		{"dir without policy", []string{empty}, []string{empty, "holds no Rego policy"}},
		{"broken bundle", []string{broken}, []string{broken}},
		{"default root clashes", []string{mine}, []string{mine, `root ""`, "data.hubsecrets"}},
		{"hubsecrets root clashes", []string{ours}, []string{ours, `root "hubsecrets"`}},
		{"bundles overlap", []string{a, b}, []string{b, a, "overlaps"}},
		{"a test module", []string{test}, []string{test, "test module"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"check", "--root", tr.Root}
			for _, p := range tc.policy {
				args = append(args, "--policy", p)
			}
			r := runCLI(t, args...)
			if r.code != exitFailure || r.stdout != "" {
				t.Fatalf("exit %d, want 2 and no report\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}
