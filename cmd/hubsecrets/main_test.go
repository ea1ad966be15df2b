package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// result is what one run of the CLI printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI in-process with buffers for its streams.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLIAs(t, os.Geteuid(), args...)
}

// runCLIAs runs the CLI as if the effective user id were euid.
func runCLIAs(t *testing.T, euid int, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin:      strings.NewReader(""),
		stdout:     &stdout,
		stderr:     &stderr,
		getenv:     func(string) string { return "" },
		isTerminal: func(io.Writer) bool { return false },
		geteuid:    func() int { return euid },
	}
	code := run(e, args)
	return result{code, stdout.String(), stderr.String()}
}

func TestUsage(t *testing.T) {
	if r := runCLI(t); r.code != exitFailure || !strings.Contains(r.stderr, "Usage: hubsecrets COMMAND") {
		t.Errorf("no args: %+v", r)
	}
	if r := runCLI(t, "--help"); r.code != exitOK || !strings.Contains(r.stdout, "check") {
		t.Errorf("--help: %+v", r)
	}
	if r := runCLI(t, "bogus"); r.code != exitFailure || !strings.Contains(r.stderr, `unknown command "bogus"`) {
		t.Errorf("bogus: %+v", r)
	}
	if r := runCLI(t, "version"); r.code != exitOK || !strings.HasPrefix(r.stdout, "hubsecrets ") {
		t.Errorf("version: %+v", r)
	}
}
