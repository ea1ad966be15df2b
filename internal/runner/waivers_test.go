package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/waiver"
)

// Waived denials do not fail the run; once the waiver expires they do
// again, with a warning.
func TestWaiveChangesTheVerdict(t *testing.T) {
	eng := instanceEngine(t)
	doc := collectTree(t, testtree.Tutorial(t))
	run := func() []Result { return Run(context.Background(), eng, []Source{fixed("", doc, nil)}, 1) }
	if Code(run(), false) != ExitDenied {
		t.Fatal("the tutorial's tree passes without waivers")
	}
	// One waiver per denied rule.
	var ws waiver.Set
	for _, f := range run()[0].Report.Findings {
		if f.Severity == report.SeverityDeny {
			ws.Waivers = append(ws.Waivers, waiver.Waiver{ID: f.ID, Reason: "accepted", Expires: "2027-06-30", Entry: "w.yaml: waivers[n]"})
		}
	}
	day := func(s string) time.Time { d, _ := time.Parse(waiver.DateLayout, s); return d }

	results := run()
	if w := Waive(results, &ws, day("2027-06-30")); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	if Code(results, false) != ExitOK || results[0].Report.Summary.Deny != 0 || results[0].Report.Summary.Waived == 0 {
		t.Errorf("waived: code %d, summary %+v; want 0 and the denials waived", Code(results, false), results[0].Report.Summary)
	}

	results = run()
	w := Waive(results, &ws, day("2027-07-01"))
	if Code(results, false) != ExitDenied || len(w) == 0 || !strings.Contains(w[0], "expired on 2027-06-30 and no longer waives") {
		t.Errorf("expired: code %d, warnings %q; want 1 and a warning", Code(results, false), w)
	}
	if len(results[0].Report.Warnings) != len(w) {
		t.Errorf("report warnings %q, want %q", results[0].Report.Warnings, w)
	}

	if Waive(results, nil, time.Now()) != nil {
		t.Error("no waivers, warnings")
	}
}
