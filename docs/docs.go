// Package docs holds the documentation files that code reads: the facts
// document's JSON Schema, published as docs/facts.schema.json and used by
// internal/factsschema.
package docs

import _ "embed"

// FactsSchema is docs/facts.schema.json, the JSON Schema (draft 2020-12)
// of the facts document (checker/facts).
//
//go:embed facts.schema.json
var FactsSchema []byte
