package report

import (
	"encoding/xml"
	"strings"
	"testing"
)

// Parsed JUnit, declared apart from the writer's types so the test reads
// the document as a CI server would.
type parsedSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			ClassName string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, reports []Report, opts Options) parsedSuites {
	t.Helper()
	var doc parsedSuites
	if err := xml.Unmarshal([]byte(writeString(t, "junit", reports, opts)), &doc); err != nil {
		t.Fatalf("not valid XML: %v", err)
	}
	return doc
}

func TestJUnitCounts(t *testing.T) {
	tests := []struct {
		name                string
		reports             []Report
		strict              bool
		wantTests, wantFail int
	}{
		// 4 findings + 2 rules that found nothing; 2 deny.
		{"findings", []Report{findingsReport()}, false, 6, 2},
		{"findings strict", []Report{findingsReport()}, true, 6, 4},
		{"empty", []Report{emptyReport()}, false, 5, 0},
		{"hosts", hostReports(), false, 10, 1},
		{"hosts strict", hostReports(), true, 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parseJUnit(t, tt.reports, Options{Strict: tt.strict})
			if doc.Name != "hubsecrets" || doc.Tests != tt.wantTests || doc.Failures != tt.wantFail {
				t.Errorf("testsuites name %q tests %d failures %d, want hubsecrets %d %d",
					doc.Name, doc.Tests, doc.Failures, tt.wantTests, tt.wantFail)
			}
			if len(doc.Suites) != len(tt.reports) {
				t.Fatalf("%d suites for %d reports", len(doc.Suites), len(tt.reports))
			}
			seen := map[[2]string]bool{}
			tests, failures := 0, 0
			for i, s := range doc.Suites {
				r := tt.reports[i]
				if want := r.Profile + " " + r.subject(); s.Name != want {
					t.Errorf("suite name %q, want %q", s.Name, want)
				}
				failed := 0
				for _, c := range s.Cases {
					key := [2]string{c.ClassName, c.Name}
					if seen[key] {
						t.Errorf("duplicate testcase %q %q", c.ClassName, c.Name)
					}
					seen[key] = true
					if c.Failure != nil {
						failed++
						if c.Failure.Type == SeverityWarn && !tt.strict {
							t.Errorf("%s failed on a warning without Strict", c.ClassName)
						}
					}
				}
				if s.Tests != len(s.Cases) || s.Failures != failed {
					t.Errorf("suite %q says tests %d failures %d, has %d and %d", s.Name, s.Tests, s.Failures, len(s.Cases), failed)
				}
				tests += s.Tests
				failures += s.Failures
			}
			if doc.Tests != tests || doc.Failures != failures {
				t.Errorf("testsuites says %d/%d, suites add up to %d/%d", doc.Tests, doc.Failures, tests, failures)
			}
		})
	}
}

// TestJUnitCases checks what each finding and each passing rule becomes.
func TestJUnitCases(t *testing.T) {
	r := findingsReport()
	doc := parseJUnit(t, []Report{r}, Options{})
	cases := doc.Suites[0].Cases
	byKey := map[string]int{}
	for i, c := range cases {
		byKey[c.ClassName+" "+c.Name] = i
	}
	for _, f := range r.Findings {
		i, ok := byKey[f.ID+" "+f.Path]
		if !ok {
			t.Errorf("no testcase %s %s", f.ID, f.Path)
			continue
		}
		c := cases[i]
		switch f.Severity {
		case SeverityDeny:
			if c.Failure == nil || c.Failure.Message != f.Msg || c.Failure.Type != "deny" || !strings.Contains(c.Failure.Body, "fix: "+f.Fix) {
				t.Errorf("%s: failure %+v", f.ID, c.Failure)
			}
		case SeverityWarn:
			if c.Failure != nil || !strings.Contains(c.SystemOut, f.Msg) || !strings.Contains(c.SystemOut, "fix: "+f.Fix) {
				t.Errorf("%s: failure %+v, system-out %q", f.ID, c.Failure, c.SystemOut)
			}
		}
	}
	for _, passing := range []string{"HUB002 Proxy token is private", "HUB005 Secrets are distinct"} {
		if i, ok := byKey[passing]; !ok || cases[i].Failure != nil {
			t.Errorf("no passing testcase %q", passing)
		}
	}
	if len(cases) != len(r.Findings)+2 {
		t.Errorf("%d testcases, want one per finding and one per rule without finding", len(cases))
	}
}

func TestJUnitNamesStayUnique(t *testing.T) {
	f := Finding{ID: "SITE1", Severity: SeverityDeny, Path: "/srv/jupyterhub", Msg: "first"}
	g := f
	g.Msg = "second"
	r := Report{Profile: "image", Root: "/mnt/img", Findings: []Finding{f, g},
		Rules: []Rule{{ID: "SITE2", Title: "Same"}, {ID: "SITE2", Title: "Same"}}}
	doc := parseJUnit(t, []Report{r}, Options{})
	var names []string
	for _, c := range doc.Suites[0].Cases {
		names = append(names, c.ClassName+" "+c.Name)
	}
	want := []string{"SITE1 /srv/jupyterhub", "SITE1 /srv/jupyterhub #2", "SITE2 Same"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("testcases %q, want %q", names, want)
	}
}

// Control characters cannot appear in XML 1.0: the output must still parse.
func TestJUnitControlCharactersStayValidXML(t *testing.T) {
	r := Report{Profile: "image", Root: "/mnt/img", Findings: []Finding{{
		ID: "HUB004", Severity: SeverityDeny, Path: "/srv/x\x1b[2J", Msg: "bad\x00name <&>", Fix: "rm '/srv/x\x1b[2J'",
	}}}
	doc := parseJUnit(t, []Report{r}, Options{})
	if c := doc.Suites[0].Cases[0]; c.Failure == nil || !strings.Contains(c.Failure.Message, "<&>") {
		t.Errorf("testcase %+v", c)
	}
}
