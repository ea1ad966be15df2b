// Package ci holds the tests of the CI integrations: the install script
// the GitHub Action and the GitLab template run, the action's check step,
// and the template's copy of the install script. Nothing is downloaded: a
// release is laid out locally, as GitHub serves it.
package ci

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the GitLab template's copy of action-install.sh")

const (
	gitlabTemplate = "../../ci/gitlab/hubsecrets.gitlab-ci.yml"
	heredocStart   = "      cat >/tmp/hubsecrets-install.sh <<'HUBSECRETS_INSTALL_SH'\n"
	heredocEnd     = "      HUBSECRETS_INSTALL_SH\n"
	indent         = "      "
)

// TestGitLabTemplateCarriesInstallScript: the template's install script is
// scripts/ci/action-install.sh, byte for byte once unindented, so the one
// tested script is the one both CIs run.
func TestGitLabTemplateCarriesInstallScript(t *testing.T) {
	script, err := os.ReadFile("action-install.sh")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := os.ReadFile(gitlabTemplate)
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(tpl, []byte(heredocStart))
	end := bytes.Index(tpl, []byte(heredocEnd))
	if start < 0 || end < start {
		t.Fatalf("%s: no heredoc %q ... %q", gitlabTemplate, heredocStart, heredocEnd)
	}
	body := tpl[start+len(heredocStart) : end]
	var got strings.Builder
	for _, l := range strings.SplitAfter(string(body), "\n") {
		got.WriteString(strings.TrimPrefix(l, indent))
	}
	if got.String() == string(script) {
		return
	}
	if !*update {
		t.Fatalf("%s's install script differs from scripts/ci/action-install.sh: run go test ./scripts/ci -run GitLab -update", gitlabTemplate)
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(script), "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString(indent)
		}
		b.WriteString(l)
	}
	out := append(append(append([]byte{}, tpl[:start+len(heredocStart)]...), b.String()...), tpl[end:]...)
	if err := os.WriteFile(gitlabTemplate, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestActionsArePinned: every third-party action the repository's
// workflows, action and examples use is pinned to a commit.
func TestActionsArePinned(t *testing.T) {
	files := []string{"../../action.yml", "../../.github/workflows/self-check.yml", "../../examples/ci/github-actions.yml"}
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s*)?uses:\s*(\S+)`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			ref := m[1]
			switch {
			case ref == "./", pinned.MatchString(ref):
			case strings.HasPrefix(ref, "hubsecrets/packer-plugin-jupyterhub@") && strings.HasSuffix(f, "github-actions.yml"):
				// the example's own reference is a marked placeholder
			default:
				t.Errorf("%s: uses %s: pin it to a commit SHA (# vX.Y.Z beside it)", f, ref)
			}
		}
	}
	b, _ := os.ReadFile("../../action.yml")
	for _, s := range regexp.MustCompile(`\$GITHUB_ACTION_PATH/(scripts/ci/[\w.-]+)`).FindAllStringSubmatch(string(b), -1) {
		if fi, err := os.Stat("../../" + s[1]); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("action.yml runs %s: not an executable file (%v)", s[1], err)
		}
	}
}

// release lays out version 1.2.3 of a fake hubsecrets (a script printing
// its name) as GitHub serves a release, and returns the base directory.
func release(t *testing.T) (base, archive, sums string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hubsecrets")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho fake hubsecrets \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	base = filepath.Join(dir, "releases")
	out, err := exec.Command("./local-release.sh", bin, "1.2.3", base, "linux", "amd64").CombinedOutput()
	if err != nil {
		t.Fatalf("local-release.sh: %v\n%s", err, out)
	}
	return base, filepath.Join(base, "v1.2.3", "hubsecrets_v1.2.3_linux_amd64.tar.gz"),
		filepath.Join(base, "v1.2.3", "packer-plugin-jupyterhub_v1.2.3_SHA256SUMS")
}

type run struct {
	code           int
	stdout, stderr string
}

func runScript(t *testing.T, script string, env map[string]string) run {
	t.Helper()
	cmd := exec.Command("./" + script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{code, stdout.String(), stderr.String()}
}

func TestInstall(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("needs %s", tool)
		}
	}
	base, archive, sums := release(t)
	line, err := os.ReadFile(sums)
	if err != nil {
		t.Fatal(err)
	}
	sum := strings.Fields(string(line))[0]
	env := func(more ...string) map[string]string {
		m := map[string]string{"HUBSECRETS_VERSION": "1.2.3", "HUBSECRETS_BASE_URL": base, "HUBSECRETS_OS": "linux", "HUBSECRETS_ARCH": "x86_64"}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}

	installs := []struct {
		name string
		env  map[string]string
	}{
		{"checksum from the release", env()},
		{"pinned", env("HUBSECRETS_SHA256", sum, "HUBSECRETS_VERSION", "v1.2.3")},
		{"file URL", env("HUBSECRETS_BASE_URL", "file://"+base)},
	}
	for _, tt := range installs {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "bin")
			ghPath, ghOut := filepath.Join(t.TempDir(), "path"), filepath.Join(t.TempDir(), "output")
			tt.env["HUBSECRETS_DEST"], tt.env["GITHUB_PATH"], tt.env["GITHUB_OUTPUT"] = dest, ghPath, ghOut
			r := runScript(t, "action-install.sh", tt.env)
			bin := filepath.Join(dest, "hubsecrets")
			if r.code != 0 || r.stdout != bin+"\n" || !strings.Contains(r.stderr, "hubsecrets_v1.2.3_linux_amd64.tar.gz verified ("+sum+")") {
				t.Fatalf("exit %d\nstdout %q\nstderr %s", r.code, r.stdout, r.stderr)
			}
			out, err := exec.Command(bin, "version").Output()
			if err != nil || string(out) != "fake hubsecrets version\n" {
				t.Errorf("installed binary: %q %v", out, err)
			}
			if b, _ := os.ReadFile(ghPath); string(b) != dest+"\n" {
				t.Errorf("GITHUB_PATH %q", b)
			}
			if b, _ := os.ReadFile(ghOut); string(b) != "path="+bin+"\n" {
				t.Errorf("GITHUB_OUTPUT %q", b)
			}
		})
	}

	tampered := t.TempDir()
	if err := os.CopyFS(tampered, os.DirFS(base)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(tampered, "v1.2.3", filepath.Base(archive)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	f.Close()
	noLine := t.TempDir()
	os.CopyFS(noLine, os.DirFS(base))
	os.WriteFile(filepath.Join(noLine, "v1.2.3", filepath.Base(sums)), []byte(strings.Repeat("0", 64)+"  hubsecrets_v1.2.3_darwin_arm64.tar.gz\n"), 0o644)
	other := strings.Repeat("ab", 32)

	failures := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"archive does not match SHA256SUMS", env("HUBSECRETS_BASE_URL", tampered),
			"hubsecrets install: hubsecrets_v1.2.3_linux_amd64.tar.gz does NOT match its checksum in packer-plugin-jupyterhub_v1.2.3_SHA256SUMS: the download is corrupt or was replaced. Nothing installed"},
		{"pin differs", env("HUBSECRETS_SHA256", other),
			"packer-plugin-jupyterhub_v1.2.3_SHA256SUMS gives " + sum + " for hubsecrets_v1.2.3_linux_amd64.tar.gz, not the pinned " + other + ": the release was changed"},
		{"no line for the archive", env("HUBSECRETS_BASE_URL", noLine), "has no single line for hubsecrets_v1.2.3_linux_amd64.tar.gz"},
		{"no version", env("HUBSECRETS_VERSION", ""), "set the release to install (HUBSECRETS_VERSION"},
		{"placeholder version", env("HUBSECRETS_VERSION", "PLACEHOLDER"), "set the release to install"},
		{"placeholder pin", env("HUBSECRETS_SHA256", "PLACEHOLDER"), "set the archive's SHA-256 (HUBSECRETS_SHA256"},
		{"bad pin", env("HUBSECRETS_SHA256", "abc"), `sha256 "abc": want the archive's SHA-256 as 64 lowercase hex digits`},
		{"bad version", env("HUBSECRETS_VERSION", "1.2.3;rm"), `version "1.2.3;rm": want a release number`},
		{"no such release", env("HUBSECRETS_VERSION", "9.9.9"), "no " + base + "/v9.9.9/hubsecrets_v9.9.9_linux_amd64.tar.gz: is 9.9.9 a release"},
		{"no such platform", env("HUBSECRETS_ARCH", "riscv64"), `no hubsecrets release for the CPU "riscv64"`},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "bin")
			tt.env["HUBSECRETS_DEST"] = dest
			r := runScript(t, "action-install.sh", tt.env)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want a failure saying %q", r.code, r.stderr, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dest, "hubsecrets")); err == nil {
				t.Errorf("a binary was installed")
			}
		})
	}
}
