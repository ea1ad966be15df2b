package checker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/loader"

	"github.com/hubsecrets/packer-plugin-jupyterhub/policy"
)

// embeddedRoot is the data path the embedded policy owns (package
// hubsecrets), as the released bundle's manifest says (internal/policybundle).
const embeddedRoot = "hubsecrets"

// wantPolicy says what --policy takes, for errors.
const wantPolicy = "want a .rego file, a directory of .rego files, an OPA bundle file (.tar.gz) or a bundle directory (one with a .manifest)"

// siteSource is what one --policy path held.
type siteSource struct {
	modules map[string]*ast.Module
	// data is a bundle's data documents (nil for Rego files).
	data map[string]any
	// roots are a bundle's manifest roots (nil for Rego files).
	roots []string
	// revision is a bundle's manifest revision, or a digest of the Rego
	// files' contents.
	revision string
}

// loadSite loads each path a site named: Rego files, directories of them,
// or OPA bundles (a gzipped tarball, or a directory with a .manifest). Any
// path it would not load is an error naming it: a site's rules must never
// be dropped silently.
func loadSite(paths []string) ([]siteSource, error) {
	out := make([]siteSource, 0, len(paths))
	owner := map[string]string{} // bundle root -> the path that claims it
	for _, p := range paths {
		sp, err := loadSitePath(p)
		if err != nil {
			return nil, fmt.Errorf("load policy: %w", err)
		}
		for _, r := range sp.roots {
			if bundle.RootPathsContain([]string{r}, embeddedRoot) {
				return nil, fmt.Errorf("load policy: bundle %s: its root %q holds data.%s, the embedded policy's package: give the site's bundle its own roots (e.g. \"site\", as `opa build --bundle DIR -r site` writes)", p, r, embeddedRoot)
			}
			for _, other := range slices.Sorted(maps.Keys(owner)) {
				if bundle.RootPathsOverlap(r, other) {
					return nil, fmt.Errorf("load policy: bundle %s: its root %q overlaps the root %q of %s: two bundles cannot own the same data", p, r, other, owner[other])
				}
			}
			owner[r] = p
		}
		out = append(out, sp)
	}
	return out, nil
}

func loadSitePath(p string) (siteSource, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return siteSource{}, fmt.Errorf("%w: %s", err, wantPolicy)
	}
	switch {
	case fi.IsDir():
		if _, err := os.Stat(filepath.Join(p, bundle.ManifestExt)); err == nil {
			return loadBundle(p)
		}
		return loadRego(p)
	case !fi.Mode().IsRegular():
		return siteSource{}, fmt.Errorf("%s is not a regular file or directory: %s", p, wantPolicy)
	case filepath.Ext(p) == ".rego":
		if policy.IsTest(p) {
			return siteSource{}, fmt.Errorf("%s is a Rego test module (*_test.rego), not a policy: %s", p, wantPolicy)
		}
		return loadRego(p)
	}
	gz, err := isGzip(p)
	if err != nil {
		return siteSource{}, err
	}
	if !gz {
		return siteSource{}, fmt.Errorf("%s is neither a Rego policy (.rego) nor a gzipped OPA bundle: %s", p, wantPolicy)
	}
	return loadBundle(p)
}

// isGzip reports whether the file starts with gzip's magic number, as OPA's
// bundle tarballs do whatever their name.
func isGzip(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	magic := make([]byte, 2)
	if _, err := io.ReadFull(f, magic); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		return false, fmt.Errorf("%s: %w", p, err)
	}
	return bytes.Equal(magic, []byte{0x1f, 0x8b}), nil
}

// loadRego loads the .rego files of a file or directory, tests skipped.
func loadRego(p string) (siteSource, error) {
	res, err := loader.NewFileLoader().
		WithProcessAnnotation(true).
		WithRegoVersion(ast.RegoV1).
		Filtered([]string{p}, func(_ string, info fs.FileInfo, _ int) bool {
			// Load only policies: no tests, no data files found in the dirs.
			return !info.IsDir() && (filepath.Ext(info.Name()) != ".rego" || policy.IsTest(info.Name()))
		})
	if err != nil {
		return siteSource{}, err
	}
	if len(res.Modules) == 0 {
		return siteSource{}, fmt.Errorf("%s holds no Rego policy (.rego files other than *_test.rego) and no .manifest: %s", p, wantPolicy)
	}
	sp := siteSource{modules: map[string]*ast.Module{}}
	src := map[string][]byte{}
	for name, f := range res.Modules {
		sp.modules[name] = f.Parsed
		rel, err := filepath.Rel(p, name)
		if err != nil || rel == "." {
			rel = filepath.Base(name)
		}
		src[filepath.ToSlash(rel)] = f.Raw
	}
	sp.revision = digest(src)
	return sp, nil
}

// loadBundle loads an OPA bundle (tarball or directory) as opa run --bundle
// does: the manifest's roots checked against the packages and data.
func loadBundle(p string) (siteSource, error) {
	b, err := loader.NewFileLoader().
		WithProcessAnnotation(true).
		WithRegoVersion(ast.RegoV1).
		AsBundle(p)
	if err != nil {
		// OPA's error names the bundle already.
		return siteSource{}, fmt.Errorf("%w (%s)", err, wantPolicy)
	}
	sp := siteSource{modules: map[string]*ast.Module{}, data: b.Data}
	src := map[string][]byte{}
	for _, m := range b.Modules {
		if policy.IsTest(m.Path) {
			continue
		}
		name := m.URL
		if name == "" {
			name = m.Path
		}
		if !strings.HasPrefix(name, p) {
			name = filepath.Join(p, name)
		}
		sp.modules[name] = m.Parsed
		src[m.Path] = m.Raw
	}
	if b.Manifest.Roots != nil {
		sp.roots = slices.Clone(*b.Manifest.Roots)
	} else {
		sp.roots = []string{""}
	}
	if len(sp.modules) == 0 {
		return siteSource{}, fmt.Errorf("bundle %s holds no Rego policy (modules other than *_test.rego): %s", p, wantPolicy)
	}
	sp.revision = b.Manifest.Revision
	if sp.revision == "" {
		sp.revision = digest(src)
	}
	return sp, nil
}

// mergeData merges a bundle's data into docs; a value both set is an error
// naming its path, as opa refuses overlapping documents.
func mergeData(docs, add map[string]any, at string) error {
	for _, k := range slices.Sorted(maps.Keys(add)) {
		v := add[k]
		cur, ok := docs[k]
		if !ok {
			docs[k] = v
			continue
		}
		a, aok := cur.(map[string]any)
		b, bok := v.(map[string]any)
		if !aok || !bok {
			return fmt.Errorf("data.%s%s is set twice", at, k)
		}
		if err := mergeData(a, b, at+k+"."); err != nil {
			return err
		}
	}
	return nil
}
