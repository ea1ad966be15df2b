package firstboot

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		c     Config
		field string // "" means valid
	}{
		{"zero is the defaults", Config{}, ""},
		{"everything set", Config{Dir: "/data/hub-secrets", Params: owned("jupyterhub", "jupyter_hub.1"), HubUnit: "jupyterhub@main.service", IdentitySources: plain("/etc/machine-id")}, ""},
		{"relative dir", Config{Dir: "srv/jupyterhub"}, "Dir"},
		{"unclean dir", Config{Dir: "/srv/../srv/jupyterhub"}, "Dir"},
		{"trailing slash", Config{Dir: "/srv/jupyterhub/"}, "Dir"},
		{"root dir", Config{Dir: "/"}, "Dir"},
		{"system dir /root", Config{Dir: "/root"}, "Dir"},
		{"system dir /etc", Config{Dir: "/etc"}, "Dir"},
		{"system dir /var/lib", Config{Dir: "/var/lib"}, "Dir"},
		{"below /tmp", Config{Dir: "/tmp/hub"}, "Dir"},
		{"below /run", Config{Dir: "/run/jupyterhub"}, "Dir"},
		{"a directory of its own in /etc", Config{Dir: "/etc/jupyterhub"}, ""},
		{"a directory of its own in /var/lib", Config{Dir: "/var/lib/jupyterhub"}, ""},
		{"quote in dir", Config{Dir: "/srv/jupyter'hub"}, "Dir"},
		{"space in dir", Config{Dir: "/srv/jupyter hub"}, "Dir"},
		{"newline in dir", Config{Dir: "/srv/jupyterhub\n/etc"}, "Dir"},
		{"shell in dir", Config{Dir: "/srv/$(reboot)"}, "Dir"},
		{"specifier in dir", Config{Dir: "/srv/%h"}, "Dir"},
		{"owner with colon", Config{Params: owned("root:root", "root")}, "Owner"},
		{"owner with space", Config{Params: owned("jupyter hub", "root")}, "Owner"},
		{"owner with dash first", Config{Params: owned("-R", "root")}, "Owner"},
		{"numeric owner", Config{Params: owned("1000", "root")}, "Owner"},
		{"long owner", Config{Params: owned(strings.Repeat("a", 33), "root")}, "Owner"},
		{"group with quote", Config{Params: owned("root", "a'b")}, "Group"},
		{"hub unit without suffix", Config{HubUnit: "jupyterhub"}, "HubUnit"},
		{"hub unit with slash", Config{HubUnit: "../jupyterhub.service"}, "HubUnit"},
		{"hub unit with space", Config{HubUnit: "jupyter hub.service"}, "HubUnit"},
		{"hub unit template without instance", Config{HubUnit: "jupyterhub@.service"}, "HubUnit"},
		{"relative identity source", Config{IdentitySources: plain("/etc/machine-id", "machine-id")}, "IdentitySources"},
		{"identity source with quote", Config{IdentitySources: plain("/etc/machine'-id")}, "IdentitySources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := withDefaults(tt.c).Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("Validate = %v, want a ConfigError for %s", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+" ") {
				t.Errorf("error %q does not start with the field name", err)
			}
			_, rerr := Render(withDefaults(tt.c))
			switch {
			case tt.c.Dir != "/" && SystemDirProblem(tt.c.Dir) != "":
				// Where the directory may be is the front ends' check:
				// init renders the script it runs under its --root.
				if rerr != nil {
					t.Errorf("Render refused a system directory: %v", rerr)
				}
				if !strings.Contains(err.Error(), "use a directory of its own, e.g. /srv/jupyterhub") {
					t.Errorf("error %q names no fix", err)
				}
			case rerr == nil:
				t.Error("Render accepted what Validate refuses")
			}
		})
	}
}

func TestShQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/jupyterhub": `'/srv/jupyterhub'`,
		"it's":            `'it'\''s'`,
		"":                `''`,
	} {
		if got := shQuote(in); got != want {
			t.Errorf("shQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRenderFiles(t *testing.T) {
	files, err := Render(withDefaults(Config{HubUnit: "hub@main.service", Dir: "/data/secrets", Params: owned("jupyterhub", "jupyter")}))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path string
		mode os.FileMode
		link string
	}{
		{layout.ScriptPath, 0o755, ""},
		{layout.UnitPath, 0o644, ""},
		{"/etc/systemd/system/hub@main.service.d/" + layout.DropInName, 0o644, ""},
		{layout.WantsLink, os.ModeSymlink | 0o777, layout.UnitPath},
	}
	if len(files) != len(want) {
		t.Fatalf("Render returned %d files, want %d", len(files), len(want))
	}
	for i, w := range want {
		f := files[i]
		if f.Path != w.path || f.Mode != w.mode || f.LinkTarget != w.link {
			t.Errorf("file %d = {%s %v %q}, want {%s %v %q}", i, f.Path, f.Mode, f.LinkTarget, w.path, w.mode, w.link)
		}
		if (w.link == "") == (len(f.Data) == 0) {
			t.Errorf("%s: %d bytes of data", f.Path, len(f.Data))
		}
	}

	unit := string(files[1].Data)
	for _, line := range []string{
		"After=local-fs.target systemd-random-seed.service cloud-init.service cloud-init-network.service",
		"Before=hub@main.service",
		"RequiresMountsFor=/data/secrets",
		"Type=oneshot",
		"RemainAfterExit=yes",
		"ExecStart=" + layout.ScriptPath,
		"ReadWritePaths=-/data/secrets",
		"WantedBy=multi-user.target",
	} {
		if !hasLine(unit, line) {
			t.Errorf("unit lacks the line %q:\n%s", line, unit)
		}
	}
	if hasLine(unit, "DefaultDependencies=no") {
		t.Error("unit drops the default dependencies (shutdown ordering, sysinit.target)")
	}
	dropIn := string(files[2].Data)
	for _, line := range []string{"[Unit]", "Requires=" + layout.UnitName, "After=" + layout.UnitName} {
		if !hasLine(dropIn, line) {
			t.Errorf("drop-in lacks the line %q:\n%s", line, dropIn)
		}
	}
	script := string(files[0].Data)
	for _, line := range []string{"#!/bin/sh", "dir='/data/secrets'", "owner='jupyterhub'", "group='jupyter'"} {
		if !hasLine(script, line) {
			t.Errorf("script lacks the line %q", line)
		}
	}
	if strings.Contains(script, "set -x") {
		t.Error("the script traces itself; a trace would print the secrets")
	}
}

func hasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// TestRenderPure: the same Config always renders the same bytes, whatever the
// machine, so the provisioner can upload what the tests checked.
func TestRenderPure(t *testing.T) {
	a, err := Render(withDefaults(Config{}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(withDefaults(Config{Dir: layout.DefaultDir, Params: owned("root", "root"), HubUnit: layout.DefaultHubUnit, IdentitySources: DefaultIdentitySources}))
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s renders differently with explicit defaults", a[i].Path)
		}
	}
}

// TestGolden pins the default payload; run with -update after a deliberate
// change and read the diff.
func TestGolden(t *testing.T) {
	files, err := Render(withDefaults(Config{}))
	if err != nil {
		t.Fatal(err)
	}
	hex := regexp.MustCompile(`[0-9a-f]{32,}`)
	for _, f := range files[:3] {
		golden := filepath.Join("testdata", "default", filepath.FromSlash(f.Path[1:]))
		if hex.Match(f.Data) {
			t.Errorf("%s holds a long hex string; the payload must hold no secret", f.Path)
		}
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test . -run Golden -update to write it)", err)
		}
		if !bytes.Equal(f.Data, want) {
			t.Errorf("%s differs from %s; if that is intended, run go test . -run Golden -update and review the diff", f.Path, golden)
		}
	}
}

// TestSystemdVerify runs systemd-analyze verify on the installed payload, in
// a root that has the host's system units (for sysinit.target and friends)
// and a stand-in hub unit, so the drop-in is loaded too.
func TestSystemdVerify(t *testing.T) {
	why := "systemd-analyze verify checks the rendered units (Debian package systemd)"
	analyze := testenv.NeedTool(t, "systemd-analyze", why)
	const systemUnits = "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(systemUnits, "sysinit.target")); err != nil {
		testenv.Missing(t, fmt.Sprintf("systemd's units (%v)", err), why)
	}
	for _, c := range []Config{withDefaults(Config{}), {Dir: "/data/hub-secrets", HubUnit: "hub@main.service", Params: owned("jupyterhub", "jupyterhub")}} {
		c = c.WithDefaults()
		t.Run(c.HubUnit, func(t *testing.T) {
			root := t.TempDir()
			if err := os.CopyFS(filepath.Join(root, systemUnits), os.DirFS(systemUnits)); err != nil {
				t.Fatal(err)
			}
			hub := "[Unit]\nDescription=stand-in hub\n[Service]\nExecStart=" + layout.ScriptPath + "\n"
			mustMkdir(t, filepath.Join(root, layout.UnitDir))
			must(t, os.WriteFile(filepath.Join(root, layout.UnitDir, c.HubUnit), []byte(hub), 0o644))
			files, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := Install(root, files); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", "--root="+root, layout.UnitName, c.HubUnit).CombinedOutput()
			// verify exits 0 on unknown keys and bad values, which it
			// only prints: any output is a failure.
			if err != nil || len(out) > 0 {
				t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
			}
		})
	}
}

func TestInstall(t *testing.T) {
	root := t.TempDir()
	files, err := Render(withDefaults(Config{}))
	if err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o077) // Install must not depend on the umask
	defer syscall.Umask(old)
	for range 2 { // the second time replaces
		if err := Install(root, files); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		p := filepath.Join(root, f.Path)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != f.Mode {
			t.Errorf("%s: mode %v, want %v", f.Path, fi.Mode(), f.Mode)
		}
		if f.LinkTarget != "" {
			if got, _ := os.Readlink(p); got != f.LinkTarget {
				t.Errorf("%s -> %s, want %s", f.Path, got, f.LinkTarget)
			}
			continue
		}
		if got, _ := os.ReadFile(p); !bytes.Equal(got, f.Data) {
			t.Errorf("%s: content differs", f.Path)
		}
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), layout.TempPrefix) {
			t.Errorf("temporary file left: %s", p)
		}
		if d.IsDir() {
			if fi, _ := d.Info(); fi.Mode().Perm() != 0o755 && p != root {
				t.Errorf("%s: mode %v, want 0755", p, fi.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInstallRefuses(t *testing.T) {
	files, err := Render(withDefaults(Config{}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, root, outside string)
		files []File
		want  string
	}{
		{"symlinked parent", func(t *testing.T, root, outside string) {
			mustMkdir(t, filepath.Join(root, "etc"))
			must(t, os.Symlink(outside, filepath.Join(root, "etc/systemd")))
		}, files, "symbolic link"},
		{"relative symlinked parent inside root", func(t *testing.T, root, outside string) {
			mustMkdir(t, filepath.Join(root, "usr/lib/systemd"))
			mustMkdir(t, filepath.Join(root, "etc"))
			must(t, os.Symlink("../usr/lib/systemd", filepath.Join(root, "etc/systemd")))
		}, files, "symbolic link"},
		{"parent is a file", func(t *testing.T, root, outside string) {
			mustMkdir(t, filepath.Join(root, "etc"))
			must(t, os.WriteFile(filepath.Join(root, "etc/systemd"), nil, 0o644))
		}, files, "not a directory"},
		{"target is a directory", func(t *testing.T, root, outside string) {
			mustMkdir(t, filepath.Join(root, layout.UnitPath, "x"))
		}, files[1:2], "directory"},
		{"relative path", func(*testing.T, string, string) {}, []File{{Path: "etc/x", Mode: 0o644}}, "absolute"},
		{"escaping path", func(*testing.T, string, string) {}, []File{{Path: "/etc/../../x", Mode: 0o644}}, "absolute clean"},
		{"device mode", func(*testing.T, string, string) {}, []File{{Path: "/etc/x", Mode: os.ModeDevice | 0o644}}, "neither"},
		{"link without target", func(*testing.T, string, string) {}, []File{{Path: "/etc/x", Mode: os.ModeSymlink}}, "target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			tt.setup(t, root, outside)
			err := Install(root, tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Install = %v, want an error containing %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(outside); len(entries) > 0 {
				t.Errorf("Install wrote outside the root: %v", entries)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
}
