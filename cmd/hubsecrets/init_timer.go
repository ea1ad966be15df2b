package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/checktimer"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
)

// timerFlags are init's --install-timer and its settings: the continuous
// check of docs/prometheus.md.
type timerFlags struct {
	install bool
	cfg     checktimer.Config
}

const initTimerAbout = `
With --install-timer it also installs and enables hubsecrets-check.timer: an
--interval check (hourly by default, at a random point of 5 minutes) that
writes Prometheus metrics for node_exporter's textfile collector into
--metrics-dir (see docs/prometheus.md). The service runs --check-binary,
which must be in place under the root.`

func (t *timerFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&t.install, "install-timer", false, "also install and enable hubsecrets-check.timer, a periodic check writing Prometheus metrics")
	fs.StringVar(&t.cfg.Interval, "interval", checktimer.DefaultInterval, "with --install-timer: how often to check, a systemd calendar `EVENT` (hourly, daily, *:0/15)")
	fs.StringVar(&t.cfg.MetricsDir, "metrics-dir", checktimer.DefaultMetricsDir, "with --install-timer: node_exporter's textfile `DIR`; the check writes hubsecrets.prom there")
	fs.StringVar(&t.cfg.Binary, "check-binary", checktimer.DefaultBinary, "with --install-timer: the hubsecrets `PATH` the timer's service runs")
}

// validate checks the timer flags before anything is planned.
func (t *timerFlags) validate(ctx context.Context, fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !t.install {
		for _, name := range []string{"interval", "metrics-dir", "check-binary"} {
			if set[name] {
				return fmt.Errorf("--%s is a setting of the timer: add --install-timer", name)
			}
		}
		return nil
	}
	flagName := map[string]string{"Interval": "--interval", "MetricsDir": "--metrics-dir", "Binary": "--check-binary"}
	if errs := t.cfg.Problems(func(f string) string { return flagName[f] }); len(errs) > 0 {
		return errs[0]
	}
	if err := checktimer.CheckCalendar(ctx, t.cfg.Interval); err != nil {
		return fmt.Errorf("--interval: %w", err)
	}
	return nil
}

// planTimer renders the timer for the secrets directory and hub unit in
// force, and checks that the service will find its binary.
func (in *initRun) planTimer() ([]firstboot.File, error) {
	if !in.f.timer.install {
		return nil, nil
	}
	c := in.f.timer.cfg
	c.Dir, c.HubUnit = in.cfg.Dir, in.cfg.HubUnit
	bin := in.at(c.Binary)
	fi, err := os.Stat(bin)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usageErr{fmt.Errorf("--check-binary: %s does not exist, and the timer's service runs it; install hubsecrets there first (sudo install -m 0755 %s %s) or name it", bin, selfOr("hubsecrets"), bin)}
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
		return nil, usageErr{fmt.Errorf("--check-binary: %s is not an executable file", bin)}
	}
	files, err := checktimer.Render(c)
	if err != nil {
		return nil, err
	}
	// The service makes the directory too; made here, node_exporter's
	// package finds it in place.
	if _, err := existingAncestor(filepath.Dir(in.at(c.MetricsDir))); err != nil {
		return nil, err
	}
	return files, nil
}

// selfOr is this program's path, for a command to copy it.
func selfOr(def string) string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return def
}

// startTimer tells a running systemd about the timer and starts it; without
// systemd (a container being built, a chroot) it starts at the next boot.
func (in *initRun) startTimer(ctx context.Context) {
	in.say("installed and enabled %s (%s; metrics in %s)", checktimer.TimerName, in.f.timer.cfg.Interval,
		filepath.Join(in.f.timer.cfg.MetricsDir, checktimer.OutputName))
	if err := os.MkdirAll(in.at(in.f.timer.cfg.MetricsDir), 0o755); err != nil {
		fmt.Fprintf(in.e.stderr, "hubsecrets init: warning: %v (the service makes it when it runs)\n", err)
	}
	if in.f.root != "/" {
		return
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return
	}
	for _, args := range [][]string{{"daemon-reload"}, {"start", checktimer.TimerName}} {
		if out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput(); err != nil {
			fmt.Fprintf(in.e.stderr, "hubsecrets init: warning: systemctl %s: %v %s\n", args[0], err, out)
			return
		}
	}
}

// wroteTimer is whether this run writes a file of the timer.
func (in *initRun) wroteTimer() bool {
	for _, f := range in.writeFiles {
		if f.Path == checktimer.ServicePath || f.Path == checktimer.TimerPath || f.Path == checktimer.WantsLink {
			return true
		}
	}
	return false
}
