package provisioner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/checktimer"
)

// TestProvisionInstallsCheckTimer: with install_check_timer the image gets
// the same units `hubsecrets init --install-timer` installs (one renderer),
// enabled, and the metrics directory; a missing check_binary is a warning,
// and the image still verifies.
func TestProvisionInstallsCheckTimer(t *testing.T) {
	for _, withBinary := range []bool{false, true} {
		target, remote := newTarget(t)
		if withBinary {
			bin := filepath.Join(target.root, "opt/hs/hubsecrets")
			os.MkdirAll(filepath.Dir(bin), 0o755)
			os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
		}
		p := prepared(t, map[string]interface{}{"remote_dir": remote, "install_check_timer": true,
			"check_timer_interval": "*:0/20", "check_metrics_dir": "/var/lib/node_exporter/textfile", "check_binary": "/opt/hs/hubsecrets"})
		ui := newUI()
		if err := p.Provision(context.Background(), ui, target.comm(), nil); err != nil {
			t.Fatalf("Provision: %v\n%s", err, ui.all())
		}
		want, err := checktimer.Render(checktimer.Config{Interval: "*:0/20", MetricsDir: "/var/lib/node_exporter/textfile",
			Binary: "/opt/hs/hubsecrets", Dir: "/srv/jupyterhub", HubUnit: "jupyterhub.service"})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range want {
			p := filepath.Join(target.root, f.Path)
			if f.LinkTarget != "" {
				if got, err := os.Readlink(p); err != nil || got != f.LinkTarget {
					t.Errorf("%s: link to %q (%v), want %q", f.Path, got, err, f.LinkTarget)
				}
				continue
			}
			got, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, f.Data) || mode(t, p) != 0o644 {
				t.Errorf("%s: not as checktimer renders it (mode %v, %v)", f.Path, mode(t, p), err)
			}
		}
		if got := mode(t, filepath.Join(target.root, "var/lib/node_exporter/textfile")); got != os.ModeDir|0o755 {
			t.Errorf("metrics directory: %v, want a 0755 directory", got)
		}
		warned := strings.Contains(ui.errs.String(), "check_binary /opt/hs/hubsecrets is not in the image")
		if warned == withBinary {
			t.Errorf("binary in the image %v, warned %v:\n%s", withBinary, warned, ui.all())
		}
		if !strings.Contains(ui.all(), "Verified") {
			t.Errorf("no verification:\n%s", ui.all())
		}
	}
}

func TestPrepareCheckTimer(t *testing.T) {
	for _, tt := range []struct {
		raw  map[string]interface{}
		want string
	}{
		{map[string]interface{}{"check_metrics_dir": "/x"}, "check_metrics_dir: a setting of the check timer; add install_check_timer = true"},
		{map[string]interface{}{"install_check_timer": true, "check_timer_interval": "hourly\n[Service]"}, "check_timer_interval"},
		{map[string]interface{}{"install_check_timer": true, "check_timer_interval": "fortnightly"}, `check_timer_interval: "fortnightly" is not a calendar event`},
		{map[string]interface{}{"install_check_timer": true, "check_metrics_dir": "relative"}, `check_metrics_dir "relative"`},
		{map[string]interface{}{"install_check_timer": true, "check_binary": "/usr/bin/hub%n"}, `check_binary "/usr/bin/hub%n"`},
	} {
		err := new(Provisioner).Prepare(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want an error with %q", tt.raw, err, tt.want)
		}
	}
	p := prepared(t, map[string]interface{}{"install_check_timer": true})
	if c := p.config; c.CheckTimerInterval != "hourly" || c.CheckMetricsDir != "/var/lib/prometheus/node-exporter" || c.CheckBinary != "/usr/local/bin/hubsecrets" || len(p.timer) != 3 {
		t.Errorf("defaults: %q %q %q, %d files", c.CheckTimerInterval, c.CheckMetricsDir, c.CheckBinary, len(p.timer))
	}
}
