package policy

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

var parserOptions = ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}

func parse(t *testing.T, sources map[string]string) map[string]*ast.Module {
	t.Helper()
	mods := make(map[string]*ast.Module, len(sources))
	for name, src := range sources {
		m, err := ast.ParseModuleWithOpts(name, src, parserOptions)
		if err != nil {
			t.Fatal(err)
		}
		mods[name] = m
	}
	return mods
}

// TestRego runs every Rego test, as opa test policy/ does, with builtin
// errors raised so that a rule cannot fail silently on a bad argument.
func TestRego(t *testing.T) {
	ctx := context.Background()
	sources := Modules()
	maps.Copy(sources, Tests())
	store := inmem.New()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().
		SetDefaultRegoVersion(ast.RegoV1).
		SetStore(store).
		SetModules(parse(t, sources)).
		RaiseBuiltinErrors(true).
		RunTests(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for r := range ch {
		ran++
		switch {
		case r.Error != nil:
			t.Errorf("%s.%s: error: %v", r.Package, r.Name, r.Error)
		case r.Fail:
			t.Errorf("%s.%s (%s): FAIL", r.Package, r.Name, r.Location)
		case r.Skip:
			t.Errorf("%s.%s: skipped (todo_ tests are not allowed here)", r.Package, r.Name)
		}
	}
	if ran == 0 {
		t.Fatal("no Rego tests ran")
	}
	t.Logf("%d Rego tests ran", ran)
}

// ruleInfo is what TestMetadata learns about one deny or warn rule body.
type ruleInfo struct {
	kind, id, title, description, severity string
	loc                                    string
}

// findingRules lists the deny and warn rule bodies of the policy with their
// METADATA, in file order.
func findingRules(t *testing.T) []ruleInfo {
	t.Helper()
	mods := parse(t, Modules())
	c := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if c.Compile(mods); c.Failed() {
		t.Fatal(c.Errors)
	}
	as := c.GetAnnotationSet()
	var out []ruleInfo
	for _, name := range slices.Sorted(maps.Keys(mods)) {
		for _, rule := range mods[name].Rules {
			kind := rule.Head.Name.String()
			if kind != "deny" && kind != "warn" {
				continue
			}
			info := ruleInfo{kind: kind, loc: rule.Location.String()}
			for _, a := range as.GetRuleScope(c.Modules[name].Rules[slices.Index(mods[name].Rules, rule)]) {
				info.title, info.description = a.Title, a.Description
				info.id, _ = a.Custom["id"].(string)
				info.severity, _ = a.Custom["severity"].(string)
			}
			out = append(out, info)
		}
	}
	return out
}

// TestMetadata checks that every deny and warn rule body documents itself:
// title, description, a unique custom.id, and custom.severity matching its
// kind. Reports and SARIF rules are built from these.
func TestMetadata(t *testing.T) {
	rules := findingRules(t)
	if len(rules) < 30 {
		t.Fatalf("found %d deny/warn rule bodies, want at least 30", len(rules))
	}
	idPattern := regexp.MustCompile(`^HUB[0-9]{3}$`)
	seen := map[string]string{}
	for _, r := range rules {
		switch {
		case r.title == "":
			t.Errorf("%s: %s rule has no METADATA title", r.loc, r.kind)
		case r.description == "":
			t.Errorf("%s: %s rule has no METADATA description", r.loc, r.kind)
		case !idPattern.MatchString(r.id):
			t.Errorf("%s: %s rule has custom.id %q, want HUBnnn", r.loc, r.kind, r.id)
		case r.severity != r.kind:
			t.Errorf("%s: %s rule %s has custom.severity %q, want %q", r.loc, r.kind, r.id, r.severity, r.kind)
		}
		if prev, dup := seen[r.id]; dup {
			t.Errorf("%s: id %s already used at %s", r.loc, r.id, prev)
		}
		seen[r.id] = r.loc
	}
}

// TestFindingsTakeTheirIDFromMetadata checks that every deny and warn rule
// builds its findings with finding(rego.metadata.rule(), ...), so the id in a
// finding is always the id its METADATA documents.
func TestFindingsTakeTheirIDFromMetadata(t *testing.T) {
	for name, m := range parse(t, Modules()) {
		for _, rule := range m.Rules {
			kind := rule.Head.Name.String()
			if kind != "deny" && kind != "warn" {
				continue
			}
			call, ok := rule.Head.Key.Value.(ast.Call)
			if !ok || len(call) < 2 || call[0].String() != "finding" ||
				!strings.HasPrefix(call[1].String(), "rego.metadata.rule(") {
				t.Errorf("%s:%d: %s contains %v: want finding(rego.metadata.rule(), path, msg, fix)",
					name, rule.Location.Row, kind, rule.Head.Key)
			}
		}
	}
}

// TestEveryRuleIsTested checks that each rule id has at least two Rego tests
// (test_hubNNN_...): one that makes it fire and one that must not.
func TestEveryRuleIsTested(t *testing.T) {
	tests := map[string]int{}
	for _, m := range parse(t, Tests()) {
		for _, rule := range m.Rules {
			name := rule.Head.Name.String()
			if id, ok := strings.CutPrefix(name, "test_hub"); ok && len(id) >= 3 {
				tests["HUB"+id[:3]]++
			}
		}
	}
	for _, r := range findingRules(t) {
		if tests[r.id] < 2 {
			t.Errorf("%s (%s) has %d test_%s_* tests, want a positive and a negative one",
				r.id, r.title, tests[r.id], strings.ToLower(r.id))
		}
	}
}

// TestFormatted checks that every Rego file is as opa fmt writes it.
func TestFormatted(t *testing.T) {
	sources := Modules()
	maps.Copy(sources, Tests())
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		src := sources[name]
		got, err := format.SourceWithOpts(name, []byte(src), format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(got) != src {
			t.Errorf("%s is not opa fmt clean: run opa fmt -w policy/ (first difference at line %d)",
				name, firstDiffLine(src, string(got)))
		}
	}
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// TestModulesAndTestsSplit checks the embedding: policy modules without
// tests, tests without policy, all in package hubsecrets or hubsecrets_test.
func TestModulesAndTestsSplit(t *testing.T) {
	for name, m := range parse(t, Modules()) {
		if IsTest(name) {
			t.Errorf("Modules() holds test file %s", name)
		}
		if got := m.Package.Path.String(); got != "data.hubsecrets" {
			t.Errorf("%s: package %s, want hubsecrets", name, got)
		}
	}
	tests := Tests()
	if len(tests) == 0 {
		t.Fatal("Tests() is empty")
	}
	for name := range tests {
		if !IsTest(name) {
			t.Errorf("Tests() holds %s", name)
		}
	}
	if !strings.HasPrefix(fmt.Sprint(slices.Collect(maps.Keys(tests))[0]), Origin) {
		t.Errorf("test names lack the %q prefix", Origin)
	}
}
