package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

func TestFirstbootRender(t *testing.T) {
	root := filepath.Join(t.TempDir(), "image") // made by render
	r := runCLI(t, "firstboot", "render", "--root", root, "--dir", "/data/hub", "--owner", "jupyterhub", "--group", "jupyterhub", "--hub-unit", "hub.service")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("render: %+v", r)
	}
	want := []struct {
		path, listed string
		mode         os.FileMode
	}{
		{layout.ScriptPath, " (0755)", 0o755},
		{layout.UnitPath, " (0644)", 0o644},
		{"/etc/systemd/system/hub.service.d/" + layout.DropInName, " (0644)", 0o644},
		{layout.WantsLink, " -> " + layout.UnitPath, os.ModeSymlink | 0o777},
	}
	for _, w := range want {
		p := filepath.Join(root, w.path)
		if !strings.Contains(r.stdout, "  "+p+w.listed+"\n") {
			t.Errorf("stdout does not list %s%s:\n%s", p, w.listed, r.stdout)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != w.mode {
			t.Errorf("%s: mode %v, want %v", w.path, fi.Mode(), w.mode)
		}
	}
	unit, _ := os.ReadFile(filepath.Join(root, layout.UnitPath))
	for _, line := range []string{"Before=hub.service", "ReadWritePaths=-/data/hub"} {
		if !strings.Contains(string(unit), "\n"+line+"\n") {
			t.Errorf("unit lacks %q", line)
		}
	}
	script, _ := os.ReadFile(filepath.Join(root, layout.ScriptPath))
	for _, line := range []string{"dir='/data/hub'", "owner='jupyterhub'", "group='jupyterhub'"} {
		if !strings.Contains(string(script), "\n"+line+"\n") {
			t.Errorf("script lacks %q", line)
		}
	}

	// Again: the same files, replaced in place.
	if r := runCLI(t, "firstboot", "render", "--root", root, "--dir", "/data/hub", "--hub-unit", "hub.service"); r.code != exitOK {
		t.Fatalf("second render: %+v", r)
	}
}

func TestFirstbootScript(t *testing.T) {
	r := runCLI(t, "firstboot", "script", "--dir", "/data/hub")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "#!/bin/sh\n") || !strings.Contains(r.stdout, "\ndir='/data/hub'\n") {
		t.Fatalf("script: code %d, stderr %q, stdout starts %.40q", r.code, r.stderr, r.stdout)
	}
	def := runCLI(t, "firstboot", "script")
	if !strings.Contains(def.stdout, "\ndir='"+layout.DefaultDir+"'\n") {
		t.Error("the default script is not for " + layout.DefaultDir)
	}
}

func TestFirstbootUsage(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // wanted in stdout
		stderr string // wanted in stderr
	}{
		{"help", []string{"firstboot", "--help"}, exitOK, "Subcommands:", ""},
		{"no subcommand", []string{"firstboot"}, exitFailure, "", "Subcommands:"},
		{"unknown subcommand", []string{"firstboot", "install"}, exitFailure, "", `unknown subcommand "install"`},
		{"render help", []string{"firstboot", "render", "--help"}, exitOK, "--hub-unit UNIT", ""},
		{"script help", []string{"firstboot", "script", "-h"}, exitOK, "--owner USER", ""},
		{"no root", []string{"firstboot", "render"}, exitFailure, "", "--root is required"},
		{"relative dir", []string{"firstboot", "render", "--root", root, "--dir", "srv/jupyterhub"}, exitFailure, "", `--dir "srv/jupyterhub": must be an absolute path`},
		{"dir with a quote", []string{"firstboot", "script", "--dir", "/srv/it's"}, exitFailure, "", "--dir "},
		{"system dir", []string{"firstboot", "render", "--root", root, "--dir", "/etc"}, exitFailure, "", `--dir "/etc": is a system directory`},
		{"below /tmp", []string{"firstboot", "script", "--dir", "/tmp/hub"}, exitFailure, "", `--dir "/tmp/hub": lies below /tmp`},
		{"bad owner", []string{"firstboot", "script", "--owner", "jupyter hub"}, exitFailure, "", `--owner "jupyter hub"`},
		{"numeric group", []string{"firstboot", "script", "--group", "1000"}, exitFailure, "", `--group "1000": must be a name`},
		{"bad hub unit", []string{"firstboot", "render", "--root", root, "--hub-unit", "jupyterhub"}, exitFailure, "", `--hub-unit "jupyterhub"`},
		{"stray argument", []string{"firstboot", "script", "extra"}, exitFailure, "", `unexpected argument "extra"`},
		{"unknown flag", []string{"firstboot", "render", "--rootdir", root}, exitFailure, "", "rootdir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("got %+v\nwant code %d, stdout with %q, stderr with %q", r, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
	if entries, _ := os.ReadDir(root); len(entries) > 0 {
		t.Errorf("a refused render wrote %v", entries)
	}
}

func TestFirstbootRenderRefusesSymlink(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "firstboot", "render", "--root", root)
	if r.code != exitFailure || !strings.Contains(r.stderr, "/etc is a symbolic link") {
		t.Fatalf("render through a symlink: %+v", r)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) > 0 {
		t.Errorf("render wrote through the symlink: %v", entries)
	}
}
