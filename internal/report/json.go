package report

import (
	"encoding/json"
	"io"
)

func init() { Formats["json"] = writeJSON }

// writeJSON writes one report as an indented object, and several (a fleet
// scan) as JSON Lines, one compact object per report, so a collector can
// stream them.
func writeJSON(w io.Writer, reports []Report, _ Options) error {
	enc := json.NewEncoder(w)
	// Messages and fixes hold shell commands ("2>/dev/null", "&&"): keep
	// them readable rather than \u003e-escaped.
	enc.SetEscapeHTML(false)
	if len(reports) == 1 {
		enc.SetIndent("", "  ")
	}
	for _, r := range sorted(reports) {
		if r.Findings == nil {
			r.Findings = []Finding{} // "findings": [] for a passing report
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
