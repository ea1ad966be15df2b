package report

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"slices"
	"strings"
	"testing"
)

// External reports: files that `hubsecrets check` wrote outside this test,
// e.g. make e2e's scans of instances booted under systemd-nspawn
// (scripts/e2e/nspawn.sh). Each test skips unless its file is named:
//
//	HUBSECRETS_E2E_SARIF=FILE  validated against the SARIF 2.1.0 schema
//	HUBSECRETS_E2E_JUNIT=FILE  parsed as JUnit XML, counts cross-checked
//	HUBSECRETS_E2E_DENY=IDS    comma-separated rule ids that must be reported
//	                           as failures (SARIF level "error", JUnit
//	                           <failure>), and no others; "none" for a clean scan
const (
	envSARIF = "HUBSECRETS_E2E_SARIF"
	envJUnit = "HUBSECRETS_E2E_JUNIT"
	envDeny  = "HUBSECRETS_E2E_DENY"
)

// externalFile returns the file named by env, skipping the test when unset.
func externalFile(t *testing.T, env string) []byte {
	t.Helper()
	name := os.Getenv(env)
	if name == "" { // opt-in: scripts/e2e/nspawn.sh (make e2e) sets it
		t.Skipf("set %s=FILE to check a report written outside this test (scripts/e2e/nspawn.sh does)", env)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return b
}

// wantDeny returns the sorted rule ids HUBSECRETS_E2E_DENY names, or nil
// when it is unset (failures are then not compared).
func wantDeny(t *testing.T) []string {
	t.Helper()
	v, ok := os.LookupEnv(envDeny)
	if !ok {
		return nil
	}
	ids := []string{}
	if v != "none" {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			t.Fatalf(`%s=%q names no rule id: give ids like HUB012,HUB013 or "none"`, envDeny, v)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func TestExternalSARIF(t *testing.T) {
	b := externalFile(t, envSARIF)
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: not JSON: %v", os.Getenv(envSARIF), err)
	}
	if ok, errs := sarifValidator(t)(doc); !ok {
		t.Fatalf("%s: not valid SARIF 2.1.0: %v", os.Getenv(envSARIF), errs)
	}

	var errors []string
	for _, run := range arr(t, doc, "runs") {
		if name := str(run, "tool", "driver", "name"); name != "hubsecrets" {
			t.Errorf("tool.driver.name %q, want hubsecrets", name)
		}
		results, _ := run.(map[string]any)["results"].([]any)
		for _, r := range results {
			if str(r, "level") == "error" {
				errors = append(errors, str(r, "ruleId"))
			}
		}
	}
	slices.Sort(errors)
	errors = slices.Compact(errors)
	if want := wantDeny(t); want != nil && !slices.Equal(errors, want) {
		t.Errorf("SARIF error-level results %v, want %v", errors, want)
	}
	t.Logf("valid SARIF 2.1.0, error-level results %v", errors)
}

func TestExternalJUnit(t *testing.T) {
	b := externalFile(t, envJUnit)
	var doc parsedSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: not JUnit XML: %v", os.Getenv(envJUnit), err)
	}
	if doc.Name != "hubsecrets" || len(doc.Suites) == 0 {
		t.Fatalf("testsuites name %q with %d suites, want hubsecrets with at least one", doc.Name, len(doc.Suites))
	}
	var failed []string
	tests, failures := 0, 0
	for _, s := range doc.Suites {
		n := 0
		for _, c := range s.Cases {
			if c.ClassName == "" || c.Name == "" {
				t.Errorf("suite %q: a testcase without classname or name", s.Name)
			}
			if c.Failure != nil {
				n++
				failed = append(failed, c.ClassName)
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != n {
			t.Errorf("suite %q says tests=%d failures=%d, has %d cases and %d failures", s.Name, s.Tests, s.Failures, len(s.Cases), n)
		}
		tests += s.Tests
		failures += s.Failures
	}
	if doc.Tests != tests || doc.Failures != failures {
		t.Errorf("testsuites says tests=%d failures=%d, the suites add up to %d and %d", doc.Tests, doc.Failures, tests, failures)
	}
	slices.Sort(failed)
	failed = slices.Compact(failed)
	if want := wantDeny(t); want != nil && !slices.Equal(failed, want) {
		t.Errorf("JUnit failures %v, want %v", failed, want)
	}
	t.Logf("JUnit: %d tests, failures %v", tests, failed)
}
