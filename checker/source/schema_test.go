package source

import (
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/factsschema"
)

// validFacts fails the test unless doc validates against the published
// schema (docs/facts.schema.json). The source is the caller's, not the
// collector's: tests that collect with an empty facts.Source are checked
// with kind "dir" and root "x".
func validFacts(t testing.TB, doc *facts.Document) {
	t.Helper()
	d := *doc
	if d.Source.Kind == "" {
		d.Source = facts.Source{Kind: "dir", Root: "x"}
	}
	if err := factsschema.ValidateDocument(&d); err != nil {
		t.Errorf("collected facts: %v", err)
	}
}
