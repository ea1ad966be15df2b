package checktimer

import (
	"bytes"
	"flag"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden keeps the rendered default units in testdata/default, to
// review in a diff.
func TestGolden(t *testing.T) {
	files, err := Render(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.LinkTarget != "" {
			continue
		}
		golden := filepath.Join("testdata", "default", filepath.FromSlash(f.Path))
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
			t.Fatalf("%v (run go test . -update to write it)", err)
		}
		if !bytes.Equal(f.Data, want) {
			t.Errorf("%s differs from %s; if intended, run go test . -update and review the diff", f.Path, golden)
		}
	}
}

func TestRender(t *testing.T) {
	c := Config{Interval: "*:0/15", MetricsDir: "/srv/metrics/textfile", Binary: "/opt/hubsecrets/bin/hubsecrets",
		Dir: "/data/hub-secrets", HubUnit: "hub@main.service"}
	files, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || files[2].Path != "/etc/systemd/system/timers.target.wants/hubsecrets-check.timer" || files[2].LinkTarget != TimerPath {
		t.Fatalf("want service, timer and the timers.target.wants link, got %+v", files)
	}
	svc, timer := string(files[0].Data), string(files[1].Data)
	for _, want := range []string{
		"ExecStart=/opt/hubsecrets/bin/hubsecrets check --dir /data/hub-secrets --hub-unit hub@main.service --format prometheus --output /srv/metrics/textfile/hubsecrets.prom\n",
		"ReadWritePaths=/srv/metrics/textfile\n", "SuccessExitStatus=1\n", "ProtectSystem=strict\n",
		"RequiresMountsFor=/data/hub-secrets /srv/metrics/textfile\n",
	} {
		if !strings.Contains(svc, want) {
			t.Errorf("service lacks %q:\n%s", want, svc)
		}
	}
	for _, want := range []string{"OnCalendar=*:0/15\n", "RandomizedDelaySec=5min\n", "Persistent=yes\n", "WantedBy=timers.target\n"} {
		if !strings.Contains(timer, want) {
			t.Errorf("timer lacks %q:\n%s", want, timer)
		}
	}
}

func TestProblems(t *testing.T) {
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{Interval: "hourly\nExecStart=/bin/sh"}, "--interval"},
		{Config{Interval: "%H"}, "--interval"},
		{Config{MetricsDir: "relative/dir"}, "--metrics-dir"},
		{Config{MetricsDir: "/var/lib/prometheus/../x"}, "--metrics-dir"},
		{Config{MetricsDir: "/var/lib/node exporter"}, "--metrics-dir"},
		{Config{MetricsDir: "/"}, "--metrics-dir"},
		{Config{Binary: "/usr/bin/hub%isecrets"}, "Binary"},
		{Config{Dir: `/srv/"x"`}, "Dir"},
		{Config{HubUnit: "jupyterhub"}, "HubUnit"},
	} {
		errs := tt.c.Problems(func(f string) string {
			return map[string]string{"Interval": "--interval", "MetricsDir": "--metrics-dir"}[f] + f
		})
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want) {
			t.Errorf("%+v: got %v, want one error naming %s", tt.c, errs, tt.want)
		}
		if _, err := Render(tt.c); err == nil {
			t.Errorf("%+v: Render accepted it", tt.c)
		}
	}
	if errs := (Config{}).Problems(func(f string) string { return f }); len(errs) != 0 {
		t.Errorf("defaults: %v", errs)
	}
}

// TestSystemdVerify has systemd-analyze verify the installed units, default
// and not, in a root with the host's system units and the executables they
// name; and systemd-analyze calendar each interval.
func TestSystemdVerify(t *testing.T) {
	analyze := testenv.NeedTool(t, "systemd-analyze", "systemd itself verifies the rendered units (Debian package systemd)")
	const systemUnits = "/usr/lib/systemd/system"
	for _, c := range []Config{{}, {Interval: "*:0/15", MetricsDir: "/srv/metrics", Binary: "/opt/hs/hubsecrets", Dir: "/data/s", HubUnit: "hub@main.service"}} {
		c = c.WithDefaults()
		t.Run(c.Interval, func(t *testing.T) {
			root := t.TempDir()
			if err := os.CopyFS(filepath.Join(root, systemUnits), os.DirFS(systemUnits)); err != nil {
				t.Fatal(err)
			}
			for _, exe := range []string{c.Binary, "/bin/mkdir"} {
				p := filepath.Join(root, exe)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			files, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := firstboot.Install(root, files); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", "--root="+root, TimerName, ServiceName).CombinedOutput()
			// verify exits 0 on unknown keys and bad values, which it only
			// prints: any output is a failure.
			if err != nil || len(out) > 0 {
				t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
			}
			if out, err := exec.Command(analyze, "calendar", c.Interval).CombinedOutput(); err != nil {
				t.Fatalf("systemd-analyze calendar %s: %v\n%s", c.Interval, err, out)
			}
		})
	}
}

func TestCheckCalendar(t *testing.T) {
	testenv.NeedTool(t, "systemd-analyze", "systemd itself parses the timer's calendar (Debian package systemd)")
	if err := CheckCalendar(t.Context(), "hourly"); err != nil {
		t.Error(err)
	}
	err := CheckCalendar(t.Context(), "hourlyish")
	if err == nil || !strings.Contains(err.Error(), `"hourlyish"`) {
		t.Errorf("hourlyish: %v, want an error naming it", err)
	}
}
