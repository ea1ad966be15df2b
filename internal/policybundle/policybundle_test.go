package policybundle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/policybundle"
	"github.com/hubsecrets/packer-plugin-jupyterhub/policy"
)

func build(t *testing.T, version string) bundle.Bundle {
	t.Helper()
	var buf bytes.Buffer
	if err := policybundle.Build(&buf, version); err != nil {
		t.Fatalf("Build: %v", err)
	}
	// Read it as OPA does, from the bytes only.
	b, err := bundle.NewReader(bytes.NewReader(buf.Bytes())).WithRegoVersion(ast.RegoV1).Read()
	if err != nil {
		t.Fatalf("OPA's bundle reader refuses the bundle: %v", err)
	}
	return b
}

func TestManifest(t *testing.T) {
	b := build(t, "v9.8.7")
	if b.Manifest.Revision != "v9.8.7" {
		t.Errorf("revision = %q, want v9.8.7", b.Manifest.Revision)
	}
	if b.Manifest.Roots == nil || !reflect.DeepEqual(*b.Manifest.Roots, []string{"hubsecrets"}) {
		t.Errorf("roots = %v, want [hubsecrets]", b.Manifest.Roots)
	}
	if b.Manifest.RegoVersion == nil || *b.Manifest.RegoVersion != ast.RegoV1.Int() {
		t.Errorf("rego_version = %v, want %d", b.Manifest.RegoVersion, ast.RegoV1.Int())
	}
}

func TestModulesAreThePolicyWithoutTests(t *testing.T) {
	b := build(t, "v1")
	var got []string
	for _, m := range b.Modules {
		if policy.IsTest(m.Path) || strings.Contains(m.Path, "_test") {
			t.Errorf("bundle holds test file %s", m.Path)
		}
		if pkg := m.Parsed.Package.Path.String(); pkg != "data.hubsecrets" {
			t.Errorf("%s: package %s, want data.hubsecrets", m.Path, pkg)
		}
		got = append(got, strings.TrimPrefix(m.Path, "/"))
	}
	var want []string
	for k := range policy.Modules() {
		want = append(want, strings.TrimPrefix(k, policy.Origin))
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("modules = %v, want %v", got, want)
	}
	if len(policy.Tests()) == 0 {
		t.Fatal("the policy has no tests: the test above proves nothing")
	}
}

func TestBuildRefusesEmptyVersion(t *testing.T) {
	var buf bytes.Buffer
	err := policybundle.Build(&buf, " ")
	if err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("Build with an empty version: err = %v, want one naming the version", err)
	}
	if buf.Len() != 0 {
		t.Errorf("Build wrote %d bytes on error", buf.Len())
	}
}

// TestBundleFindingsEqualEngine evaluates the bundle as an OPA user would
// (data.hubsecrets.deny and warn, the facts plus "profile" as input) and
// compares with the engine over the embedded policy.
func TestBundleFindingsEqualEngine(t *testing.T) {
	ctx := context.Background()
	b := build(t, "v1")
	for _, tc := range []struct{ fixture, profile string }{
		{"tutorial.json", checker.ProfileInstance},
		{"good-instance.json", checker.ProfileInstance},
		{"good-image.json", checker.ProfileImage},
		{"tutorial.json", checker.ProfileImage},
	} {
		t.Run(tc.fixture+"/"+tc.profile, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "checker", "testdata", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var doc facts.Document
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			e, err := checker.NewEngine(ctx, checker.Options{Profile: tc.profile})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := e.Evaluate(ctx, &doc)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range rep.Findings {
				want = append(want, strings.Join([]string{f.Severity, f.ID, f.Path, f.Msg, f.Fix}, "|"))
			}

			var input map[string]any
			if err := json.Unmarshal(raw, &input); err != nil {
				t.Fatal(err)
			}
			input["profile"] = tc.profile
			rs, err := rego.New(
				rego.Query("deny := data.hubsecrets.deny; warn := data.hubsecrets.warn"),
				rego.ParsedBundle("hubsecrets", &b),
				rego.Input(input),
			).Eval(ctx)
			if err != nil || len(rs) != 1 {
				t.Fatalf("eval: %v (%d results)", err, len(rs))
			}
			var got []string
			for _, sev := range []string{"deny", "warn"} {
				for _, v := range rs[0].Bindings[sev].([]any) {
					f := v.(map[string]any)
					got = append(got, strings.Join([]string{sev, str(f["id"]), str(f["path"]), str(f["msg"]), str(f["fix"])}, "|"))
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if len(want) == 0 && tc.fixture == "tutorial.json" {
				t.Fatal("no findings on the tutorial's tree: the comparison proves nothing")
			}
			if !slices.Equal(got, want) {
				t.Errorf("bundle findings differ from the engine's:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func str(v any) string { s, _ := v.(string); return s }
