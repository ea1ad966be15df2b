package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
)

// dhResult is what one run of `hubsecrets dhparam` printed and returned.
type dhResult struct {
	code           int
	stdout, stderr string
}

// dhRun runs `hubsecrets dhparam args...` in-process; terminal says whether
// stderr looks like a terminal, ci is the CI variable.
func dhRun(t *testing.T, ctx context.Context, terminal bool, ci string, args ...string) dhResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin:      strings.NewReader(""),
		stdout:     &stdout,
		stderr:     &stderr,
		getenv:     func(k string) string { return map[string]string{"CI": ci}[k] },
		isTerminal: func(io.Writer) bool { return terminal },
	}
	code := dhparamCmd(ctx, e, args)
	return dhResult{code, stdout.String(), stderr.String()}
}

func groupPEM(t *testing.T, name string) string {
	t.Helper()
	g, err := dhparam.Group(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(g.MarshalPEM())
}

func TestDHParamGroupToStdout(t *testing.T) {
	tests := []struct {
		args  []string
		group string
		quiet bool
	}{
		{nil, "ffdhe2048", false},
		{[]string{"--group", "ffdhe2048"}, "ffdhe2048", false},
		{[]string{"--group=ffdhe3072"}, "ffdhe3072", false},
		{[]string{"-group", "ffdhe4096", "--quiet"}, "ffdhe4096", true},
	}
	for _, tt := range tests {
		r := dhRun(t, context.Background(), true, "", tt.args...)
		if r.code != exitOK || r.stdout != groupPEM(t, tt.group) {
			t.Errorf("%v: exit %d, stdout\n%s\nwant the RFC 7919 %s PEM; stderr %q", tt.args, r.code, r.stdout, tt.group, r.stderr)
		}
		wantErr := "hubsecrets dhparam: wrote RFC 7919 group " + tt.group + " to standard output\n"
		if tt.quiet {
			wantErr = ""
		}
		if r.stderr != wantErr {
			t.Errorf("%v: stderr %q, want %q", tt.args, r.stderr, wantErr)
		}
	}
}

func TestDHParamOutFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dhparam.pem")
	for _, flag := range []string{"-o", "--out", "-out"} {
		os.Remove(path)
		r := dhRun(t, context.Background(), false, "", flag, path)
		if r.code != exitOK || r.stdout != "" || !strings.Contains(r.stderr, "to "+path+" (mode 0600)") {
			t.Fatalf("%s: %+v", flag, r)
		}
		checkDHFile(t, path, groupPEM(t, "ffdhe2048"))
	}

	// An existing file is kept without --force, whatever the flags.
	for _, args := range [][]string{{"-o", path}, {"--group", "ffdhe3072", "-o", path}, {"--bits", "2048", "-o", path}} {
		r := dhRun(t, context.Background(), false, "", args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, path+" exists; use --force to replace it") {
			t.Errorf("%v over an existing file: %+v", args, r)
		}
		checkDHFile(t, path, groupPEM(t, "ffdhe2048"))
	}

	// --force replaces it, with mode 0600 whatever it had.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r := dhRun(t, context.Background(), false, "", "--group", "ffdhe3072", "-o", path, "--force", "--quiet")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("--force: %+v", r)
	}
	checkDHFile(t, path, groupPEM(t, "ffdhe3072"))
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 1 {
		t.Errorf("directory holds %v", names)
	}
}

func checkDHFile(t *testing.T, path, want string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("%s: mode %v, want -rw-------", path, fi.Mode())
	}
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("%s holds\n%s\nwant\n%s", path, b, want)
	}
}

func TestDHParamRefusesOut(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-o", link, "--force"}, "--out " + link + " is a symbolic link; refusing to write through it"},
		{[]string{"-o", dir, "--force"}, "--out " + dir + " exists and is not a regular file"},
		{[]string{"-o", filepath.Join(dir, "missing", "dh.pem")}, "no such file or directory"},
		{[]string{"-o", filepath.Join(target, "dh.pem")}, filepath.Join(target, "dh.pem") + ": not a directory"},
	}
	for _, tt := range tests {
		r := dhRun(t, context.Background(), false, "", tt.args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: %+v, want exit 2 and %q", tt.args, r, tt.want)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Errorf("the link's target changed: %q", b)
	}
}

func TestDHParamUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bits", "1024"}, "--bits 1024: want 2048, 3072 or 4096"},
		{[]string{"--bits", "2047"}, "--bits 2047: want 2048, 3072 or 4096"},
		{[]string{"--bits", "0"}, "--bits 0: want 2048, 3072 or 4096"},
		{[]string{"--bits", "8192"}, "--bits 8192: want 2048, 3072 or 4096"},
		{[]string{"--bits", "many"}, `invalid value "many" for flag -bits`},
		{[]string{"--bits", "2048", "--group", "ffdhe2048"}, "--bits and --group exclude each other"},
		{[]string{"--group", "ffdhe1024"}, `--group "ffdhe1024": want one of ffdhe2048, ffdhe3072, ffdhe4096`},
		{[]string{"--group", ""}, `--group "": want one of`},
		{[]string{"-o", "a", "--out", "b"}, "give the output file once"},
		{[]string{"dhparam.pem"}, `unexpected argument "dhparam.pem"`},
		{[]string{"--check"}, "flag needs an argument: -check"},
	}
	for _, tt := range tests {
		r := dhRun(t, context.Background(), false, "", tt.args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) || !strings.HasPrefix(r.stderr, "hubsecrets dhparam: ") || r.stdout != "" {
			t.Errorf("%v: %+v, want exit 2 and %q", tt.args, r, tt.want)
		}
	}
}

func TestDHParamHelp(t *testing.T) {
	r := dhRun(t, context.Background(), false, "", "--help")
	for _, want := range []string{"Usage: hubsecrets dhparam", "ffdhe2048", "Mozilla", "--bits N", "--group NAME", "--out FILE", "--force", "--quiet", "130 interrupted"} {
		if r.code != exitOK || !strings.Contains(r.stdout, want) {
			t.Errorf("--help: exit %d, no %q in\n%s", r.code, want, r.stdout)
		}
	}
}

// TestDHParamInterrupted: a cancelled generation writes nothing.
func TestDHParamInterrupted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dhparam.pem")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := dhRun(t, ctx, false, "", "--bits", "4096", "-o", path)
	if r.code != exitInterrupted || r.stderr != "hubsecrets dhparam: interrupted; no file written\n" {
		t.Errorf("%+v", r)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 0 {
		t.Errorf("directory holds %v", names)
	}
}

func TestDHParamGenerate(t *testing.T) {
	if testing.Short() { // time, not the machine
		t.Skip("a 2048-bit search takes seconds")
	}
	path := filepath.Join(t.TempDir(), "dhparam.pem")
	r := dhRun(t, context.Background(), true, "", "--bits", "2048", "-o", path)
	if r.code != exitOK {
		t.Fatalf("%+v", r)
	}
	// On a terminal: an updating progress line, cleared, then the summary.
	if !strings.Contains(r.stderr, "\r\x1b[Kgenerating a 2048-bit safe prime on ") || !strings.Contains(r.stderr, "candidates tried\r\x1b[Khubsecrets dhparam: wrote a new 2048-bit safe prime (") {
		t.Errorf("stderr %q", r.stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dhparam.ParsePEM(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := dhparam.Inspect(p); c.Bits != 2048 || !c.SafePrime || c.Generator != 2 || c.Group != "" {
		t.Errorf("Inspect = %+v", c)
	}
	checkDHFile(t, path, string(b))

}

// TestDHParamProgress: the progress line shows only on a terminal, without
// CI and --quiet. Each run is cut short: exit 130, or 0 if it was quick.
func TestDHParamProgress(t *testing.T) {
	if testing.Short() { // time, not the machine
		t.Skip("runs 2048-bit searches for seconds")
	}
	tests := []struct {
		terminal bool
		ci       string
		quiet    bool
		want     bool
	}{
		{true, "", false, true},
		{false, "", false, false},
		{true, "true", false, false},
		{true, "", true, false},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		args := []string{"--bits", "2048"}
		if tt.quiet {
			args = append(args, "--quiet")
		}
		r := dhRun(t, ctx, tt.terminal, tt.ci, args...)
		cancel()
		summary := "hubsecrets dhparam: interrupted; no file written\n"
		if r.code == exitOK {
			summary = "hubsecrets dhparam: wrote a new 2048-bit safe prime ("
			if tt.quiet {
				summary = ""
			}
		} else if r.code != exitInterrupted {
			t.Fatalf("%+v: %+v", tt, r)
		}
		if got := strings.Contains(r.stderr, "\r\x1b[Kgenerating a 2048-bit safe prime on "); got != tt.want || got != strings.Contains(r.stderr, "\r") {
			t.Errorf("%+v: progress shown %v, stderr %q", tt, got, r.stderr)
		}
		if lines := strings.SplitAfter(r.stderr, "\r\x1b[K"); !strings.HasPrefix(lines[len(lines)-1], summary) {
			t.Errorf("%+v: stderr %q, want it to end with %q", tt, r.stderr, summary)
		}
	}
}

// TestDHParamSIGINT sends a real SIGINT to a generating hubsecrets (this
// test binary, re-run as the CLI) and expects exit 130 and no file.
func TestDHParamSIGINT(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dhparam.pem")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDHParamSIGINTHelper$")
	cmd.Env = append(os.Environ(), "HUBSECRETS_DHPARAM_HELPER="+path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first progress line shows the signal handler is in place.
	br := bufio.NewReader(stderr)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "candidates tried") {
		b, err := br.ReadByte()
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("no progress line before %v: %q", err, seen.String())
		}
		seen.WriteByte(b)
	}
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Skip("cannot send SIGINT:", err) // the search ended first: a race, not the machine
	}
	rest, _ := io.ReadAll(br)
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(string(rest), "hubsecrets dhparam: interrupted; no file written") {
		t.Errorf("exit %d (%v), stderr %q", code, err, rest)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to stop", d)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 0 {
		t.Errorf("directory holds %v", names)
	}
}

// TestDHParamSIGINTHelper is the CLI side of TestDHParamSIGINT.
func TestDHParamSIGINTHelper(t *testing.T) {
	path := os.Getenv("HUBSECRETS_DHPARAM_HELPER")
	if path == "" {
		t.Skip("helper process for TestDHParamSIGINT") // runs only as that test's child
	}
	e := &env{
		stdin:      strings.NewReader(""),
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		getenv:     func(string) string { return "" },
		isTerminal: func(io.Writer) bool { return true }, // show progress
	}
	os.Exit(run(e, []string{"dhparam", "--bits", "4096", "-o", path}))
}
