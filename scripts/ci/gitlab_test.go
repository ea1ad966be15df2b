package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitlabScript is the template's script: block, unindented.
func gitlabScript(t *testing.T) string {
	t.Helper()
	tpl, err := os.ReadFile(gitlabTemplate)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(tpl), "\n  script:\n    - |\n")
	if !ok {
		t.Fatalf("%s: no script: - | block", gitlabTemplate)
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(rest, "\n") {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, indent) {
			break
		}
		b.WriteString(strings.TrimPrefix(l, indent))
	}
	return b.String()
}

// TestGitLabScript runs the template's script: with a stand-in hubsecrets
// on PATH: SARIF and JUnit are both written, the job's status is the
// check's, and a job without a source fails before any check.
func TestGitLabScript(t *testing.T) {
	script := gitlabScript(t)
	bin := t.TempDir()
	log := filepath.Join(bin, "calls")
	os.WriteFile(filepath.Join(bin, "hubsecrets"), []byte("#!/bin/sh\necho \"$*\" >>"+log+"\nwhile [ $# -gt 0 ]; do [ \"$1\" = --output ] && : >\"$2\"; shift; done\nexit ${FAKE_EXIT:-0}\n"), 0o755)
	vars := map[string]string{"HUBSECRETS_TAR": "", "HUBSECRETS_PATH": "", "HUBSECRETS_PROFILE": "image",
		"HUBSECRETS_POLICY": "", "HUBSECRETS_DATA": "", "HUBSECRETS_WAIVERS": "", "HUBSECRETS_STRICT": "false"}
	run := func(more map[string]string) (int, string, string) {
		dir := t.TempDir()
		os.Remove(log)
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		for k, v := range more {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		calls, _ := os.ReadFile(log)
		for _, f := range []string{"hubsecrets.sarif", "hubsecrets-junit.xml"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil && len(calls) > 0 {
				t.Errorf("%s not written", f)
			}
		}
		return code, string(calls), string(out)
	}

	code, calls, out := run(map[string]string{"HUBSECRETS_TAR": "rootfs.tar.gz", "HUBSECRETS_POLICY": "p1 p2", "HUBSECRETS_STRICT": "true", "FAKE_EXIT": "1"})
	want := "check --tar rootfs.tar.gz --profile image --policy p1 --policy p2 --strict --format sarif --output hubsecrets.sarif\n" +
		"check --tar rootfs.tar.gz --profile image --policy p1 --policy p2 --strict --format junit --output hubsecrets-junit.xml\n"
	if code != 1 || calls != want {
		t.Errorf("deny: exit %d, ran\n%s\nwant exit 1 and\n%s%s", code, calls, want, out)
	}
	code, calls, _ = run(map[string]string{"HUBSECRETS_PATH": "/mnt/image", "HUBSECRETS_WAIVERS": "w.yml"})
	if code != 0 || !strings.Contains(calls, "check --root /mnt/image --profile image --waivers w.yml --format junit") {
		t.Errorf("pass: exit %d, ran %q", code, calls)
	}
	code, calls, out = run(nil)
	if code != 2 || calls != "" || !strings.Contains(out, "set one of HUBSECRETS_TAR and HUBSECRETS_PATH") {
		t.Errorf("no source: exit %d, ran %q, said %q", code, calls, out)
	}
}
