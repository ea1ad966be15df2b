package provisioner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// cannedTarget answers the install with success and the collection with
// what the collector would print about root: no root needed.
func cannedTarget(t *testing.T, root string) *recComm {
	return &recComm{respond: func(cmd string) reply {
		if strings.Contains(cmd, "-collect.sh'") {
			return reply{stdout: remoteStream(t, root)}
		}
		return reply{}
	}}
}

// report_file = "reports/x.json", the docs' own example: the directory is
// made, and the report is written although verification denies.
func TestVerifyReportFileDocsExample(t *testing.T) {
	t.Chdir(t.TempDir())
	empty := testtree.New(t, "root") // an empty /srv/jupyterhub: the image profile denies
	p := prepared(t, map[string]interface{}{"report_file": "reports/jupyterhub-secrets.json", "report_format": "json"})
	ui := newUI()
	err := p.Provision(context.Background(), ui, cannedTarget(t, empty.Root), nil)
	if err == nil || !strings.Contains(err.Error(), "verify: the image fails") {
		t.Fatalf("want the verification's denial, got %v\n%s", err, ui.all())
	}
	data, rerr := os.ReadFile("reports/jupyterhub-secrets.json")
	var rep struct {
		Profile string
		Summary struct{ Deny int }
	}
	if rerr != nil || json.Unmarshal(data, &rep) != nil || rep.Profile != "image" || rep.Summary.Deny == 0 {
		t.Fatalf("report_file: %v, %+v\n%s", rerr, rep, data)
	}
	if fi, err := os.Stat("reports"); err != nil || fi.Mode() != os.ModeDir|0o755 {
		t.Errorf("reports/: %v %v, want a 0755 directory", fi.Mode(), err)
	}
	if !strings.Contains(ui.out.String(), "Saved the json report to reports/jupyterhub-secrets.json") {
		t.Errorf("no word of the saved report:\n%s", ui.all())
	}
}

// A report that cannot be written fails the build even when verification
// fails too: both errors are returned, each with its cause.
func TestVerifyReportFileWriteFailsWithDenial(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "hub.json")
	empty := testtree.New(t, "root")
	p := prepared(t, map[string]interface{}{"report_file": name, "report_format": "json"})
	// After Prepare, a link appears where the report goes.
	target := filepath.Join(dir, "elsewhere")
	os.WriteFile(target, []byte("keep\n"), 0o644)
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
	ui := newUI()
	err := p.Provision(context.Background(), ui, cannedTarget(t, empty.Root), nil)
	for _, want := range []string{"verify: the image fails", "report_file: write " + name + ": is a symbolic link"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q in it", err, want)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("wrote through the link: %q", b)
	}
	if strings.Contains(ui.all(), "Saved the") {
		t.Errorf("claims a report was saved:\n%s", ui.all())
	}
}

// On a passing image, a report that cannot be written still fails the
// build, naming the real cause.
func TestProvisionReportFileWriteFailsOnPass(t *testing.T) {
	target, remote := newTarget(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "reports", "hub.sarif")
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "report_file": name, "report_format": "sarif"})
	// After Prepare, a file takes the place of the report's directory.
	os.WriteFile(filepath.Join(dir, "reports"), []byte("in the way\n"), 0o644)
	ui := newUI()
	err := p.Provision(context.Background(), ui, target.comm(), nil)
	if err == nil || !strings.Contains(err.Error(), "report_file: "+name+": create its directory: mkdir "+filepath.Join(dir, "reports")+": not a directory") {
		t.Fatalf("want the write's cause, got %v\n%s", err, ui.all())
	}
	if strings.Contains(err.Error(), "verify:") || strings.Contains(ui.all(), "Verified") {
		t.Errorf("the image passes; only the report failed: %v\n%s", err, ui.all())
	}
}
