package runner

import "github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"

// Exit codes, the CI contract. A worse outcome has a larger code, so a
// run's code is the largest of its sources'.
const (
	// ExitOK: nothing denied (warnings allowed, unless strict).
	ExitOK = 0
	// ExitDenied: deny findings, or warnings when strict.
	ExitDenied = 1
	// ExitFailure: the check could not be done, or not all of it: never a
	// pass when something was not observed, whatever the policy said.
	ExitFailure = 2
)

// Code is the result's exit code; strict counts warnings as denials.
func (r Result) Code(strict bool) int {
	switch {
	case r.Err != nil || r.Doc == nil || len(r.Doc.Errors) > 0:
		return ExitFailure
	case r.Report.Summary.Deny > 0 || strict && r.Report.Summary.Warn > 0:
		return ExitDenied
	}
	return ExitOK
}

// Problems says, a line each, what was not checked: why the source gave
// no document, or every path the source could not observe.
func (r Result) Problems() []string {
	switch {
	case r.Err != nil:
		return []string{r.Err.Error()}
	case r.Doc == nil:
		return []string{"no facts were collected"}
	}
	var out []string
	for _, msg := range r.Doc.Errors {
		out = append(out, "could not check "+msg)
	}
	return out
}

// Code is the run's exit code: the worst of its results', and ExitFailure
// when there are none (nothing was checked).
func Code(results []Result, strict bool) int {
	if len(results) == 0 {
		return ExitFailure
	}
	code := ExitOK
	for _, r := range results {
		code = max(code, r.Code(strict))
	}
	return code
}

// Reports returns every result's report, in order: a source that gave no
// document has one too, with its Errors and no findings, so every format
// shows it as not checked rather than leaving it out.
func Reports(results []Result) []report.Report {
	out := make([]report.Report, 0, len(results))
	for _, r := range results {
		out = append(out, r.Report)
	}
	return out
}

// Failed counts the results without a document: the sources that could
// not be scanned at all.
func Failed(results []Result) int {
	n := 0
	for _, r := range results {
		if r.Err != nil || r.Doc == nil {
			n++
		}
	}
	return n
}
