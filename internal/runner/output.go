package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/atomicfile"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

// Output says how reports are written.
type Output struct {
	// Format is a name in report.Formats.
	Format  string
	Options report.Options
	// Lines writes json as JSON Lines, one compact object a report, even
	// when there is one report: set it when several sources were asked
	// for, so a consumer reads lines however many answered.
	Lines bool
}

// Write writes reports to w.
func (o Output) Write(w io.Writer, reports []report.Report) error {
	if err := o.write(w, reports); err != nil {
		return fmt.Errorf("write %s report: %w", o.Format, err)
	}
	return nil
}

func (o Output) write(w io.Writer, reports []report.Report) error {
	if o.Format != "json" || !o.Lines || len(reports) != 1 {
		return report.Write(o.Format, w, reports, o.Options)
	}
	// report's json indents a lone report; a fleet's consumer reads lines.
	var b bytes.Buffer
	if err := report.Write(o.Format, &b, reports, o.Options); err != nil {
		return err
	}
	var line bytes.Buffer
	if err := json.Compact(&line, b.Bytes()); err != nil {
		return err
	}
	line.WriteByte('\n')
	_, err := w.Write(line.Bytes())
	return err
}

// ReportPerm is the mode of a report file: reports hold no secret.
const ReportPerm = 0o644

// WriteFile writes reports to the file name, never in colour, as
// internal/atomicfile writes: the report is rendered in full first, then
// written to a temporary file beside name, synced and renamed over it, so
// on any error (a full disk, a failing format) the previous file is left
// as it was. Missing parent directories are made (0755). A symbolic link
// or anything but a regular file at name, or a symbolic link as its
// directory, is refused, never followed or replaced. The file gets mode
// 0644 and the caller's owner.
func (o Output) WriteFile(name string, reports []report.Report) error {
	o.Options.Color = false
	var buf bytes.Buffer
	if err := o.Write(&buf, reports); err != nil {
		return err
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%s: create its directory: %w", name, err)
		}
	}
	// UID and GID -1: the caller's, as os.Create gives (zero would be root).
	return atomicfile.Write(name, buf.Bytes(), atomicfile.Options{Perm: ReportPerm, UID: -1, GID: -1})
}
