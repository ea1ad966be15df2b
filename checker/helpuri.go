package checker

import "github.com/open-policy-agent/opa/v1/ast"

// helpURI is the first METADATA related_resources ref of a rule, where the
// rule is documented (policy/README.md#hubnnn for the built-in rules), or
// "". A relative ref is resolved by the report formats.
func helpURI(a *ast.Annotations) string {
	for _, rr := range a.RelatedResources {
		if rr != nil && rr.Ref.String() != "" {
			return rr.Ref.String()
		}
	}
	return ""
}
