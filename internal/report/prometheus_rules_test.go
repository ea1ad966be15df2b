package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// examples/prometheus: the alert rules users copy, and their unit tests.
var rulesDir = filepath.Join("..", "..", "examples", "prometheus")

// TestExampleRules has promtool check the example rules and run their unit
// tests (each alert fires when it should, and not before).
func TestExampleRules(t *testing.T) {
	promtool := requirePromtool(t)
	for _, args := range [][]string{
		{"check", "rules", "hubsecrets.rules.yml"},
		{"test", "rules", "hubsecrets.rules.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = rulesDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestExampleRulesUseWrittenMetrics checks that every hubsecrets metric the
// rules and their tests name is one this format writes: a renamed metric
// fails here, not silently in users' alerts.
func TestExampleRulesUseWrittenMetrics(t *testing.T) {
	written := map[string]bool{}
	out := prom(t, []Report{findingsReport()}, testOpts)
	for _, m := range regexp.MustCompile(`(?m)^(hubsecrets_[a-z_]+)`).FindAllStringSubmatch(out, -1) {
		written[m[1]] = true
	}
	for _, name := range []string{"hubsecrets.rules.yml", "hubsecrets.rules.test.yml"} {
		b, err := os.ReadFile(filepath.Join(rulesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		used := regexp.MustCompile(`hubsecrets_[a-z_]+`).FindAllString(string(b), -1)
		if len(used) == 0 {
			t.Errorf("%s names no hubsecrets metric", name)
		}
		for _, m := range used {
			if !written[m] {
				t.Errorf("%s uses %s, which the prometheus format does not write", name, m)
			}
		}
	}
}
