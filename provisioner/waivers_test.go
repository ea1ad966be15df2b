package provisioner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// waivers_file waives the image's denials as `check --waivers` does: the
// build passes and report_file shows them waived; expired, the build fails
// again with a warning.
func TestVerifyWaivers(t *testing.T) {
	dir := t.TempDir()
	empty := testtree.New(t, "root") // an empty /srv/jupyterhub: the image profile denies
	reportFile := filepath.Join(dir, "report.json")
	type reportJSON struct {
		Summary  struct{ Deny, Waived int }
		Findings []struct {
			ID, Severity, Path string
			Waived             *struct{ Reason string }
		}
		Warnings []string
	}
	build := func(extra map[string]interface{}) (reportJSON, *testUI, error) {
		raw := map[string]interface{}{"report_file": reportFile, "report_format": "json"}
		for k, v := range extra {
			raw[k] = v
		}
		p := prepared(t, raw)
		ui := newUI()
		err := p.Provision(context.Background(), ui, cannedTarget(t, empty.Root), nil)
		var rep reportJSON
		b, rerr := os.ReadFile(reportFile)
		if rerr != nil || json.Unmarshal(b, &rep) != nil {
			t.Fatalf("report_file: %v\n%s", rerr, b)
		}
		return rep, ui, err
	}
	rep, _, err := build(nil)
	if err == nil || rep.Summary.Deny == 0 {
		t.Fatalf("without waivers: %v, %+v", err, rep.Summary)
	}
	waivers := func(expires string) string {
		var entries []string
		seen := map[string]bool{}
		for _, f := range rep.Findings {
			if f.Severity == "deny" && !seen[f.ID] {
				seen[f.ID] = true
				entries = append(entries, fmt.Sprintf(`{"id": %q, "reason": "built before the hook", "expires": %q}`, f.ID, expires))
			}
		}
		name := filepath.Join(dir, "waivers-"+expires+".json")
		os.WriteFile(name, []byte(`{"waivers": [`+strings.Join(entries, ", ")+`]}`), 0o644)
		return name
	}
	denied := rep.Summary.Deny

	got, ui, err := build(map[string]interface{}{"waivers_file": waivers("2999-12-31")})
	if err != nil || got.Summary.Deny != 0 || got.Summary.Waived != denied {
		t.Fatalf("waived: %v, summary %+v (want 0 denied, %d waived)\n%s", err, got.Summary, denied, ui.all())
	}
	if !strings.Contains(ui.all(), "WAIVED") || !strings.Contains(ui.all(), fmt.Sprintf("%d waived", denied)) {
		t.Errorf("the build output does not show the waivers:\n%s", ui.all())
	}

	got, ui, err = build(map[string]interface{}{"waivers_file": waivers("2000-01-01")})
	if err == nil || !strings.Contains(err.Error(), "verify: the image fails") || got.Summary.Waived != 0 || len(got.Warnings) == 0 ||
		!strings.Contains(ui.errs.String(), "warning: ") || !strings.Contains(ui.errs.String(), "expired on 2000-01-01") {
		t.Errorf("expired: %v, report %+v\n%s", err, got, ui.all())
	}
}

func TestPrepareRefusesBadWaivers(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "waivers.yaml")
	os.WriteFile(bad, []byte("waivers:\n  - id: HUB012\n    expires: 2027-06-30\n"), 0o644)
	for _, tt := range []struct {
		raw  map[string]interface{}
		want string
	}{
		{map[string]interface{}{"waivers_file": bad}, "waivers_file: waivers " + bad + ":2: waivers[0].reason: required"},
		{map[string]interface{}{"waivers_file": filepath.Join(dir, "nope.yaml")}, "waivers_file: waivers: open " + filepath.Join(dir, "nope.yaml")},
		{map[string]interface{}{"waivers_file": bad, "skip_verify": true}, "waivers_file: nothing is verified with skip_verify = true"},
	} {
		err := new(Provisioner).Prepare(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.raw, err, tt.want)
		}
	}
}

// A collection that fails leaves a report_file that says the image was not
// checked, never one that passes.
func TestVerifyReportFileWhenNotChecked(t *testing.T) {
	name := filepath.Join(t.TempDir(), "hub.json")
	p := prepared(t, map[string]interface{}{"report_file": name, "report_format": "json"})
	comm := &recComm{respond: func(cmd string) reply {
		if strings.Contains(cmd, "-collect.sh'") {
			return reply{stderr: "collector: I/O error\n", status: 3}
		}
		return reply{}
	}}
	ui := newUI()
	err := p.Provision(context.Background(), ui, comm, nil)
	if err == nil || !strings.Contains(err.Error(), "verify: the fact collection exited with status 3") {
		t.Fatalf("error %v\n%s", err, ui.all())
	}
	var rep struct {
		Profile  string
		Findings []any
		Errors   []string
	}
	b, rerr := os.ReadFile(name)
	if rerr != nil || json.Unmarshal(b, &rep) != nil || rep.Profile != "image" || len(rep.Findings) != 0 ||
		len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "status 3") {
		t.Errorf("report_file %v:\n%s", rerr, b)
	}
}
