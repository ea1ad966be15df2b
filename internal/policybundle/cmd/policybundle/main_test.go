package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/policybundle"
)

func TestRunWritesBundle(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hubsecrets-policy.tar.gz")
	if err := run([]string{"-version", "v0.3.0", "-output", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := policybundle.Read(f)
	if err != nil {
		t.Fatalf("read %s: %v", out, err)
	}
	if b.Manifest.Revision != "v0.3.0" {
		t.Errorf("revision = %q", b.Manifest.Revision)
	}
	fi, _ := os.Stat(out)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-output", filepath.Join(dir, "b.tar.gz")}, "-version is required"},
		{[]string{"-version", "v1"}, "-output is required"},
		{[]string{"-version", "v1", "-output", filepath.Join(dir, "b.tar.gz"), "extra"}, `unexpected argument "extra"`},
		{[]string{"-version", "v1", "-output", filepath.Join(dir, "missing", "b.tar.gz")}, filepath.Join(dir, "missing")},
	} {
		err := run(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q): err = %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed run left %d files", len(entries))
	}
}
