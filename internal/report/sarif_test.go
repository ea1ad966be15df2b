package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

// obj and arr walk an unmarshalled SARIF document, failing on a wrong type.
func obj(t *testing.T, v any, key string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)[key].(map[string]any)
	if !ok {
		t.Fatalf("%s: want an object, have %v", key, v.(map[string]any)[key])
	}
	return m
}

func arr(t *testing.T, v any, key string) []any {
	t.Helper()
	a, ok := v.(map[string]any)[key].([]any)
	if !ok {
		t.Fatalf("%s: want an array, have %v", key, v.(map[string]any)[key])
	}
	return a
}

func str(v any, keys ...string) string {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// TestSARIFStructure checks what GitHub code scanning reads, for every
// fixture, against the reports it came from: one run for all of them.
func TestSARIFStructure(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			reports := sorted(fx.reports())
			var log map[string]any
			if err := json.Unmarshal([]byte(writeString(t, "sarif", reports, testOpts)), &log); err != nil {
				t.Fatal(err)
			}
			if log["$schema"] != sarifSchema || log["version"] != "2.1.0" {
				t.Errorf("$schema %v, version %v", log["$schema"], log["version"])
			}
			runs := arr(t, log, "runs")
			if len(runs) != 1 {
				t.Fatalf("%d runs for one invocation's %d reports, want 1", len(runs), len(reports))
			}
			checkRun(t, runs[0], reports)
		})
	}
}

func checkRun(t *testing.T, run any, reports []Report) {
	driver := obj(t, obj(t, run, "tool"), "driver")
	if driver["name"] != "hubsecrets" || driver["version"] != testOpts.Version || driver["informationUri"] != toolURI {
		t.Errorf("driver name %v, version %v, informationUri %v", driver["name"], driver["version"], driver["informationUri"])
	}
	if got := str(driver, "properties", "policyRevision"); got != testOpts.PolicyRevision {
		t.Errorf("driver policyRevision %q, want %q", got, testOpts.PolicyRevision)
	}
	rules := arr(t, driver, "rules")
	ruleIDs := make([]string, len(rules))
	for i, rule := range rules {
		ruleIDs[i] = str(rule, "id")
		for _, path := range [][]string{{"name"}, {"shortDescription", "text"}, {"fullDescription", "text"}, {"help", "text"}} {
			if str(rule, path...) == "" {
				t.Errorf("rule %s: empty %s", ruleIDs[i], strings.Join(path, "."))
			}
		}
		level := str(rule, "defaultConfiguration", "level")
		if level != "error" && level != "warning" {
			t.Errorf("rule %s: level %q", ruleIDs[i], level)
		}
		props := obj(t, rule, "properties")
		if tags := arr(t, props, "tags"); !slices.Contains(tags, any("security")) {
			t.Errorf("rule %s: tags %v", ruleIDs[i], tags)
		}
		if want := map[string]string{"error": "8.0", "warning": "5.0"}[level]; str(props, "security-severity") != want {
			t.Errorf("rule %s (%s): security-severity %q, want %q", ruleIDs[i], level, str(props, "security-severity"), want)
		}
		if strings.HasPrefix(ruleIDs[i], "HUB") {
			if want := policyDocURI + "#" + strings.ToLower(ruleIDs[i]); str(rule, "helpUri") != want {
				t.Errorf("rule %s: helpUri %q, want %q", ruleIDs[i], str(rule, "helpUri"), want)
			}
		}
	}
	var findings []Finding
	var hosts []string
	errors := 0
	for _, r := range reports {
		for _, rule := range r.Rules {
			if !slices.Contains(ruleIDs, rule.ID) {
				t.Errorf("rule %s missing from driver.rules", rule.ID)
			}
		}
		for _, f := range r.Findings {
			findings = append(findings, f)
			hosts = append(hosts, r.Host)
		}
		errors += len(r.Errors)
	}

	results := arr(t, run, "results") // an array even when empty
	if len(results) != len(findings) {
		t.Fatalf("%d results for %d findings", len(results), len(findings))
	}
	for i, res := range results {
		f, host := findings[i], hosts[i]
		id := str(res, "ruleId")
		idx, ok := res.(map[string]any)["ruleIndex"].(float64)
		if id != f.ID || !ok || int(idx) >= len(ruleIDs) || ruleIDs[int(idx)] != id {
			t.Errorf("result %d: ruleId %q, ruleIndex %v; rules %v", i, id, res.(map[string]any)["ruleIndex"], ruleIDs)
		}
		if want := map[string]string{SeverityDeny: "error", SeverityWarn: "warning"}[f.Severity]; str(res, "level") != want {
			t.Errorf("result %s: level %q, want %q", id, str(res, "level"), want)
		}
		want := f.Msg + " Fix: " + f.Fix
		if host != "" {
			want = host + ": " + want
		}
		if str(res, "message", "text") != want {
			t.Errorf("result %s: message %q, want %q", id, str(res, "message", "text"), want)
		}
		locs := arr(t, res, "locations")
		loc := obj(t, locs[0], "physicalLocation")
		uri, base := str(loc, "artifactLocation", "uri"), str(loc, "artifactLocation", "uriBaseId")
		switch {
		case host == "" && (uri != strings.TrimPrefix(f.Path, "/") || base != rootBaseID):
			t.Errorf("result %s: uri %q base %q for path %q", id, uri, base, f.Path)
		case host != "" && (uri != host+f.Path || base != ""):
			t.Errorf("result %s: uri %q base %q for path %q on %s", id, uri, base, f.Path, host)
		}
		if str(res, "properties", "host") != host {
			t.Errorf("result %s: properties.host %q, want %q", id, str(res, "properties", "host"), host)
		}
		if line := obj(t, loc, "region")["startLine"]; line != 1.0 {
			t.Errorf("result %s: startLine %v", id, line)
		}
		if fp := str(res, "partialFingerprints", fingerprintKey); fp != fingerprint(host, f.ID, f.Path) {
			t.Errorf("result %s: fingerprint %q", id, fp)
		}
	}

	props := obj(t, run, "properties")
	if props["profile"] != reports[0].Profile {
		t.Errorf("run properties %v for profile %s", props, reports[0].Profile)
	}
	inv := arr(t, run, "invocations")
	if len(inv) != 1 || inv[0].(map[string]any)["executionSuccessful"] != (errors == 0) {
		t.Errorf("invocations %v, want one, successful = %v", inv, errors == 0)
	}
	base, hasBase := run.(map[string]any)["originalUriBaseIds"]
	if reports[0].Host != "" {
		if hasBase {
			t.Errorf("host run maps ROOTPATH to a local file: %v", base)
		}
	} else if want := "file://" + strings.TrimSuffix(reports[0].Root, "/") + "/"; str(base, "ROOTPATH", "uri") != want {
		t.Errorf("originalUriBaseIds %v, want ROOTPATH %s", base, want)
	}
}

func TestSARIFSynthesisesMissingRules(t *testing.T) {
	r := findingsReport()
	r.Rules = nil
	var log struct {
		Runs []sarifRun `json:"runs"`
	}
	if err := json.Unmarshal([]byte(writeString(t, "sarif", []Report{r}, testOpts)), &log); err != nil {
		t.Fatal(err)
	}
	rules := log.Runs[0].Tool.Driver.Rules
	var ids []string
	for _, rule := range rules {
		ids = append(ids, rule.ID)
	}
	if want := []string{"HUB001", "HUB003", "HUB004", "SITE100"}; !slices.Equal(ids, want) {
		t.Fatalf("rules %v, want %v", ids, want)
	}
	if got := rules[0]; got.Name != "CookieSecretIsPrivate" || got.ShortDescription.Text != "Cookie secret is private" ||
		got.DefaultConfiguration.Level != "error" {
		t.Errorf("rule from finding: %+v", got)
	}
	if got := rules[3]; got.Name != "SITE100" || got.ShortDescription.Text != "SITE100" {
		t.Errorf("rule from a finding without title: %+v", got)
	}
}

func TestFingerprintIsStable(t *testing.T) {
	a := fingerprint("hub1", "HUB001", "/srv/jupyterhub/jupyterhub_cookie_secret")
	if !regexp.MustCompile(`^[0-9a-f]{16}:1$`).MatchString(a) {
		t.Errorf("fingerprint %q: want GitHub's primaryLocationLineHash shape, 16 hex digits and :1", a)
	}
	tests := []struct {
		name          string
		host, rule, p string
		wantEqual     bool
	}{
		{"same host, rule and path", "hub1", "HUB001", "/srv/jupyterhub/jupyterhub_cookie_secret", true},
		{"other host", "hub2", "HUB001", "/srv/jupyterhub/jupyterhub_cookie_secret", false},
		{"no host", "", "HUB001", "/srv/jupyterhub/jupyterhub_cookie_secret", false},
		{"other path", "hub1", "HUB001", "/srv/jupyterhub/dhparam.pem", false},
		{"other rule", "hub1", "HUB002", "/srv/jupyterhub/jupyterhub_cookie_secret", false},
		{"no ambiguity at the join", "hub1", "HUB00", "1/srv/jupyterhub/jupyterhub_cookie_secret", false},
	}
	for _, tt := range tests {
		if got := fingerprint(tt.host, tt.rule, tt.p) == a; got != tt.wantEqual {
			t.Errorf("%s: equal = %v, want %v", tt.name, got, tt.wantEqual)
		}
	}
}

func TestHelpURI(t *testing.T) {
	tests := []struct {
		rule Rule
		want string
	}{
		{Rule{ID: "HUB012"}, policyDocURI + "#hub012"},
		{Rule{ID: "HUB012", HelpURI: "https://example.org/hub012"}, "https://example.org/hub012"},
		{Rule{ID: "HUB012", HelpURI: "policy/README.md#hub012"}, policyDocURI + "#hub012"},
		{Rule{ID: "HUB012", HelpURI: "/policy/README.md#hub012"}, policyDocURI + "#hub012"},
		{Rule{ID: "HUB012", HelpURI: "README.md#hub012"}, policyDocURI + "#hub012"},
		{Rule{ID: "SITE100"}, ""},
		{Rule{ID: "SITE100", HelpURI: "https://wiki.example.org/site100"}, "https://wiki.example.org/site100"},
	}
	for _, tt := range tests {
		if got := helpURI(tt.rule); got != tt.want {
			t.Errorf("helpURI(%+v) = %q, want %q", tt.rule, got, tt.want)
		}
	}
}

func TestHostURI(t *testing.T) {
	tests := []struct{ host, path, want string }{
		{"hub1.example.org", "/srv/jupyterhub/x", "hub1.example.org/srv/jupyterhub/x"},
		{"hub1:2222", "/srv/x", "./hub1:2222/srv/x"},
		{"10.0.0.7", "/", "10.0.0.7/"},
		{"hub1", "/srv/my hub/x", "hub1/srv/my%20hub/x"},
	}
	for _, tt := range tests {
		if got := hostURI(tt.host, tt.path); got != tt.want {
			t.Errorf("hostURI(%q, %q) = %q, want %q", tt.host, tt.path, got, tt.want)
		}
	}
}

func TestRelativeURI(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/srv/jupyterhub/proxy_auth_token", "srv/jupyterhub/proxy_auth_token"},
		{"srv/jupyterhub", "srv/jupyterhub"},
		{"/srv/my hub/x#1", "srv/my%20hub/x%231"},
		{"/srv/../etc/passwd", "etc/passwd"},
		{"/a:b", "./a:b"}, // not a scheme
		{"/", "./"},
		{"", "./"},
	}
	for _, tt := range tests {
		if got := relativeURI(tt.path); got != tt.want {
			t.Errorf("relativeURI(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestRootDirURI(t *testing.T) {
	tests := []struct {
		r      Report
		want   string
		wantOK bool
	}{
		{Report{Root: "/mnt/img"}, "file:///mnt/img/", true},
		{Report{Root: "/mnt/img/"}, "file:///mnt/img/", true},
		{Report{Root: "/"}, "file:///", true},
		{Report{Root: "/mnt/my img"}, "file:///mnt/my%20img/", true},
		{Report{Root: "img"}, "", false},
		{Report{Root: "/tmp/image.tar.gz"}, "", false},
		{Report{Root: "/tmp/IMAGE.TAR"}, "", false},
		{Report{Root: "/", Host: "hub1"}, "", false},
	}
	for _, tt := range tests {
		got, ok := rootDirURI(tt.r)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("rootDirURI(%+v) = %q, %v; want %q, %v", tt.r, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCamelCase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Cookie secret is private", "CookieSecretIsPrivate"},
		{"DH parameters: 2048 bits or more", "DHParameters2048BitsOrMore"},
		{"no-group/other read", "NoGroupOtherRead"},
		{"HUB001", "HUB001"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := camelCase(tt.in); got != tt.want {
			t.Errorf("camelCase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSARIFSchema validates every fixture's output against the SARIF 2.1.0
// JSON schema (testdata, see its NOTICE), with OPA's json.match_schema:
// OPA is already a dependency, so the test needs no schema library of its own.
// sarifValidator returns a check of a decoded document against the OASIS
// SARIF 2.1.0 schema in testdata: whether it is valid, and the errors.
func sarifValidator(t *testing.T) func(doc any) (bool, any) {
	t.Helper()
	schema, err := os.ReadFile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	query, err := rego.New(rego.Query("result := json.match_schema(input.doc, input.schema)")).
		PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return func(doc any) (bool, any) {
		rs, err := query.Eval(context.Background(), rego.EvalInput(map[string]any{"doc": doc, "schema": string(schema)}))
		if err != nil {
			t.Fatal(err)
		}
		res := rs[0].Bindings["result"].([]any)
		return res[0].(bool), res[1]
	}
}

func TestSARIFSchema(t *testing.T) {
	validate := sarifValidator(t)
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte(writeString(t, "sarif", fx.reports(), testOpts)), &doc); err != nil {
				t.Fatal(err)
			}
			if ok, errs := validate(doc); !ok {
				t.Errorf("not valid SARIF 2.1.0: %v", errs)
			}
		})
	}
	// The validator must be able to say no.
	t.Run("invalid level is rejected", func(t *testing.T) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(writeString(t, "sarif", []Report{findingsReport()}, testOpts)), &doc); err != nil {
			t.Fatal(err)
		}
		arr(t, arr(t, doc, "runs")[0], "results")[0].(map[string]any)["level"] = "fatal"
		if ok, _ := validate(doc); ok {
			t.Error("a result with level \"fatal\" passed the schema")
		}
	})
}

// Code scanning keeps one analysis per tool and category: one run per
// invocation leaves the category to the uploader; runs of several
// profiles in one file need their own.
func TestSARIFAutomationDetails(t *testing.T) {
	tests := []struct {
		name    string
		reports []Report
		want    []string
	}{
		{"one root", []Report{{Profile: "image", Root: "/mnt/a"}}, []string{""}},
		{"two roots", []Report{{Profile: "image", Root: "/mnt/a"}, {Profile: "image", Root: "/"}}, []string{""}},
		{"hosts", []Report{{Profile: "instance", Root: "/", Host: "hub1"}, {Profile: "instance", Root: "/", Host: "hub2"}}, []string{""}},
		{"two profiles", []Report{{Profile: "image", Root: "/mnt/a"}, {Profile: "instance", Root: "/"}},
			[]string{"hubsecrets/image/", "hubsecrets/instance/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log map[string]any
			if err := json.Unmarshal([]byte(writeString(t, "sarif", tt.reports, testOpts)), &log); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, run := range arr(t, log, "runs") {
				got = append(got, str(run, "automationDetails", "id"))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("automationDetails ids %q, want %q", got, tt.want)
			}
		})
	}
}
