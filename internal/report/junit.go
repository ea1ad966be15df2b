package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

func init() { Formats["junit"] = writeJUnit }

// The JUnit XML subset that GitLab, Jenkins and the common CI test-report
// viewers read.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Properties []junitProperty `xml:"properties>property,omitempty"`
		Cases      []junitCase     `xml:"testcase"`
		SystemErr  *junitText      `xml:"system-err,omitempty"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		ClassName string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		Error     *junitFailure `xml:"error,omitempty"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut *junitText    `xml:"system-out,omitempty"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",innerxml"` // from xmlText
	}
	junitText struct {
		Body string `xml:",innerxml"` // from xmlText
	}
)

// writeJUnit writes one testsuite per report: a testcase per finding
// (classname = rule id, name = path) and a passing one per rule that found
// nothing. Warnings fail only with opts.Strict, like the exit code; a
// waived finding is <skipped> with the waiver's reason; what could not be
// checked is an <error> testcase (classname "hubsecrets"), so a host that
// could not be scanned is never an empty, passing suite.
func writeJUnit(w io.Writer, reports []Report, opts Options) error {
	doc := junitSuites{Name: toolName}
	// GitLab merges every suite of a file and drops test cases whose
	// classname and name repeat, so names stay unique across the document.
	used := map[[2]string]bool{}
	unique := func(class, name string) string {
		n := name
		for i := 2; used[[2]string{class, n}]; i++ {
			n = fmt.Sprintf("%s #%d", name, i)
		}
		used[[2]string{class, n}] = true
		return n
	}
	for _, r := range sorted(reports) {
		// With several reports the same rule and path recur per host.
		qualify := func(name string) string {
			if len(reports) > 1 {
				return name + " (" + r.subject() + ")"
			}
			return name
		}
		suite := junitSuite{Name: r.Profile + " " + r.subject(), Properties: junitProperties(r, opts)}
		for _, msg := range r.Errors {
			suite.Cases = append(suite.Cases, junitCase{
				ClassName: toolName, Name: unique(toolName, qualify("could not be checked")),
				Error: &junitFailure{Message: msg, Type: "not-checked", Body: xmlText(msg)},
			})
			suite.Errors++
		}
		found := map[string]bool{}
		for _, f := range r.Findings {
			found[f.ID] = true
			c := junitCase{ClassName: f.ID, Name: unique(f.ID, qualify(f.Path))}
			detail := f.Msg
			if f.Fix != "" {
				detail += "\nfix: " + f.Fix
			}
			switch {
			case f.Waived != nil:
				w := f.Waived
				c.Skipped = &junitSkipped{Message: fmt.Sprintf("waived (%s) until %s by %s: %s", f.Severity, w.Expires, w.Waiver, w.Reason)}
				c.SystemOut = &junitText{Body: xmlText(detail)}
				suite.Skipped++
			case f.Severity == SeverityDeny || opts.Strict:
				c.Failure = &junitFailure{Message: f.Msg, Type: f.Severity, Body: xmlText(detail)}
				suite.Failures++
			default:
				c.SystemOut = &junitText{Body: xmlText("warning: " + detail)}
			}
			suite.Cases = append(suite.Cases, c)
		}
		// A rule passes only where everything was observed: with errors,
		// a rule that found nothing may not have seen what it judges.
		for _, rule := range r.Rules {
			if found[rule.ID] || len(r.Errors) > 0 {
				continue
			}
			found[rule.ID] = true // a rule listed twice passes once
			name := firstNonEmpty(rule.Title, rule.ID)
			suite.Cases = append(suite.Cases, junitCase{ClassName: rule.ID, Name: unique(rule.ID, qualify(name))})
		}
		if len(r.Warnings) > 0 {
			suite.SystemErr = &junitText{Body: xmlText("warning: " + strings.Join(r.Warnings, "\nwarning: "))}
		}
		suite.Tests = len(suite.Cases)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Skipped += suite.Skipped
		doc.Suites = append(doc.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitProperties name what produced the suite and what it scanned.
func junitProperties(r Report, opts Options) []junitProperty {
	var ps []junitProperty
	for _, p := range [][2]string{
		{"hubsecrets.version", opts.Version},
		{"hubsecrets.policy_revision", opts.PolicyRevision},
		{"hubsecrets.profile", r.Profile},
		{"hubsecrets.root", r.Root},
		{"hubsecrets.host", r.Host},
	} {
		if p[1] != "" {
			ps = append(ps, junitProperty{Name: p[0], Value: p[1]})
		}
	}
	return ps
}

// xmlText escapes s as XML character data but keeps its line breaks, which
// encoding/xml would write as &#xA;, so the failure text reads as lines in
// CI viewers and in the file. Characters XML cannot hold become U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		xml.EscapeText(&b, []byte(line)) // a strings.Builder never fails
	}
	return b.String()
}
