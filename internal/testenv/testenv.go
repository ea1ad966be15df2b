// Package testenv is how a test says it needs something of the machine (a
// tool, root, a mount): without it the test skips with the reason, except
// under HUBSECRETS_REQUIRE_TOOLS=1 (.ci/run sets it), where it fails, so
// nothing passes in CI by not running. Every skip is also appended to the
// file named by HUBSECRETS_SKIP_LOG, which `make test` prints at the end.
//
// HUBSECRETS_TEST_HIDE_TOOLS (comma-separated names) makes LookPath treat
// those tools as missing, to see on a full machine what a bare one does.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The environment variables this package reads.
const (
	RequireEnv = "HUBSECRETS_REQUIRE_TOOLS"
	SkipLogEnv = "HUBSECRETS_SKIP_LOG"
	HideEnv    = "HUBSECRETS_TEST_HIDE_TOOLS"
)

// Required reports whether a missing tool or privilege fails the test.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing ends t because what (a tool, "root", a mount) is not available;
// why says what the test would have checked with it. It skips, or fails
// under HUBSECRETS_REQUIRE_TOOLS=1.
func Missing(t testing.TB, what, why string) {
	t.Helper()
	msg := fmt.Sprintf("needs %s: %s", what, why)
	if Required() {
		t.Fatalf("%s (%s=1: a missing tool or privilege fails)", msg, RequireEnv)
	}
	record(t, msg)
	t.Skip(msg + " (skipped; " + RequireEnv + "=1 makes this a failure)")
}

// NeedTool returns the path of the named tool, or ends t as Missing does.
func NeedTool(t testing.TB, name, why string) string {
	t.Helper()
	p, err := LookPath(name)
	if err != nil {
		Missing(t, name+" (not installed)", why)
	}
	return p
}

// NeedRoot ends t as Missing does unless the test runs as root.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root", why)
	}
}

// HaveTool is for a test that checks more when a tool is there: it returns
// the tool's path and true, or calls Lacking and returns false; the test
// goes on.
func HaveTool(t testing.TB, name, why string) (string, bool) {
	t.Helper()
	p, err := LookPath(name)
	if err != nil {
		Lacking(t, name+" (not installed)", why)
		return "", false
	}
	return p, true
}

// Lacking records that part of a test is left out because what is missing
// (a failure under HUBSECRETS_REQUIRE_TOOLS=1); the test goes on.
func Lacking(t testing.TB, what, why string) {
	t.Helper()
	msg := fmt.Sprintf("needs %s: %s", what, why)
	if Required() {
		t.Errorf("%s (%s=1: a missing tool or privilege fails)", msg, RequireEnv)
		return
	}
	record(t, msg)
	t.Logf("part skipped: %s", msg)
}

// NeedNonRoot skips t when it runs as root, for a test of what an
// unprivileged user meets (root reads and writes past every mode). It never
// fails: CI runs as root. The skip is recorded like the others.
func NeedNonRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		msg := "needs a non-root user: " + why
		record(t, msg)
		t.Skip(msg)
	}
}

// LookPath is exec.LookPath, except that the tools HUBSECRETS_TEST_HIDE_TOOLS
// names are not found.
func LookPath(name string) (string, error) {
	if slices.Contains(strings.Split(os.Getenv(HideEnv), ","), name) {
		return "", fmt.Errorf("%s: hidden by %s", name, HideEnv)
	}
	return exec.LookPath(name)
}

// record appends "TestName: msg" to the skip log, if one is set. One write
// per line with O_APPEND, so test binaries running in parallel do not
// interleave lines.
func record(t testing.TB, msg string) {
	path := os.Getenv(SkipLogEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Logf("testenv: cannot record the skip in %s: %v", path, err)
		return
	}
	defer f.Close()
	line := strings.ReplaceAll(pkgDir()+" "+t.Name()+": "+msg, "\n", " ") + "\n"
	if _, err := f.WriteString(line); err != nil {
		t.Logf("testenv: cannot record the skip in %s: %v", path, err)
	}
}

// pkgDir names the test's package by its directory below the module root
// (go test runs a test binary in its package's directory).
func pkgDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil {
				return "./" + filepath.ToSlash(rel)
			}
			return wd
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
