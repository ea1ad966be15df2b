package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitInstallTimer installs the timer under a root: refused while the
// binary the service runs is missing (nothing changed), then installed,
// enabled and the metrics directory made; a second run changes nothing.
// Then the check the service runs, on that root: success 1 and no deny
// series, and a secret chmod-ed 0644 appears as a deny series.
func TestInitInstallTimer(t *testing.T) {
	root, dir := initRoot(t)
	args := []string{"init", "--root", root, "--install-timer", "--interval", "*:0/30", "--metrics-dir", "/var/lib/node-exporter/textfile"}
	r := runCLI(t, args...)
	if r.code != exitFailure || !strings.Contains(r.stderr, "--check-binary: "+root+"/usr/local/bin/hubsecrets does not exist") {
		t.Fatalf("without the binary: exit %d, stderr %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(root); len(entries) > 0 {
		t.Fatalf("a refused run wrote under the root: %v", entries)
	}
	bin := filepath.Join(root, "usr/local/bin/hubsecrets")
	mustOK(t, os.MkdirAll(filepath.Dir(bin), 0o755))
	mustOK(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))

	r = runCLI(t, args...)
	if r.code != exitOK || !strings.Contains(r.stdout, "installed and enabled hubsecrets-check.timer (*:0/30; metrics in /var/lib/node-exporter/textfile/hubsecrets.prom)") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	svc, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/hubsecrets-check.service"))
	mustOK(t, err)
	if want := "ExecStart=/usr/local/bin/hubsecrets check --dir /srv/jupyterhub --hub-unit jupyterhub.service --format prometheus --output /var/lib/node-exporter/textfile/hubsecrets.prom\n"; !strings.Contains(string(svc), want) {
		t.Errorf("service lacks %q:\n%s", want, svc)
	}
	if target, err := os.Readlink(filepath.Join(root, "etc/systemd/system/timers.target.wants/hubsecrets-check.timer")); err != nil || target != "/etc/systemd/system/hubsecrets-check.timer" {
		t.Errorf("timer not enabled: %q %v", target, err)
	}
	metrics := filepath.Join(root, "var/lib/node-exporter/textfile")
	if fi, err := os.Stat(metrics); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("metrics directory: %v %v", fi, err)
	}
	r = runCLI(t, args...)
	if r.code != exitOK || strings.Contains(r.stdout, "wrote ") || !strings.Contains(r.stdout, "nothing to change") {
		t.Errorf("second run changed something: exit %d\n%s", r.code, r.stdout)
	}

	// What the service runs (its paths under the root).
	out := filepath.Join(metrics, "hubsecrets.prom")
	check := func() (int, string) {
		r := runCLI(t, "check", "--root", root, "--format", "prometheus", "--output", out)
		b, err := os.ReadFile(out)
		mustOK(t, err)
		return r.code, string(b)
	}
	code, prom := check()
	if code != exitOK || !strings.Contains(prom, "hubsecrets_check_success 1\n") || !strings.Contains(prom, `hubsecrets_findings{severity="deny"} 0`) ||
		strings.Contains(prom, `severity="deny"} 1`) {
		t.Fatalf("clean root: exit %d\n%s", code, prom)
	}
	mustOK(t, os.Chmod(filepath.Join(dir, "jupyterhub_cookie_secret"), 0o644))
	code, prom = check()
	if code != 1 || !strings.Contains(prom, "hubsecrets_check_success 1\n") ||
		!strings.Contains(prom, `hubsecrets_finding{id="HUB012",path="/srv/jupyterhub/jupyterhub_cookie_secret",severity="deny"} 1`) {
		t.Fatalf("cookie secret 0644: exit %d\n%s", code, prom)
	}
}

func TestInitTimerFlagsRefused(t *testing.T) {
	root, _ := initRoot(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "daily"}, "--interval is a setting of the timer: add --install-timer"},
		{[]string{"--install-timer", "--interval", "hourly\nExecStart=/bin/sh"}, "--interval"},
		{[]string{"--install-timer", "--interval", "fortnightly"}, `--interval: "fortnightly" is not a calendar event`},
		{[]string{"--install-timer", "--metrics-dir", "var/lib/x"}, `--metrics-dir "var/lib/x"`},
		{[]string{"--install-timer", "--check-binary", "/usr/bin/hub secrets"}, "--check-binary"},
	} {
		r := runCLI(t, append([]string{"init", "--root", root}, tt.args...)...)
		if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d stderr %q, want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) > 0 {
		t.Errorf("a refused run wrote under the root: %v", entries)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
