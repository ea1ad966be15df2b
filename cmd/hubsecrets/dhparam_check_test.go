package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDHParamCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	if r := runCLI(t, "dhparam", "--quiet", "-o", good); r.code != exitOK {
		t.Fatalf("write: %+v", r)
	}
	if r := runCLI(t, "dhparam", "--check", good); r.code != exitOK || !strings.Contains(r.stdout, "ffdhe2048 group: passes") {
		t.Errorf("good file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not DH parameters\n"), 0o600)
	if r := runCLI(t, "dhparam", "--check", garbage); r.code != exitDenied || !strings.Contains(r.stdout, "HUB025") {
		t.Errorf("garbage: exit %d\n%s", r.code, r.stdout)
	}

	if _, err := exec.LookPath("openssl"); err == nil {
		// openssl's -dsaparam output: X9.42, not a safe prime; and 0644.
		x942 := filepath.Join(dir, "x942.pem")
		if out, err := exec.Command("openssl", "dhparam", "-dsaparam", "-out", x942, "1024").CombinedOutput(); err != nil {
			t.Fatalf("openssl: %v %s", err, out)
		}
		os.Chmod(x942, 0o644)
		r := runCLI(t, "dhparam", "--check", x942)
		if r.code != exitDenied || !strings.Contains(r.stdout, "X9.42") || !strings.Contains(r.stdout, "HUB023") {
			t.Errorf("x9.42: exit %d\n%s", r.code, r.stdout)
		}
	}

	for _, args := range [][]string{
		{"--check", filepath.Join(dir, "missing.pem")},
		{"--check", good, "--bits", "2048"},
		{"--check", good, "-o", good},
	} {
		if r := runCLI(t, append([]string{"dhparam"}, args...)...); r.code != exitFailure {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}
