package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionCheck: action-check.sh turns the action's inputs into one
// hubsecrets check command, records its exit status as a step output and
// exits 0 (so the SARIF is uploaded before the action fails); bad inputs
// exit 2 at once. The binary is a stand-in that records its arguments.
func TestActionCheck(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	bin := filepath.Join(dir, "hubsecrets")
	os.WriteFile(bin, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >"+argsFile+"\nwhile [ $# -gt 0 ]; do [ \"$1\" = --output ] && : >\"$2\"; shift; done\nexit ${FAKE_EXIT:-0}\n"), 0o755)

	tests := []struct {
		name     string
		env      map[string]string
		wantArgs string
		wantOut  string
	}{
		{"tar, defaults", map[string]string{"INPUT_TAR": "rootfs.tar", "FAKE_EXIT": "1"},
			"check --profile image --format sarif --output OUT/hubsecrets.sarif --tar rootfs.tar",
			"exit-code=1\nreport=OUT/hubsecrets.sarif\n"},
		{"path, policies, data, waivers, strict, junit", map[string]string{
			"INPUT_PATH": "/mnt/image", "INPUT_PROFILE": "instance", "INPUT_POLICY": "policy/a\n\npolicy/b\n",
			"INPUT_DATA": "site.json", "INPUT_WAIVERS": "waivers.yml", "INPUT_STRICT": "true", "INPUT_FORMAT": "junit"},
			"check --profile instance --format junit --output OUT/hubsecrets.xml --strict --policy policy/a --policy policy/b --data site.json --waivers waivers.yml --root /mnt/image",
			"exit-code=0\nreport=OUT/hubsecrets.xml\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			ghOut := filepath.Join(t.TempDir(), "output")
			tt.env["HUBSECRETS_BIN"], tt.env["GITHUB_OUTPUT"] = bin, ghOut
			if _, ok := tt.env["INPUT_OUTPUT"]; !ok {
				ext := map[string]string{"junit": "xml"}[tt.env["INPUT_FORMAT"]]
				if ext == "" {
					ext = "sarif"
				}
				tt.env["INPUT_OUTPUT"] = filepath.Join(out, "hubsecrets."+ext)
			}
			r := runScript(t, "action-check.sh", tt.env)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			args, _ := os.ReadFile(argsFile)
			if got := strings.ReplaceAll(strings.TrimSpace(strings.ReplaceAll(string(args), "\n", " ")), out, "OUT"); got != tt.wantArgs {
				t.Errorf("ran %q\nwant %q", got, tt.wantArgs)
			}
			if b, _ := os.ReadFile(ghOut); strings.ReplaceAll(string(b), out, "OUT") != tt.wantOut {
				t.Errorf("outputs %q, want %q", b, tt.wantOut)
			}
		})
	}

	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no source", map[string]string{}, "give exactly one of the inputs path, tar, image and image-archive (got 0)"},
		{"two sources", map[string]string{"INPUT_PATH": "/mnt", "INPUT_TAR": "x.tar"}, "(got 2)"},
		{"bad format", map[string]string{"INPUT_PATH": "/mnt", "INPUT_FORMAT": "html"}, `format "html": want sarif, junit, json or text`},
		{"missing image archive", map[string]string{"INPUT_IMAGE_ARCHIVE": filepath.Join(dir, "nope.tar")}, "image-archive " + filepath.Join(dir, "nope.tar") + ": no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(argsFile)
			tt.env["HUBSECRETS_BIN"] = bin
			r := runScript(t, "action-check.sh", tt.env)
			if r.code != 2 || !strings.Contains(r.stderr, "::error title=hubsecrets::") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d stderr %q: want 2 and %q", r.code, r.stderr, tt.want)
			}
			if _, err := os.Stat(argsFile); err == nil {
				t.Errorf("hubsecrets ran")
			}
		})
	}
}
