package provisioner

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/checktimer"
)

// timerFields name checktimer.Config's fields as the HCL options.
var timerFields = map[string]string{
	"Interval": "check_timer_interval", "MetricsDir": "check_metrics_dir", "Binary": "check_binary",
	"Dir": "directory", "HubUnit": "hub_unit",
}

// prepareTimer renders hubsecrets-check.timer with install_check_timer, for
// the payload's directory and hub unit; its settings without it are an
// error rather than silently unused.
func (p *Provisioner) prepareTimer() error {
	c := &p.config
	if !c.InstallCheckTimer {
		for field, v := range map[string]string{"check_timer_interval": c.CheckTimerInterval, "check_metrics_dir": c.CheckMetricsDir, "check_binary": c.CheckBinary} {
			if v != "" {
				return fmt.Errorf("%s: a setting of the check timer; add install_check_timer = true, or remove it", field)
			}
		}
		return nil
	}
	tc := checktimer.Config{Interval: c.CheckTimerInterval, MetricsDir: c.CheckMetricsDir, Binary: c.CheckBinary,
		Dir: p.payload.Dir, HubUnit: p.payload.HubUnit}
	if errs := tc.Problems(func(f string) string { return timerFields[f] }); len(errs) > 0 {
		return errors.Join(errs...)
	}
	tc = tc.WithDefaults()
	if err := checktimer.CheckCalendar(context.Background(), tc.Interval); err != nil {
		return fmt.Errorf("check_timer_interval: %w", err)
	}
	c.CheckTimerInterval, c.CheckMetricsDir, c.CheckBinary = tc.Interval, tc.MetricsDir, tc.Binary
	files, err := checktimer.Render(tc)
	if err != nil {
		return err
	}
	p.timer = files
	return nil
}

// timerScript is the install script's part for the timer, after its files
// are put: the metrics directory made (0755, root's, as node_exporter's
// package makes it), and a warning when the binary the service runs is
// not in the image yet.
func timerScript(metricsDir, binary string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(umask 022 && mkdir -p -- \"$R\"%s)\n", shQuote(metricsDir))
	fmt.Fprintf(&b, "say %s\n", shQuote(fmt.Sprintf("enabled %s: it writes %s", checktimer.TimerName, path.Join(metricsDir, checktimer.OutputName))))
	fmt.Fprintf(&b, "[ -x \"$R\"%[1]s ] || printf '%%s\\n' %[2]s >&2\n", shQuote(binary),
		shQuote("hubsecrets: warning: check_binary "+binary+" is not in the image (yet): the check timer's service fails until hubsecrets is installed there"))
	return b.String()
}
