package checker

import "testing"

// A rule's METADATA related_resources becomes its report Rule's HelpURI,
// which SARIF writes as helpUri.
func TestRuleHelpURIFromRelatedResources(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "site.rego", `package site

# METADATA
# title: Documented site rule
# related_resources:
#   - ref: https://wiki.example.org/hub/site300
#     description: the runbook
# custom:
#   id: SITE300
deny contains {"msg": "x"} if input.never

# METADATA
# title: Undocumented site rule
# custom:
#   id: SITE301
deny contains {"msg": "y"} if input.never
`)
	got := map[string]string{}
	for _, r := range newEngine(t, Options{PolicyDirs: []string{dir}}).Rules() {
		got[r.ID] = r.HelpURI
	}
	if got["SITE300"] != "https://wiki.example.org/hub/site300" || got["SITE301"] != "" {
		t.Errorf("help URIs %q", got)
	}
}
