// Package checktimer renders hubsecrets-check.timer and its service, which
// run `hubsecrets check --format prometheus` on a host and write the result
// into node_exporter's textfile directory (docs/prometheus.md). `hubsecrets
// init --install-timer` installs them under a root with firstboot.Install;
// the provisioner's install_check_timer uploads the same files.
//
// Render is pure: it reads and writes nothing.
package checktimer

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"text/template"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// Defaults.
const (
	// DefaultInterval runs the check once an hour (a systemd calendar event).
	DefaultInterval = "hourly"
	// DefaultMetricsDir is Debian's and Ubuntu's node_exporter textfile
	// directory (prometheus-node-exporter's --collector.textfile.directory).
	DefaultMetricsDir = "/var/lib/prometheus/node-exporter"
	// DefaultBinary is where the service runs hubsecrets from.
	DefaultBinary = "/usr/local/bin/hubsecrets"
	// RandomizedDelay spreads the checks of a fleet over this window.
	RandomizedDelay = "5min"
)

// Unit names and the file the service writes in the metrics directory.
const (
	ServiceName = "hubsecrets-check.service"
	TimerName   = "hubsecrets-check.timer"
	OutputName  = "hubsecrets.prom"
)

// TimerPath is where the timer is installed; ServicePath the service;
// WantsLink enables the timer.
var (
	ServicePath = path.Join(layout.UnitDir, ServiceName)
	TimerPath   = path.Join(layout.UnitDir, TimerName)
	WantsLink   = path.Join(layout.UnitDir, "timers.target.wants", TimerName)
)

// Config is what the units are rendered from; a zero field takes its
// default.
type Config struct {
	// Interval is a systemd calendar event (OnCalendar=): hourly, daily,
	// *:0/15 (every 15 minutes). Default hourly.
	Interval string
	// MetricsDir is node_exporter's textfile directory; the service writes
	// OutputName there. Default DefaultMetricsDir.
	MetricsDir string
	// Binary is the hubsecrets executable on the host. Default DefaultBinary.
	Binary string
	// Dir and HubUnit are the secrets directory and the hub's unit, as the
	// first-boot payload has them; defaults layout.DefaultDir and
	// layout.DefaultHubUnit.
	Dir, HubUnit string
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&c.Interval, DefaultInterval)
	def(&c.MetricsDir, DefaultMetricsDir)
	def(&c.Binary, DefaultBinary)
	def(&c.Dir, layout.DefaultDir)
	def(&c.HubUnit, layout.DefaultHubUnit)
	return c
}

// A path goes into ExecStart= and RequiresMountsFor= unquoted: only
// characters that systemd reads as themselves (no space, quote, backslash
// or % specifier).
var (
	safePath = regexp.MustCompile(`^/[A-Za-z0-9._@+/-]*$`)
	// A calendar event: what OnCalendar= takes, on one line, no specifier.
	safeCalendar = regexp.MustCompile(`^[A-Za-z0-9:*/,.~ -]{1,100}$`)
	safeUnit     = regexp.MustCompile(`^[A-Za-z0-9:_.@-]+\.service$`)
)

// Problems returns every error in c (after defaults), each naming the
// field through name, the caller's name of it (a flag or an option).
func (c Config) Problems(name func(field string) string) []error {
	c = c.WithDefaults()
	var errs []error
	if !safeCalendar.MatchString(c.Interval) {
		errs = append(errs, fmt.Errorf("%s %q: want a systemd calendar event such as hourly, daily or *:0/15 (see man systemd.time)", name("Interval"), c.Interval))
	}
	for _, p := range []struct{ field, value, example string }{
		{"MetricsDir", c.MetricsDir, DefaultMetricsDir},
		{"Binary", c.Binary, DefaultBinary},
		{"Dir", c.Dir, layout.DefaultDir},
	} {
		if !safePath.MatchString(p.value) || path.Clean(p.value) != p.value || p.value == "/" {
			errs = append(errs, fmt.Errorf("%s %q: want an absolute, clean path of letters, digits and ._@+-/ only, such as %s", name(p.field), p.value, p.example))
		}
	}
	if !safeUnit.MatchString(c.HubUnit) {
		errs = append(errs, fmt.Errorf("%s %q: want a service unit name such as %s", name("HubUnit"), c.HubUnit, layout.DefaultHubUnit))
	}
	return errs
}

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Option("missingkey=error").ParseFS(templateFS, "templates/*.tmpl"))

type data struct {
	Config
	OutputFile, FirstBootUnit, RandomizedDelay string
}

// Render returns the service, the timer and the link that enables the
// timer, in the order they should be installed.
func Render(c Config) ([]firstboot.File, error) {
	if errs := c.Problems(func(f string) string { return f }); len(errs) > 0 {
		return nil, errs[0]
	}
	c = c.WithDefaults()
	d := data{Config: c, OutputFile: path.Join(c.MetricsDir, OutputName), FirstBootUnit: layout.UnitName, RandomizedDelay: RandomizedDelay}
	files := []firstboot.File{{Path: ServicePath, Mode: 0o644}, {Path: TimerPath, Mode: 0o644}}
	for i, name := range []string{"hubsecrets-check.service.tmpl", "hubsecrets-check.timer.tmpl"} {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, name, d); err != nil {
			return nil, fmt.Errorf("checktimer: render %s: %w", name, err)
		}
		files[i].Data = b.Bytes()
	}
	return append(files, firstboot.File{Path: WantsLink, Mode: os.ModeSymlink | 0o777, LinkTarget: TimerPath}), nil
}

// CheckCalendar asks systemd-analyze, where this machine has it, whether
// interval is a calendar event systemd reads: a timer with a bad one would
// never fire. Without systemd-analyze only Problems' syntax check stands.
func CheckCalendar(ctx context.Context, interval string) error {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return nil
	}
	if out, err := exec.CommandContext(ctx, analyze, "calendar", interval).CombinedOutput(); err != nil {
		return fmt.Errorf("%q is not a calendar event systemd reads: %s (see man systemd.time: hourly, daily, *:0/15)", interval, strings.TrimSpace(string(out)))
	}
	return nil
}
