package provisioner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

// verify collects the image's facts with one command (the collector staged
// by the install script) and evaluates the image profile in the plugin.
func (p *Provisioner) verify(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, collectPath string, generatedData map[string]interface{}, user string) error {
	c := &p.config
	ui.Say("Verifying the image (profile image)")
	res, err := p.run(ctx, ui, comm, collectPath, generatedData, false)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := sudoError(res, user); err != nil {
		return err
	}
	if res.status != 0 {
		return fmt.Errorf("verify: the fact collection exited with status %d (see the output above)", res.status)
	}
	fsys, err := source.ParseRemote(res.stdout.Bytes())
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	host, _ := generatedData["Host"].(string)
	doc, err := source.Collect(ctx, fsys, facts.Source{Kind: "packer", Root: "/", Host: host}, source.Options{Dir: c.Directory, HubUnit: c.HubUnit})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	rep, err := p.engine.Evaluate(ctx, doc)
	if err != nil {
		return fmt.Errorf("verify: evaluate the policy: %w", err)
	}
	rep.Sort()
	opts := report.Options{Version: version.PluginVersion.FormattedVersion()}

	var saveErr error
	if c.ReportFile != "" {
		saveErr = saveReport(c.ReportFile, c.ReportFormat, rep, opts)
		if saveErr == nil {
			ui.Say(fmt.Sprintf("Saved the %s report to %s", c.ReportFormat, c.ReportFile))
		}
	}

	var text bytes.Buffer
	if err := report.Write("text", &text, []report.Report{rep}, opts); err != nil {
		return fmt.Errorf("verify: write the report: %w", err)
	}
	failed := rep.Summary.Deny > 0 || len(doc.Errors) > 0
	for _, line := range strings.Split(strings.TrimRight(text.String(), "\n"), "\n") {
		if failed {
			ui.Error(line)
		} else {
			ui.Say(line)
		}
	}
	// Nothing unobserved passes, as in `hubsecrets check`.
	for _, msg := range doc.Errors {
		ui.Error("could not check " + msg)
	}
	switch {
	case len(doc.Errors) > 0:
		return fmt.Errorf("verify: %d path(s) could not be checked (see above)", len(doc.Errors))
	case rep.Summary.Deny > 0:
		return fmt.Errorf("verify: the image fails %d check(s) of the image profile (report above)", rep.Summary.Deny)
	case saveErr != nil:
		return saveErr
	}
	ui.Say(fmt.Sprintf("Verified: no deny findings, %d warning(s)", rep.Summary.Warn))
	return nil
}

func saveReport(name, format string, rep report.Report, opts report.Options) error {
	var buf bytes.Buffer
	if err := report.Write(format, &buf, []report.Report{rep}, opts); err != nil {
		return fmt.Errorf("report_file: %w", err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report_file: %w", err)
	}
	return nil
}
