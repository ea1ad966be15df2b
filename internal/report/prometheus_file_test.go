package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/runner"
)

// TestPrometheusFileAtomic checks what node_exporter's textfile collector
// needs of `check --format prometheus --output FILE`: the file is replaced
// by a rename (a reader holding the old file reads it whole; the new one
// is a new inode), no temporary file is left in the directory (the
// collector reads only *.prom, and a leftover would pile up), and it is
// 0644 whatever the umask, so node_exporter's own user can read it.
func TestPrometheusFileAtomic(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "node-exporter") // made by WriteFile
	name := filepath.Join(dir, "hubsecrets.prom")
	o := runner.Output{Format: "prometheus"}
	clean := []report.Report{{Profile: "instance", Root: "/"}}
	if err := o.WriteFile(name, clean); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(name) // a scrape under way
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	st0, _ := reader.Stat()

	denied := []report.Report{{Profile: "instance", Root: "/", Findings: []report.Finding{
		{ID: "HUB012", Severity: report.SeverityDeny, Path: "/srv/jupyterhub/jupyterhub_cookie_secret"}}}}
	if err := o.WriteFile(name, denied); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `hubsecrets_finding{id="HUB012",path="/srv/jupyterhub/jupyterhub_cookie_secret",severity="deny"} 1`) {
		t.Errorf("new file lacks the finding:\n%s", got)
	}
	seen := make([]byte, len(before)+10)
	n, _ := reader.Read(seen)
	if string(seen[:n]) != string(before) {
		t.Errorf("the reader of the old file read %q, want the old file whole", seen[:n])
	}
	st1, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(st0, st1) {
		t.Error("the file was rewritten in place, not replaced by a rename")
	}
	if st1.Mode().Perm() != 0o644 {
		t.Errorf("mode %04o, want 0644 (node_exporter reads it as its own user)", st1.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only hubsecrets.prom", names)
	}

	// A link where the file goes is refused and left alone.
	link := filepath.Join(dir, "link.prom")
	if err := os.Symlink(name, link); err != nil {
		t.Fatal(err)
	}
	if err := o.WriteFile(link, clean); err == nil {
		t.Error("wrote through a symbolic link")
	}
	if after, _ := os.ReadFile(name); string(after) != string(got) {
		t.Error("the link's target changed")
	}
}
