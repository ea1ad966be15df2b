package provisioner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/runner"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

// verify collects the image's facts with one command (the collector staged
// by the install script) and runs the image profile on them in the plugin,
// through internal/runner as `hubsecrets check --profile image` does: the
// same verdict, the same text report, report_file written as --output is.
func (p *Provisioner) verify(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, collectPath string, generatedData map[string]interface{}, user string) error {
	c := &p.config
	ui.Say("Verifying the image (profile image)")
	host, _ := generatedData["Host"].(string)
	src := runner.Source{Host: host, Root: "/", Kind: "packer", Collect: func(ctx context.Context) (*facts.Document, error) {
		return p.collect(ctx, ui, comm, collectPath, generatedData, user)
	}}
	results := runner.Run(ctx, p.engine, []runner.Source{src}, 1)
	for _, w := range runner.Waive(results, p.waivers, time.Now()) {
		ui.Error("warning: " + w)
	}
	res := results[0]
	reports := []report.Report{res.Report}
	opts := report.Options{Version: version.PluginVersion.FormattedVersion(), PolicyRevision: p.engine.PolicyRevision()}

	// The report is saved whatever the verdict: a failed build is when CI
	// needs it most. A failed save fails the build in both cases.
	var saveErr error
	if c.ReportFile != "" {
		if err := (runner.Output{Format: c.ReportFormat, Options: opts}).WriteFile(c.ReportFile, reports); err != nil {
			saveErr = fmt.Errorf("report_file: %w", err)
		} else {
			ui.Say(fmt.Sprintf("Saved the %s report to %s", c.ReportFormat, c.ReportFile))
		}
	}

	// No facts: the report_file says the image was not checked, and why.
	if res.Err != nil {
		return errors.Join(fmt.Errorf("verify: %w", res.Err), saveErr)
	}

	var text bytes.Buffer
	if err := (runner.Output{Format: "text", Options: opts}).Write(&text, reports); err != nil {
		return errors.Join(fmt.Errorf("verify: %w", err), saveErr)
	}
	code := res.Code(false)
	for _, line := range strings.Split(strings.TrimRight(text.String(), "\n"), "\n") {
		if code != runner.ExitOK {
			ui.Error(line)
		} else {
			ui.Say(line)
		}
	}
	// Nothing unobserved passes, as in `hubsecrets check`: the text report
	// lists it (NOT CHECKED) and the build fails.
	var verifyErr error
	switch code {
	case runner.ExitFailure:
		verifyErr = fmt.Errorf("verify: %d path(s) could not be checked (see above)", len(res.Doc.Errors))
	case runner.ExitDenied:
		verifyErr = fmt.Errorf("verify: the image fails %d check(s) of the image profile (report above)", res.Report.Summary.Deny)
	}
	if verifyErr != nil || saveErr != nil {
		return errors.Join(verifyErr, saveErr)
	}
	msg := fmt.Sprintf("Verified: no deny findings, %d warning(s)", res.Report.Summary.Warn)
	if n := res.Report.Summary.Waived; n > 0 {
		msg += fmt.Sprintf(", %d waived", n)
	}
	ui.Say(msg)
	return nil
}

// collect runs the staged collector and reads its output into a facts
// document.
func (p *Provisioner) collect(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, collectPath string, generatedData map[string]interface{}, user string) (*facts.Document, error) {
	c := &p.config
	res, err := p.run(ctx, ui, comm, collectPath, generatedData, false)
	if err != nil {
		return nil, err
	}
	if err := sudoError(res, user); err != nil {
		return nil, err
	}
	if res.status != 0 {
		return nil, fmt.Errorf("the fact collection exited with status %d (see the output above)", res.status)
	}
	fsys, err := source.ParseRemote(res.stdout.Bytes())
	if err != nil {
		return nil, err
	}
	host, _ := generatedData["Host"].(string)
	return source.Collect(ctx, fsys, facts.Source{Kind: "packer", Root: "/", Host: host}, source.Options{Dir: c.Directory, HubUnit: c.HubUnit})
}

// checkReportFile refuses, in Prepare, a report_file that no build could
// write: one under a path that exists and is not a directory, one whose
// directory is a symbolic link, or where a directory, a symbolic link or
// another non-file stands. Missing directories are fine: they are made
// when the report is written.
func checkReportFile(name string) error {
	if dir := filepath.Dir(name); dir != "." {
		if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(dir)
			if err != nil {
				real = "the directory it points to"
			}
			return fmt.Errorf("report_file %s: its directory %s is a symbolic link on the build host, which a report is never written through; name the file in %s", name, dir, real)
		}
	}
	if fi, err := os.Lstat(name); err == nil {
		switch {
		case fi.IsDir():
			return fmt.Errorf("report_file %s: is a directory on the build host; name a file in it", name)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("report_file %s: is a symbolic link on the build host; a report is never written through one: name the file itself", name)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("report_file %s: exists on the build host and is not a regular file; choose another report_file", name)
		}
	}
	// The nearest ancestor that exists must be a directory.
	for dir := filepath.Dir(name); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err == nil:
			return fmt.Errorf("report_file %s: %s exists on the build host and is not a directory; move it or choose another report_file", name, dir)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return nil // e.g. permission denied: the write will say so
		case filepath.Dir(dir) == dir:
			return nil
		}
	}
}
