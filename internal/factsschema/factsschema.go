// Package factsschema validates facts documents against their published
// JSON Schema (docs/facts.schema.json, draft 2020-12), so every source's
// output is held to the contract policy writers read.
package factsschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/docs"
)

// URL is the name the schema is compiled under, its $id.
const URL = "https://github.com/hubsecrets/packer-plugin-jupyterhub/docs/facts.schema.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.FactsSchema))
	if err != nil {
		return nil, fmt.Errorf("docs/facts.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(URL, raw); err != nil {
		return nil, fmt.Errorf("docs/facts.schema.json: %w", err)
	}
	s, err := c.Compile(URL)
	if err != nil {
		return nil, fmt.Errorf("docs/facts.schema.json: %w", err)
	}
	return s, nil
})

// Schema returns the compiled schema.
func Schema() (*jsonschema.Schema, error) { return compiled() }

// Validate checks a facts document (JSON) against the schema; the error
// lists every violation with its JSON pointer.
func Validate(doc []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("facts document: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("facts document does not match docs/facts.schema.json: %w", err)
	}
	return nil
}

// ValidateDocument is Validate of doc's JSON, as `hubsecrets facts` prints it.
func ValidateDocument(doc *facts.Document) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("facts document: %w", err)
	}
	return Validate(b)
}
