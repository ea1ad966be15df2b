package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// writeWaivers writes a waivers file in a temporary directory.
func writeWaivers(t *testing.T, content string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "waivers.yaml")
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// A tree with one deny (the cookie secret readable by all): waived, the
// check passes and every format shows the waiver; expired, it fails again
// with a warning.
func TestCheckWaivers(t *testing.T) {
	tr := testtree.Correct(t)
	tr.Chmod("/srv/jupyterhub/jupyterhub_cookie_secret", 0o644)
	const cookie = "/srv/jupyterhub/jupyterhub_cookie_secret"
	if r := runCLI(t, "check", "--root", tr.Root); r.code != exitDenied || strings.Count(r.stdout, "DENY  ") != 1 ||
		!strings.Contains(r.stdout, "DENY  HUB012  "+cookie) {
		t.Fatalf("want exactly one deny, HUB012: exit %d\n%s", r.code, r.stdout)
	}
	valid := writeWaivers(t, `waivers:
  - id: HUB012
    path: /srv/jupyterhub/*
    reason: the hub group reads it until TICKET-12
    expires: 2999-12-31
`)
	expired := writeWaivers(t, `{"waivers": [{"id": "HUB012", "path": "/srv/jupyterhub/*", "reason": "the hub group reads it until TICKET-12", "expires": "2000-01-01"}]}`)

	t.Run("waived", func(t *testing.T) {
		for _, tt := range []struct{ format, want string }{
			{"text", "WAIVED  HUB012  " + cookie},
			{"json", `"waived": {`},
			{"sarif", `"kind": "external"`},
			{"junit", `<skipped message="waived (deny) until 2999-12-31 by ` + valid + `: waivers[0]: the hub group reads it until TICKET-12">`},
		} {
			r := runCLI(t, "check", "--root", tr.Root, "--waivers", valid, "--format", tt.format)
			if r.code != exitOK || !strings.Contains(r.stdout, tt.want) || !strings.Contains(r.stdout, "the hub group reads it until TICKET-12") {
				t.Errorf("%s: exit %d, want 0 and %q:\n%s%s", tt.format, r.code, tt.want, r.stdout, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("%s: stderr %q", tt.format, r.stderr)
			}
			assertNoSecret(t, tr, r.stdout+r.stderr)
			switch tt.format {
			case "json":
				var rep struct {
					Summary  struct{ Deny, Waived int }
					Findings []struct {
						ID     string
						Waived *struct{ Reason, Expires string }
					}
				}
				if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Summary.Deny != 0 || rep.Summary.Waived != 1 {
					t.Errorf("json summary %+v (%v)", rep.Summary, err)
				}
				for _, f := range rep.Findings {
					if f.ID == "HUB012" && (f.Waived == nil || f.Waived.Expires != "2999-12-31") {
						t.Errorf("json HUB012 waived %+v", f.Waived)
					}
				}
			case "sarif":
				if !strings.Contains(r.stdout, `"justification": "the hub group reads it until TICKET-12"`) {
					t.Errorf("sarif: no justification:\n%s", r.stdout)
				}
			case "junit":
				var doc struct {
					Failures int `xml:"failures,attr"`
					Skipped  int `xml:"skipped,attr"`
				}
				if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Failures != 0 || doc.Skipped != 1 {
					t.Errorf("junit failures %d skipped %d (%v)", doc.Failures, doc.Skipped, err)
				}
			}
		}
	})

	t.Run("expired", func(t *testing.T) {
		r := runCLI(t, "check", "--root", tr.Root, "--waivers", expired)
		want := expired + ": waivers[0] (HUB012 path /srv/jupyterhub/*) expired on 2000-01-01 and no longer waives HUB012 at " + cookie
		if r.code != exitDenied || !strings.Contains(r.stdout, "DENY  HUB012") || !strings.Contains(r.stdout, "warning  "+want) ||
			!strings.Contains(r.stderr, "hubsecrets check: warning: "+want) {
			t.Errorf("exit %d, want 1 and the warning %q\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
		}
	})

	t.Run("matches nothing", func(t *testing.T) {
		none := writeWaivers(t, "waivers:\n  - {id: HUB012, host: 'hub*', reason: r, expires: 2999-12-31}\n  - {id: HUB999, reason: r, expires: 2999-12-31}\n")
		r := runCLI(t, "check", "--root", tr.Root, "--waivers", none)
		for _, want := range []string{
			none + ": waivers[0] (HUB012 host hub*) matches no finding",
			none + ": waivers[1] (HUB999): no rule HUB999 was evaluated",
		} {
			if r.code != exitDenied || !strings.Contains(r.stderr, want) || !strings.Contains(r.stdout, want) {
				t.Errorf("exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
			}
		}
	})

	t.Run("a bad file checks nothing", func(t *testing.T) {
		bad := writeWaivers(t, "waivers:\n  - id: HUB012\n    reason: r\n    expires: 2027-02-30\n")
		out := filepath.Join(t.TempDir(), "report.json")
		r := runCLI(t, "check", "--root", tr.Root, "--waivers", bad, "--output", out)
		want := "--waivers " + bad + `:4: waivers[0].expires "2027-02-30": not a date: want YYYY-MM-DD`
		if r.code != exitFailure || !strings.Contains(r.stderr, want) || r.stdout != "" {
			t.Errorf("exit %d stdout %q stderr %q: want 2 and %q", r.code, r.stdout, r.stderr, want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("a report was written: %v", err)
		}
		if r := runCLI(t, "check", "--root", tr.Root, "--waivers", filepath.Join(t.TempDir(), "nope.yaml")); r.code != exitFailure ||
			!strings.Contains(r.stderr, "nope.yaml") {
			t.Errorf("missing file: exit %d stderr %q", r.code, r.stderr)
		}
	})
}

// init refuses a bad waivers file before it changes anything.
func TestInitRefusesBadWaivers(t *testing.T) {
	root := t.TempDir()
	bad := writeWaivers(t, `{"waivers": [{"id": "HUB012", "reason": "r", "expires": "2027-06-30", "until": "x"}]}`)
	r := runCLI(t, "init", "--root", root, "--waivers", bad)
	if r.code != exitFailure || !strings.Contains(r.stderr, `waivers[0]: "until": unknown key`) {
		t.Errorf("exit %d stderr %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("init changed the root: %v", entries)
	}
}
