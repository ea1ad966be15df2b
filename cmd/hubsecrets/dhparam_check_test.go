package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
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

	if openssl, ok := testenv.HaveTool(t, "openssl", "openssl's X9.42 (-dsaparam) output is judged"); ok {
		// openssl's -dsaparam output: X9.42, not a safe prime; and 0644.
		x942 := filepath.Join(dir, "x942.pem")
		if out, err := exec.Command(openssl, "dhparam", "-dsaparam", "-out", x942, "1024").CombinedOutput(); err != nil {
			t.Fatalf("openssl: %v %s", err, out)
		}
		os.Chmod(x942, 0o644)
		r := runCLI(t, "dhparam", "--check", x942)
		// The parameters are judged; the mode of a file that is not the
		// configured dhparam.pem is information only.
		if r.code != exitDenied || !strings.Contains(r.stdout, "X9.42") || strings.Contains(r.stdout, "HUB023") || !strings.Contains(r.stdout, "not judged") {
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

// TestDHParamCheckJudgesParametersNotFiles: good public parameters at 0644
// pass; a device, a certificate, a file named like a secret or a link get
// no fix that removes or overwrites them.
func TestDHParamCheckJudgesParametersNotFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	if r := runCLI(t, "dhparam", "--quiet", "-o", good); r.code != exitOK {
		t.Fatalf("write: %+v", r)
	}
	os.Chmod(good, 0o644)
	if r := runCLI(t, "dhparam", "--check", good); r.code != exitOK || !strings.Contains(r.stdout, "mode 0644") || !strings.Contains(r.stdout, "passes") {
		t.Errorf("good parameters at 0644: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Standard input.
	pem, _ := os.ReadFile(good)
	if r := runCLIStdin(t, string(pem), "dhparam", "--check", "-"); r.code != exitOK || !strings.Contains(r.stdout, "(standard input): the RFC 7919 ffdhe2048 group: passes") {
		t.Errorf("--check -: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLIStdin(t, "garbage", "dhparam", "--check", "-"); r.code != exitDenied || !strings.Contains(r.stdout, "HUB025") {
		t.Errorf("--check - of garbage: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A device: nothing to check, nothing to remove.
	if r := runCLI(t, "dhparam", "--check", "/dev/zero"); r.code != exitFailure || strings.Contains(r.stdout+r.stderr, "rm ") {
		t.Errorf("/dev/zero: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A certificate, and a file named like the proxy token: kept.
	cert := filepath.Join(dir, "cert.pem")
	os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644)
	tokenDir := filepath.Join(dir, "srv")
	os.Mkdir(tokenDir, 0o755)
	token := filepath.Join(tokenDir, "proxy_auth_token")
	os.WriteFile(token, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	for _, f := range []string{cert, token} {
		r := runCLI(t, "dhparam", "--check", f)
		if r.code != exitDenied || !strings.Contains(r.stdout, "HUB025") || strings.Contains(r.stdout, "HUB010") ||
			strings.Contains(r.stdout, "-o "+f) || strings.Contains(r.stdout, "rm ") || !strings.Contains(r.stdout, "keep it") {
			t.Errorf("%s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
		}
	}
	// Weak parameters through a link: the fix replaces the link, never its target.
	weak := filepath.Join(dir, "weak.pem")
	os.WriteFile(weak, []byte(oakley2PEM), 0o644)
	link := filepath.Join(dir, "link.pem")
	os.Symlink(weak, link)
	r := runCLI(t, "dhparam", "--check", link)
	if r.code != exitDenied || strings.Contains(r.stdout, "-o "+link) || strings.Contains(r.stdout, "-o "+weak) || !strings.Contains(r.stdout, "ln -sfn") {
		t.Errorf("weak parameters through a link: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The same file itself is DH parameters: replacing it is the fix.
	if r := runCLI(t, "dhparam", "--check", weak); r.code != exitDenied || !strings.Contains(r.stdout, "-o "+weak+" --force") {
		t.Errorf("weak parameters: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// oakley2PEM is RFC 2409's 1024-bit Oakley group 2: weak and widely shared.
const oakley2PEM = `-----BEGIN DH PARAMETERS-----
MIGHAoGBAP//////////yQ/aoiFowjTExmKLgNwc0SkCTgiKZ8x0Agu+pjsTmyJR
Sgh5jjQE3e+VGbPNOkMbMCsKbfJfFDdP4TVtbVHCReSFtXZiXn7G9ExC6aY37WsL
/1y29Aa37e44a/taiZ+lrp8kEXxLH+ZJKGZR7OZTgf//////////AgEC
-----END DH PARAMETERS-----
`

func runCLIStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCLIWith(t, strings.NewReader(stdin), nil, args...)
}
