// Package report holds the result of a policy evaluation and writes it in the
// formats users read: text for people, json, sarif and junit for CI.
//
// A Report carries findings (what the policy said) and rules (what the
// policy checks, from its METADATA), never facts: nothing in a report can
// hold a secret's value.
package report

import (
	"fmt"
	"io"
	"sort"
)

// Severities of a finding.
const (
	SeverityDeny = "deny"
	SeverityWarn = "warn"
)

// Finding is one thing the policy found wrong.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	// Path is the affected path inside the scanned root.
	Path  string `json:"path"`
	Title string `json:"title"`
	Msg   string `json:"msg"`
	// Fix is the exact command (or change) that repairs it.
	Fix string `json:"fix"`
	// Waived is set when a waiver (internal/waiver) accepts the finding:
	// it is still reported, marked, but not counted in the summary and so
	// not in the exit code.
	Waived *Waived `json:"waived,omitempty"`
}

// Waived says which waiver accepted a finding, and until when.
type Waived struct {
	Reason string `json:"reason"`
	// Expires is the last day (YYYY-MM-DD, UTC) the waiver applies.
	Expires string `json:"expires"`
	// Waiver names the entry, as "FILE: waivers[N]".
	Waiver string `json:"waiver"`
}

// Rule describes one policy rule, from its METADATA annotation.
type Rule struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Severity    string `json:"severity"`
	// HelpURI is where the rule is explained (METADATA related_resources);
	// SARIF falls back to policy/README.md for the built-in HUBnnn rules.
	HelpURI string `json:"help_uri,omitempty"`
}

// Summary counts findings by severity. Waived findings count only as
// Waived, whatever their severity.
type Summary struct {
	Deny   int `json:"deny"`
	Warn   int `json:"warn"`
	Waived int `json:"waived,omitempty"`
}

// Report is the outcome of checking one root (or one host).
type Report struct {
	Profile string `json:"profile"`
	// Root is the scanned root: a directory, an archive, or a host's "/".
	Root string `json:"root"`
	// Host is set when the root was scanned over the network.
	Host string `json:"host,omitempty"`
	// Kind is the source kind ("dir", "tar", "ssh", "packer"): formats use
	// it to say how the root's paths relate to the reader's machine.
	Kind     string    `json:"-"`
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
	// Rules lists every rule that was evaluated, found or not, so CI
	// formats can show passes too.
	Rules []Rule `json:"-"`
	// Errors says what could not be checked: why the source gave no facts
	// (an unreachable host, a changed host key, a timeout), or each path
	// it could not observe. A report with errors is never a pass, whatever
	// its findings: every format says it was not (fully) checked.
	Errors []string `json:"errors,omitempty"`
	// Warnings are notes on how the report was judged: a waiver that has
	// expired or matches nothing.
	Warnings []string `json:"warnings,omitempty"`
}

// Checked reports whether everything was observed: no Errors.
func (r Report) Checked() bool { return len(r.Errors) == 0 }

// Sort orders findings deny first, then by path and id, and recomputes the
// summary, so every format prints the same order.
func (r *Report) Sort() {
	// Deny, then warn, then what was waived.
	rank := func(f Finding) int {
		n := 1
		if f.Severity == SeverityDeny {
			n = 0
		}
		if f.Waived != nil {
			n += 2
		}
		return n
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Msg < b.Msg
	})
	sort.SliceStable(r.Rules, func(i, j int) bool { return r.Rules[i].ID < r.Rules[j].ID })
	r.Summary = Summary{}
	for _, f := range r.Findings {
		if f.Waived != nil {
			r.Summary.Waived++
		} else if f.Severity == SeverityDeny {
			r.Summary.Deny++
		} else {
			r.Summary.Warn++
		}
	}
}

// Options tune how a report is written.
type Options struct {
	// Color enables ANSI colour in the text format.
	Color bool
	// Strict counts warnings as failures where a format has pass and fail
	// (junit), as --strict does for the exit code.
	Strict bool
	// Version is the tool's version, and PolicyRevision the revision of
	// the policy that judged (checker.Engine.PolicyRevision): every
	// machine-readable format records both (json's "tool", sarif's
	// tool.driver, junit's properties).
	Version        string
	PolicyRevision string
}

// sorted returns sorted copies of reports, so every writer prints the same
// order and counts without reordering the caller's slices.
func sorted(reports []Report) []Report {
	out := make([]Report, len(reports))
	for i, r := range reports {
		r.Findings = append([]Finding(nil), r.Findings...)
		r.Rules = append([]Rule(nil), r.Rules...)
		r.Errors = append([]string(nil), r.Errors...)
		r.Warnings = append([]string(nil), r.Warnings...)
		r.Sort()
		out[i] = r
	}
	return out
}

// Writer writes reports in one format.
type Writer func(w io.Writer, reports []Report, opts Options) error

// Formats maps a --format name to its writer. Several reports (one per host
// in a fleet scan) are written as one document, or one JSON line each.
var Formats = map[string]Writer{}

// Write writes reports in the named format.
func Write(format string, w io.Writer, reports []Report, opts Options) error {
	wr, ok := Formats[format]
	if !ok {
		return fmt.Errorf("unknown format %q (want one of %s)", format, FormatNames())
	}
	return wr(w, reports, opts)
}

// FormatNames lists the known formats for help and errors.
func FormatNames() string {
	names := make([]string, 0, len(Formats))
	for n := range Formats {
		names = append(names, n)
	}
	sort.Strings(names)
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
