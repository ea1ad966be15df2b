package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

func sample(host string) report.Report {
	return report.Report{
		Profile: "instance", Root: "/", Host: host, Kind: "ssh",
		Findings: []report.Finding{{ID: "HUB012", Severity: report.SeverityDeny, Path: "/srv/jupyterhub/jupyterhub_cookie_secret",
			Title: "Secret readable by others", Msg: "mode 0644", Fix: "chmod 0600 /srv/jupyterhub/jupyterhub_cookie_secret"}},
		Summary: report.Summary{Deny: 1},
	}
}

// json is one indented object for one source, and JSON Lines when several
// were asked for, even if only one answered.
func TestWriteJSONLines(t *testing.T) {
	one := []report.Report{sample("hub1")}
	var b bytes.Buffer
	if err := (Output{Format: "json"}).Write(&b, one); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "{\n  \"profile\"") {
		t.Errorf("one report, one source: want an indented object, got %q", b.String())
	}
	for _, reports := range [][]report.Report{one, {sample("hub1"), sample("hub2")}} {
		b.Reset()
		if err := (Output{Format: "json", Lines: true}).Write(&b, reports); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != len(reports) {
			t.Fatalf("%d reports: %d lines:\n%s", len(reports), len(lines), b.String())
		}
		for i, line := range lines {
			var rep report.Report
			if err := json.Unmarshal([]byte(line), &rep); err != nil || rep.Host != reports[i].Host {
				t.Errorf("line %d: %q (%v)", i+1, line, err)
			}
		}
	}
	// Lines changes json only.
	b.Reset()
	if err := (Output{Format: "text", Lines: true}).Write(&b, one); err != nil || !strings.Contains(b.String(), "DENY  HUB012") {
		t.Errorf("text: %v\n%s", err, b.String())
	}
	if err := (Output{Format: "yaml"}).Write(&b, one); err == nil || !strings.Contains(err.Error(), "write yaml report: unknown format") {
		t.Errorf("unknown format: %v", err)
	}
}

// halfway is a format that fails after writing part of a report, as a
// full disk (ENOSPC) would stop a write.
func halfway(t *testing.T) string {
	t.Helper()
	report.Formats["halfway"] = func(w io.Writer, _ []report.Report, _ report.Options) error {
		io.WriteString(w, `{"profile": "inst`)
		return syscall.ENOSPC
	}
	t.Cleanup(func() { delete(report.Formats, "halfway") })
	return "halfway"
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFile(t *testing.T) {
	reports := []report.Report{sample("hub1")}
	sarif := Output{Format: "sarif", Options: report.Options{Color: true, Version: "1.2.3"}}

	t.Run("writes the report, making its directories", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "reports", "ci", "hub.sarif")
		if err := sarif.WriteFile(name, reports); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		sarif.Options.Color = false
		sarif.Write(&want, reports)
		if got := readFile(t, name); got != want.String() || !strings.Contains(got, `"version": "2.1.0"`) {
			t.Errorf("file holds:\n%.300s\nwant:\n%.300s", got, want.String())
		}
		for p, mode := range map[string]os.FileMode{
			name:                          ReportPerm,
			filepath.Dir(name):            os.ModeDir | 0o755,
			filepath.Join(dir, "reports"): os.ModeDir | 0o755,
		} {
			if fi, err := os.Lstat(p); err != nil || fi.Mode() != mode {
				t.Errorf("%s: %v (%v), want %v", p, fi.Mode(), err, mode)
			}
		}
		// Replacing it leaves nothing beside it.
		if err := (Output{Format: "json"}).WriteFile(name, reports); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, name); !strings.HasPrefix(got, "{\n") {
			t.Errorf("not replaced: %.100s", got)
		}
		if entries, _ := os.ReadDir(filepath.Dir(name)); len(entries) != 1 {
			t.Errorf("directory holds %v, want the report only", entries)
		}
	})

	t.Run("a failed write keeps the previous report", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "hub.json")
		os.WriteFile(name, []byte("the previous report\n"), 0o644)
		err := Output{Format: halfway(t)}.WriteFile(name, reports)
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "write halfway report: ") {
			t.Errorf("error %v, want the format's ENOSPC, wrapped", err)
		}
		if got := readFile(t, name); got != "the previous report\n" {
			t.Errorf("the previous report became %q", got)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("directory holds %v, want the previous report only", entries)
		}
	})

	t.Run("a symbolic link is refused, its target untouched", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "passwd")
		os.WriteFile(target, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
		link := filepath.Join(dir, "hub.sarif")
		os.Symlink(target, link)
		err := sarif.WriteFile(link, reports)
		if err == nil || !strings.Contains(err.Error(), link+": is a symbolic link") {
			t.Errorf("error %v, want a refusal naming %s", err, link)
		}
		if got := readFile(t, target); got != "root:x:0:0::/root:/bin/sh\n" {
			t.Errorf("the link's target became %q", got)
		}
		if got, err := os.Readlink(link); err != nil || got != target {
			t.Errorf("the link became %q (%v)", got, err)
		}
	})

	t.Run("a symbolic link as its directory is refused", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		linkDir := filepath.Join(dir, "reports")
		os.Symlink(elsewhere, linkDir)
		err := sarif.WriteFile(filepath.Join(linkDir, "hub.sarif"), reports)
		if err == nil || !strings.Contains(err.Error(), "parent directory "+linkDir+" is a symbolic link") {
			t.Errorf("error %v, want a refusal naming %s", err, linkDir)
		}
		if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
			t.Errorf("wrote through the link: %v", entries)
		}
	})

	t.Run("errors name the real cause", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "reports")
		os.WriteFile(file, nil, 0o644)
		err := sarif.WriteFile(filepath.Join(file, "hub.sarif"), reports)
		if !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), "create its directory") {
			t.Errorf("parent is a file: %v, want ENOTDIR wrapped", err)
		}
		err = sarif.WriteFile(dir, reports)
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a directory at the path: %v", err)
		}
	})
}
