package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestChild is what TestMissingSkipsOrFails runs in a child process: it
// needs a tool that HUBSECRETS_TEST_HIDE_TOOLS hides.
func TestChild(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "1" {
		t.Skip("run by TestMissingSkipsOrFails in a child process") // not about the machine
	}
	_, ok := HaveTool(t, "sh", "a partial comparison")
	if ok {
		t.Error("HaveTool found a hidden tool")
	}
	NeedTool(t, "sh", "the comparison with sh")
	t.Error("NeedTool returned for a hidden tool")
}

// TestMissingSkipsOrFails: a hidden tool skips the test and is logged, or
// fails it under HUBSECRETS_REQUIRE_TOOLS=1.
func TestMissingSkipsOrFails(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		require  string
		wantFail bool
	}{{"", false}, {"1", true}} {
		log := filepath.Join(t.TempDir(), "skips")
		cmd := exec.Command(exe, "-test.run=^TestChild$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", HideEnv+"=busybox,sh", SkipLogEnv+"="+log, RequireEnv+"="+tc.require)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("%s=%q: failed %v, want %v\n%s", RequireEnv, tc.require, failed, tc.wantFail, out)
		}
		logged, _ := os.ReadFile(log)
		lines := strings.Count(string(logged), "\n")
		switch {
		case tc.wantFail && lines != 0:
			t.Errorf("a failure was also logged as a skip: %q", logged)
		case !tc.wantFail && (lines != 2 || !strings.Contains(string(logged), "./internal/testenv TestChild: needs sh (not installed): the comparison with sh")):
			t.Errorf("skip log %q: want the partial and the whole skip, with package and test", logged)
		case !tc.wantFail && !strings.Contains(string(out), "--- SKIP: TestChild"):
			t.Errorf("the test did not skip:\n%s", out)
		}
	}
}

func TestLookPathHides(t *testing.T) {
	t.Setenv(HideEnv, "a,sh")
	if _, err := LookPath("sh"); err == nil {
		t.Error("LookPath found sh although it is hidden")
	}
	t.Setenv(HideEnv, "")
	if _, err := LookPath("sh"); err != nil {
		t.Errorf("LookPath(sh): %v", err)
	}
}
