package report

import (
	"encoding/json"
	"io"
)

func init() { Formats["json"] = writeJSON }

// jsonReport is a report as json writes it: the Report's fields, and the
// tool and policy revision that produced it.
type jsonReport struct {
	Report
	Tool jsonTool `json:"tool"`
}

type jsonTool struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	PolicyRevision string `json:"policy_revision,omitempty"`
}

// writeJSON writes one report as an indented object, and several (a fleet
// scan) as JSON Lines, one compact object per report, so a collector can
// stream them. A source that could not be scanned is a line too, with its
// "errors" and no findings.
func writeJSON(w io.Writer, reports []Report, opts Options) error {
	enc := json.NewEncoder(w)
	// Messages and fixes hold shell commands ("2>/dev/null", "&&"): keep
	// them readable rather than \u003e-escaped.
	enc.SetEscapeHTML(false)
	if len(reports) == 1 {
		enc.SetIndent("", "  ")
	}
	tool := jsonTool{Name: toolName, Version: opts.Version, PolicyRevision: opts.PolicyRevision}
	for _, r := range sorted(reports) {
		if r.Findings == nil {
			r.Findings = []Finding{} // "findings": [] for a passing report
		}
		if err := enc.Encode(jsonReport{Report: r, Tool: tool}); err != nil {
			return err
		}
	}
	return nil
}
