// Package policybundle builds the OPA bundle of hubsecrets' embedded policy
// (policy/): the modules of package hubsecrets without their tests, and a
// .manifest whose one root, "hubsecrets", keeps the bundle from clashing
// with any other bundle an OPA server loads, and whose revision is the
// release's version. The result is the gzipped tarball `opa run --bundle`,
// `opa eval --bundle` and the bundle plugin load.
package policybundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/hubsecrets/packer-plugin-jupyterhub/policy"
)

// Root is the bundle's only root: data.hubsecrets, the policy's package.
// Site data for the policy (data.hubsecrets.params) sits under it too, so
// it must be part of this bundle (see docs/opa.md).
const Root = "hubsecrets"

// Bundle returns the embedded policy as a bundle with revision version.
// The modules are parsed (Rego v1) so the manifest's roots are checked
// against their packages.
func Bundle(version string) (bundle.Bundle, error) {
	if strings.TrimSpace(version) == "" {
		return bundle.Bundle{}, errors.New("policy bundle: the version (the manifest's revision) is empty: give the release version, e.g. v0.3.0")
	}
	mods := policy.Modules()
	opts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	b := bundle.Bundle{Data: map[string]any{}}
	b.Manifest.Revision = version
	b.Manifest.Roots = &[]string{Root}
	b.Manifest.SetRegoVersion(ast.RegoV1)
	for _, key := range slices.Sorted(maps.Keys(mods)) {
		name := strings.TrimPrefix(key, policy.Origin)
		if policy.IsTest(name) {
			continue // Modules leaves them out already; never ship a test
		}
		m, err := ast.ParseModuleWithOpts(name, mods[key], opts)
		if err != nil {
			return bundle.Bundle{}, fmt.Errorf("policy bundle: parse %s: %w", name, err)
		}
		if got := m.Package.Path.String(); got != "data."+Root {
			return bundle.Bundle{}, fmt.Errorf("policy bundle: %s is %s, outside the bundle's root data.%s", name, m.Package, Root)
		}
		b.Modules = append(b.Modules, bundle.ModuleFile{
			URL:    "/" + name,
			Path:   "/" + name,
			Raw:    []byte(mods[key]),
			Parsed: m,
		})
	}
	if len(b.Modules) == 0 {
		return bundle.Bundle{}, errors.New("policy bundle: the embedded policy has no modules")
	}
	return b, nil
}

// Build writes the embedded policy's bundle with revision version to w as a
// gzipped tarball. The tarball is read back with OPA's bundle reader (which
// checks the roots against the packages and the data) before anything is
// written to w, so w never gets a bundle OPA would refuse.
func Build(w io.Writer, version string) error {
	b, err := Bundle(version)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		return fmt.Errorf("policy bundle: write: %w", err)
	}
	if _, err := Read(bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("policy bundle: the written bundle does not load: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("policy bundle: %w", err)
	}
	return nil
}

// Read loads a gzipped bundle tarball as OPA does (Rego v1, annotations
// kept, the manifest's roots checked).
func Read(r io.Reader) (bundle.Bundle, error) {
	return bundle.NewReader(r).
		WithRegoVersion(ast.RegoV1).
		WithProcessAnnotations(true).
		Read()
}
