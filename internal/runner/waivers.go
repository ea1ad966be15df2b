package runner

import (
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/waiver"
)

// Waive applies the waivers to the results' reports (internal/waiver), so
// Code, Reports and every format see the waived findings as waived: they
// are shown but fail nothing. It returns the warnings (expired waivers,
// waivers that match nothing) for the front end to print; each report
// carries those that concern it. A nil set changes nothing.
func Waive(results []Result, ws *waiver.Set, now time.Time) []string {
	if ws == nil {
		return nil
	}
	reports, warnings := ws.Apply(Reports(results), now)
	for i := range results {
		results[i].Report = reports[i]
	}
	return warnings
}
