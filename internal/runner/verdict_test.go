package runner

import (
	"errors"
	"slices"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

// The CI contract over every combination: never 0 when something could
// not be checked, whatever the findings; deny is 1; warn is 1 with strict.
func TestCode(t *testing.T) {
	for _, failed := range []string{"", "source error", "doc errors", "no document"} {
		for _, deny := range []int{0, 1} {
			for _, warn := range []int{0, 2} {
				for _, strict := range []bool{false, true} {
					r := Result{Doc: &facts.Document{}, Report: report.Report{Summary: report.Summary{Deny: deny, Warn: warn}}}
					var problems []string
					switch failed {
					case "source error":
						r.Doc, r.Err = nil, errors.New("cannot connect")
						problems = []string{"cannot connect"}
					case "doc errors":
						r.Doc.Errors = []string{"/srv/jupyterhub: permission denied", "/etc/passwd: I/O error"}
						problems = []string{"could not check /srv/jupyterhub: permission denied", "could not check /etc/passwd: I/O error"}
					case "no document":
						r.Doc = nil
						problems = []string{"no facts were collected"}
					}
					want := ExitOK
					switch {
					case failed != "":
						want = ExitFailure
					case deny > 0 || strict && warn > 0:
						want = ExitDenied
					}
					if got := r.Code(strict); got != want {
						t.Errorf("%q deny %d warn %d strict %v: code %d, want %d", failed, deny, warn, strict, got, want)
					}
					if got := r.Problems(); !slices.Equal(got, problems) {
						t.Errorf("%q: problems %q, want %q", failed, got, problems)
					}
					// A run is as bad as its worst source.
					ok := Result{Doc: &facts.Document{}}
					if got := Code([]Result{ok, r, ok}, strict); got != want {
						t.Errorf("run with %q deny %d warn %d strict %v: code %d, want %d", failed, deny, warn, strict, got, want)
					}
				}
			}
		}
	}
	if Code(nil, false) != ExitFailure {
		t.Error("a run that checked nothing passed")
	}
}
