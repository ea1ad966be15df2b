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
}

// Rule describes one policy rule, from its METADATA annotation.
type Rule struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Severity    string `json:"severity"`
}

// Summary counts findings by severity.
type Summary struct {
	Deny int `json:"deny"`
	Warn int `json:"warn"`
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
	// Errors says what could not be checked: a host that could not be
	// scanned has Errors and no findings. A report with Errors is never a
	// pass.
	Errors []string `json:"errors,omitempty"`
	// Rules lists every rule that was evaluated, found or not, so CI
	// formats can show passes too.
	Rules []Rule `json:"-"`
}

// Sort orders findings deny first, then by path and id, and recomputes the
// summary, so every format prints the same order.
func (r *Report) Sort() {
	rank := func(s string) int {
		if s == SeverityDeny {
			return 0
		}
		return 1
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if rank(a.Severity) != rank(b.Severity) {
			return rank(a.Severity) < rank(b.Severity)
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
		if f.Severity == SeverityDeny {
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
	// Version is the tool's version, recorded where a format has a place
	// for it (sarif's tool.driver.version).
	Version string
}

// sorted returns sorted copies of reports, so every writer prints the same
// order and counts without reordering the caller's slices.
func sorted(reports []Report) []Report {
	out := make([]Report, len(reports))
	for i, r := range reports {
		r.Findings = append([]Finding(nil), r.Findings...)
		r.Rules = append([]Rule(nil), r.Rules...)
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
