package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

// The testdata documents were written by `hubsecrets facts` from real trees:
// tutorial.json is what the tutorial leaves (empty cookie secret, the secret
// in jupyterhub_cookie_secretl, group sudo, mode 0600); good-instance.json a
// correct instance with the first-boot hook; good-image.json a correct image.
// Facts never hold a secret's value, so they are safe to keep as golden files.
func loadDoc(t testing.TB, name string) *facts.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc facts.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &doc
}

func newEngine(t testing.TB, opt Options) *Engine {
	t.Helper()
	e, err := NewEngine(context.Background(), opt)
	if err != nil {
		t.Fatalf("NewEngine(%+v): %v", opt, err)
	}
	return e
}

func evaluate(t testing.TB, e *Engine, doc *facts.Document) report.Report {
	t.Helper()
	r, err := e.Evaluate(context.Background(), doc)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return r
}

// summary lists findings as "severity id path", in report order.
func summary(r report.Report) []string {
	out := []string{}
	for _, f := range r.Findings {
		out = append(out, f.Severity+" "+f.ID+" "+f.Path)
	}
	return out
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvaluateTutorial(t *testing.T) {
	r := evaluate(t, newEngine(t, Options{}), loadDoc(t, "tutorial.json"))
	want := []string{
		"deny HUB016 /srv/jupyterhub/jupyterhub_cookie_secret",
		"warn HUB029 /srv/jupyterhub/dhparam.pem",
		"warn HUB035 /srv/jupyterhub/jupyterhub_cookie_secret",
		"warn HUB040 /srv/jupyterhub/jupyterhub_cookie_secretl",
		"warn HUB035 /srv/jupyterhub/proxy_auth_token",
	}
	if got := summary(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("findings:\n got %q\nwant %q", got, want)
	}
	if r.Summary != (report.Summary{Deny: 1, Warn: 4}) {
		t.Errorf("summary %+v, want 1 deny 4 warn", r.Summary)
	}
	if r.Profile != ProfileInstance || r.Root != "/tmp/tut" || r.Host != "" {
		t.Errorf("profile %q root %q host %q", r.Profile, r.Root, r.Host)
	}
	deny := r.Findings[0]
	if deny.Title != "Secret is empty" || deny.Fix != "sudo hubsecrets init --rotate" ||
		!strings.Contains(deny.Msg, "silently replaces an empty cookie secret") {
		t.Errorf("HUB016 finding: %+v", deny)
	}
	misspelt := r.Findings[3]
	if want := "jupyterhub_cookie_secretl looks like a misspelling of jupyterhub_cookie_secret: the secret may have been written there and the real file left empty"; !strings.Contains(misspelt.Msg, want) {
		t.Errorf("HUB040 msg %q, want it to contain %q", misspelt.Msg, want)
	}
	if misspelt.Fix != "sudo mkdir -p -m 0700 /root/hubsecrets-moved && sudo mv -i /srv/jupyterhub/jupyterhub_cookie_secretl /root/hubsecrets-moved/ # then delete it once you know it holds nothing you need" {
		t.Errorf("HUB040 fix %q", misspelt.Fix)
	}
	for _, f := range r.Findings {
		if f.Title == "" || f.Msg == "" || f.Fix == "" {
			t.Errorf("finding without title, msg or fix: %+v", f)
		}
	}
}

func TestEvaluateGoodTrees(t *testing.T) {
	cases := []struct {
		profile, doc string
		want         []string
	}{
		{ProfileInstance, "good-instance.json", []string{}},
		{"", "good-instance.json", []string{}},
		{ProfileImage, "good-image.json", []string{}},
		// An instance is not an image: its secrets, stamp and machine-id
		// would be cloned.
		{ProfileImage, "good-instance.json", []string{
			"deny HUB032 /etc/machine-id",
			"deny HUB030 /srv/jupyterhub/jupyterhub_cookie_secret",
			"deny HUB030 /srv/jupyterhub/proxy_auth_token",
			"deny HUB060 /usr/local/libexec/hubsecrets/jupyterhub-secrets",
			"warn HUB031 /srv/jupyterhub/.hubsecrets-instance",
		}},
		// An image is not a working instance: its secrets are missing.
		{ProfileInstance, "good-image.json", []string{
			"deny HUB010 /srv/jupyterhub/jupyterhub_cookie_secret",
			"deny HUB010 /srv/jupyterhub/proxy_auth_token",
		}},
	}
	for _, c := range cases {
		t.Run(c.profile+"/"+c.doc, func(t *testing.T) {
			r := evaluate(t, newEngine(t, Options{Profile: c.profile}), loadDoc(t, c.doc))
			if got := summary(r); !reflect.DeepEqual(got, c.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, c.want)
			}
			if want := c.profile; want != "" && r.Profile != want {
				t.Errorf("profile %q, want %q", r.Profile, want)
			}
			if len(r.Rules) == 0 {
				t.Error("report lists no rules")
			}
		})
	}
}

func TestUnknownProfile(t *testing.T) {
	_, err := NewEngine(context.Background(), Options{Profile: "x"})
	if err == nil || err.Error() != `unknown profile "x": want instance or image` {
		t.Fatalf("err = %v", err)
	}
}

func TestRules(t *testing.T) {
	rules := newEngine(t, Options{}).Rules()
	byID := map[string]report.Rule{}
	for i, r := range rules {
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rules not sorted by unique id: %s then %s", rules[i-1].ID, r.ID)
		}
		if r.Title == "" || r.Description == "" {
			t.Errorf("rule %s lacks title or description: %+v", r.ID, r)
		}
		byID[r.ID] = r
	}
	for id, severity := range map[string]string{
		"HUB001": "deny", "HUB002": "deny", "HUB003": "deny", "HUB004": "deny", "HUB005": "deny", "HUB007": "deny",
		"HUB010": "deny", "HUB011": "deny", "HUB012": "deny", "HUB013": "deny", "HUB014": "deny",
		"HUB015": "deny", "HUB016": "deny", "HUB017": "deny", "HUB018": "deny", "HUB019": "deny",
		"HUB020": "deny", "HUB021": "deny", "HUB022": "deny", "HUB023": "deny", "HUB024": "deny",
		"HUB025": "deny", "HUB026": "deny", "HUB027": "deny", "HUB028": "deny", "HUB029": "warn",
		"HUB030": "deny", "HUB031": "warn", "HUB032": "deny", "HUB033": "deny", "HUB034": "deny",
		"HUB035": "warn", "HUB037": "deny", "HUB040": "warn", "HUB041": "deny", "HUB042": "deny",
		"HUB043": "deny", "HUB044": "warn", "HUB045": "deny", "HUB046": "warn", "HUB047": "deny",
		"HUB048": "deny", "HUB049": "warn", "HUB050": "warn", "HUB051": "warn", "HUB052": "warn",
		"HUB053": "warn", "HUB054": "warn", "HUB055": "deny", "HUB056": "warn", "HUB057": "warn",
		"HUB008": "deny", "HUB009": "deny", "HUB038": "deny", "HUB039": "deny",
		"HUB061": "warn", "HUB062": "warn",
		"HUB036": "deny", "HUB058": "deny", "HUB059": "warn",
		"HUB006": "deny", "HUB060": "deny", "HUB063": "deny", "HUB064": "deny",
	} {
		if got := byID[id].Severity; got != severity {
			t.Errorf("rule %s severity %q, want %q", id, got, severity)
		}
	}
	if len(rules) != 64 {
		t.Errorf("%d rules, want 64", len(rules))
	}
	// Rules returns a copy: callers cannot change the engine's list.
	rules[0].ID = "changed"
	if newEngine(t, Options{}).Rules()[0].ID == "changed" {
		t.Error("Rules shares its slice")
	}
}

const sitePolicy = `package site.extra

# METADATA
# title: Secrets directory must be 0700
# description: This site keeps the secrets directory closed to everyone else.
# custom:
#   id: SITE001
#   severity: deny
deny contains msg if {
	input.dir.mode != 448
	msg := sprintf("%s has mode %s, this site wants 0700", [input.dir.path, input.dir.mode_octal])
}

warn contains "image scanned" if input.profile == "image"

warn contains {"id": "SITE002", "path": input.machine_id.path, "msg": "machine-id looked at", "fix": "none"} if {
	input.machine_id.state == "initialized"
}
`

func TestUserPolicyJoinsReport(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "site.rego", sitePolicy)
	// A boolean rule that does not fire must not hide the other packages.
	writeFile(t, dir, "sub/quiet.rego", "package site.quiet\n\ndeny if input.never\n")
	// Tests and data files in a policy directory are not loaded as policy.
	writeFile(t, dir, "site_test.rego", "package site.extra_test\n\ntest_broken if undefined_function(1)\n")
	writeFile(t, dir, "notes.json", `{"not": "data"}`)

	e := newEngine(t, Options{PolicyDirs: []string{dir}})
	r := evaluate(t, e, loadDoc(t, "good-instance.json"))
	want := []string{
		"deny SITE001 ",
		"warn SITE002 /etc/machine-id",
	}
	if got := summary(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("findings:\n got %q\nwant %q", got, want)
	}
	f := r.Findings[0]
	if f.Title != "Secrets directory must be 0700" || f.Msg != "/srv/jupyterhub has mode 0755, this site wants 0700" {
		t.Errorf("string finding: %+v", f)
	}

	r = evaluate(t, newEngine(t, Options{Profile: ProfileImage, PolicyDirs: []string{dir}}), loadDoc(t, "good-image.json"))
	want = []string{"deny SITE001 ", "warn USER "}
	if got := summary(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("image findings:\n got %q\nwant %q", got, want)
	}
	if r.Findings[1].Msg != "image scanned" || r.Findings[1].Title != "Site policy rule" {
		t.Errorf("anonymous string finding: %+v", r.Findings[1])
	}

	ids := map[string]bool{}
	for _, rule := range e.Rules() {
		ids[rule.ID] = true
	}
	for _, id := range []string{"HUB001", "SITE001", UserID} {
		if !ids[id] {
			t.Errorf("Rules() lacks %s", id)
		}
	}
}

func TestUserBooleanRule(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.rego", "package site.flag\n\ndeny if input.dir.mode == 493\n")
	r := evaluate(t, newEngine(t, Options{PolicyDirs: []string{dir}}), loadDoc(t, "good-instance.json"))
	if got, want := summary(r), []string{"deny USER "}; !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if r.Findings[0].Msg != "data.site.flag.deny is true" {
		t.Errorf("msg %q", r.Findings[0].Msg)
	}
}

func TestUserFindingWithoutMsg(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "m.rego", "package site.nomsg\n\ndeny contains {\"text\": \"x\"} if true\n")
	_, err := newEngine(t, Options{PolicyDirs: []string{dir}}).Evaluate(context.Background(), loadDoc(t, "good-instance.json"))
	if err == nil || !strings.Contains(err.Error(), `data.site.nomsg.deny: a finding object needs a non-empty "msg" string (it has keys text)`) {
		t.Fatalf("err = %v", err)
	}
}

func TestUserDataOverridesParams(t *testing.T) {
	dir := t.TempDir()
	strict := writeFile(t, dir, "strict.json", `{"hubsecrets": {"params": {"min_dh_bits": 3072}}}`)
	r := evaluate(t, newEngine(t, Options{DataFiles: []string{strict}}), loadDoc(t, "good-instance.json"))
	if got, want := summary(r), []string{"deny HUB026 /srv/jupyterhub/dhparam.pem"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if r.Findings[0].Fix != "sudo hubsecrets dhparam --group ffdhe3072 -o /srv/jupyterhub/dhparam.pem --force" {
		t.Errorf("fix %q", r.Findings[0].Fix)
	}

	// YAML, a site group that may read the secrets.
	lenient := writeFile(t, dir, "group.yaml", "hubsecrets:\n  params:\n    allow_group_read: true\n    group: jupyterhub\n")
	doc := loadDoc(t, "good-instance.json")
	for _, k := range []string{facts.CookieSecret, facts.ProxyToken} {
		f := doc.Files[k]
		f.Mode, f.Group, f.GID = 0o640, "jupyterhub", 990
		doc.Files[k] = f
	}
	dh := doc.Files[facts.DHParam]
	dh.Group = "jupyterhub"
	doc.Files[facts.DHParam] = dh
	if got := summary(evaluate(t, newEngine(t, Options{DataFiles: []string{lenient}}), doc)); len(got) != 0 {
		t.Errorf("with allow_group_read: findings %q, want none", got)
	}
	if got := summary(evaluate(t, newEngine(t, Options{}), doc)); len(got) == 0 {
		t.Error("without allow_group_read: no findings for 0640 secrets")
	}
}

func TestNewEngineErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "policies/bad.rego", "package site.bad\n\ndeny contains msg if {\n\tmsg := \n}\n")
	v0 := writeFile(t, dir, "v0/old.rego", "package site.old\n\ndeny[msg] {\n\tmsg := \"x\"\n}\n")
	undefinedFn := writeFile(t, dir, "compile/c.rego", "package site.c\n\ndeny contains x if x := nosuch(1)\n")
	badJSON := writeFile(t, dir, "bad.json", `{"hubsecrets": `)
	typo := writeFile(t, dir, "typo.json", `{"hubsecrets": {"params": {"allow_group_reads": true}}}`)
	octal := writeFile(t, dir, "octal.json", `{"hubsecrets": {"params": {"secret_modes": [600]}}}`)
	rego := writeFile(t, dir, "data/policy.rego", "package x\n")
	missing := filepath.Join(dir, "missing.json")

	cases := []struct {
		name string
		opt  Options
		want []string
	}{
		{"syntax error", Options{PolicyDirs: []string{filepath.Dir(bad)}}, []string{"load policy", bad + ":5", "rego_parse_error"}},
		{"rego v0", Options{PolicyDirs: []string{filepath.Dir(v0)}}, []string{v0 + ":3", "rego_parse_error"}},
		{"compile error", Options{PolicyDirs: []string{filepath.Dir(undefinedFn)}}, []string{"compile policy", undefinedFn + ":3", "nosuch"}},
		{"missing policy dir", Options{PolicyDirs: []string{filepath.Join(dir, "nope")}}, []string{"load policy", filepath.Join(dir, "nope")}},
		{"missing data file", Options{DataFiles: []string{missing}}, []string{"load data", missing}},
		{"bad json", Options{DataFiles: []string{badJSON}}, []string{"load data", badJSON}},
		{"rego as data", Options{DataFiles: []string{rego}}, []string{rego, "is a Rego policy, not a data file"}},
		{"unknown param", Options{DataFiles: []string{typo}}, []string{typo, "hubsecrets.params.allow_group_reads: unknown parameter"}},
		{"numeric mode", Options{DataFiles: []string{octal}}, []string{octal, "hubsecrets.params.secret_modes: want a non-empty list of octal mode strings"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewEngine(context.Background(), c.opt)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestEvaluateRejectsIncompleteFacts(t *testing.T) {
	e := newEngine(t, Options{})
	noCookie := loadDoc(t, "good-instance.json")
	delete(noCookie.Files, facts.CookieSecret)
	noStamp := loadDoc(t, "good-instance.json")
	delete(noStamp.FirstBoot, facts.FirstBootStamp)
	noSummary := loadDoc(t, "good-instance.json")
	tok := noSummary.Files[facts.ProxyToken]
	tok.Secret = nil
	noSummary.Files[facts.ProxyToken] = tok
	noDH := loadDoc(t, "good-instance.json")
	dh := noDH.Files[facts.DHParam]
	dh.DH = nil
	noDH.Files[facts.DHParam] = dh
	oldSchema := loadDoc(t, "good-instance.json")
	oldSchema.Schema = "hubsecrets/facts/v0"
	for doc, want := range map[*facts.Document]string{
		nil:       "no facts document",
		noCookie:  "facts document is incomplete: no files.cookie_secret",
		noStamp:   "facts document is incomplete: no firstboot.stamp",
		noSummary: "facts document is incomplete: files.proxy_token is a regular file without a secret summary",
		noDH:      "facts document is incomplete: files.dhparam is a regular file without a DH summary",
		oldSchema: `facts document has schema "hubsecrets/facts/v0", want "hubsecrets/facts/v1"`,
	} {
		if _, err := e.Evaluate(context.Background(), doc); err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestEvaluateHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newEngine(t, Options{}).Evaluate(ctx, loadDoc(t, "tutorial.json")); err == nil {
		t.Fatal("Evaluate with a cancelled context succeeded")
	}
}

// TestConcurrentEvaluate shares one engine between goroutines, as a fleet
// scan does; run with -race.
func TestConcurrentEvaluate(t *testing.T) {
	e := newEngine(t, Options{})
	docs := []*facts.Document{loadDoc(t, "tutorial.json"), loadDoc(t, "good-instance.json"), loadDoc(t, "good-image.json")}
	want := make([][]string, len(docs))
	for i, d := range docs {
		want[i] = summary(evaluate(t, e, d))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 25 {
				i := (g + n) % len(docs)
				r, err := e.Evaluate(context.Background(), docs[i])
				if err != nil {
					errs <- err
					return
				}
				if got := summary(r); !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Errorf("doc %d: got %q, want %q", i, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	e := newEngine(b, Options{})
	doc := loadDoc(b, "tutorial.json")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Evaluate(ctx, doc); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSiteCannotRetitleEmbeddedRule(t *testing.T) {
	// A relative name that sorts before the embedded modules' names.
	t.Chdir(t.TempDir())
	writeFile(t, ".", "a/a.rego", `package aaa

# METADATA
# title: Mine
# description: a site rule reusing an embedded id
# custom:
#   id: HUB001
#   severity: warn
warn contains "x" if false
`)
	for _, r := range newEngine(t, Options{PolicyDirs: []string{"a"}}).Rules() {
		if r.ID == "HUB001" && r.Title != "Secrets directory missing" {
			t.Errorf("HUB001 retitled: %+v", r)
		}
	}
}
