// Package checker judges a JupyterHub secrets directory: its subpackages
// observe a source into a facts document (checker/facts, checker/source), and
// the Engine here evaluates that document against the Rego policy (policy/)
// plus a site's policies and data, returning a report of findings.
package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/policy"
)

// Profiles say what a scanned root is, and so which rules apply.
const (
	// ProfileInstance is a running hub host: every file present, valid,
	// distinct, with the right owner and mode.
	ProfileInstance = "instance"
	// ProfileImage is a machine image: no per-instance secret present, the
	// directory and DH parameters right, the first-boot hook installed.
	ProfileImage = "image"
)

// UserID is the id of a finding from a site policy rule that names none: a
// string finding, or an object without "id", from a rule without METADATA
// custom.id.
const UserID = "USER"

// Options say which policy an Engine evaluates.
type Options struct {
	// Profile is ProfileInstance (the default when empty) or ProfileImage.
	Profile string
	// PolicyDirs are site policies: .rego files, directories of them
	// (loaded recursively, *_test.rego files skipped), or OPA bundles (a
	// gzipped tarball, or a directory with a .manifest), whose data joins
	// data. A path that holds none of these is an error.
	PolicyDirs []string
	// DataFiles are JSON or YAML files (or directories of them) merged into
	// data, as opa eval --data does; e.g. {"hubsecrets": {"params": {...}}}
	// sets the policy's parameters.
	DataFiles []string
	// Params are site parameters set by the caller's own options (a CLI
	// flag, a provisioner option), merged over DataFiles' hubsecrets.params
	// and validated like them.
	Params map[string]any
}

// Engine evaluates facts documents against the embedded policy and the
// site's policies and data. It is compiled once by NewEngine; Evaluate is
// safe for concurrent use.
type Engine struct {
	profile string
	query   rego.PreparedEvalQuery
	// paramsQuery asks the policy for the parameters in force.
	paramsQuery rego.PreparedEvalQuery
	// sources are the deny and warn rules the query evaluates, in the order
	// of its bindings (r0, r1, ...).
	sources []ruleSource
	rules   []report.Rule
	titles  map[string]string
	// revision is PolicyRevision's answer (revision.go).
	revision string
}

// ruleSource is one deny or warn rule of one package.
type ruleSource struct {
	ref      string // e.g. data.hubsecrets.deny
	severity string
	// defaultID is the id of a finding that names none: the one custom.id
	// of all of the rule's bodies, or UserID.
	defaultID string
}

// NewEngine loads and compiles the embedded policy with opt's policies and
// data, and prepares the evaluation. Errors name the file at fault.
func NewEngine(ctx context.Context, opt Options) (*Engine, error) {
	profile := opt.Profile
	if profile == "" {
		profile = ProfileInstance
	}
	if profile != ProfileInstance && profile != ProfileImage {
		return nil, fmt.Errorf("unknown profile %q: want %s or %s", profile, ProfileInstance, ProfileImage)
	}

	site, err := loadSite(opt.PolicyDirs)
	if err != nil {
		return nil, err
	}
	modules, err := loadModules(site)
	if err != nil {
		return nil, err
	}
	documents, err := loadData(opt.DataFiles)
	if err != nil {
		return nil, err
	}
	for i, sp := range site {
		if err := mergeData(documents, sp.data, ""); err != nil {
			return nil, fmt.Errorf("load policy: bundle %s: %w", opt.PolicyDirs[i], err)
		}
	}
	if err := checkDataShape(documents); err != nil {
		return nil, fmt.Errorf("load data from %s: %w", strings.Join(append(slices.Clone(opt.DataFiles), opt.PolicyDirs...), ", "), err)
	}
	if len(opt.Params) > 0 {
		overlayParams(documents, opt.Params)
	}
	compiler := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, fmt.Errorf("compile policy: %w", compiler.Errors)
	}
	store := inmem.NewFromObject(documents)

	if err := checkParams(ctx, compiler, store, paramSources(opt)); err != nil {
		return nil, err
	}

	e := &Engine{profile: profile, titles: map[string]string{}, revision: policyRevision(site)}
	e.sources, e.rules = findingRules(compiler)
	for _, r := range e.rules {
		e.titles[r.ID] = r.Title
	}
	bindings := make([]string, len(e.sources))
	for i, s := range e.sources {
		// A comprehension is always defined, so one package's undefined
		// rule (a boolean deny that did not fire) cannot hide the others.
		bindings[i] = fmt.Sprintf("r%d := [x | x := %s]", i, s.ref)
	}
	// A builtin error inside a rule must not pass silently as "no finding".
	prepare := func(query string) (rego.PreparedEvalQuery, error) {
		q, err := rego.New(
			rego.Query(query),
			rego.Compiler(compiler),
			rego.Store(store),
			rego.SetRegoVersion(ast.RegoV1),
			rego.StrictBuiltinErrors(true),
		).PrepareForEval(ctx)
		if err != nil {
			return q, fmt.Errorf("prepare policy: %w", err)
		}
		return q, nil
	}
	if e.query, err = prepare(strings.Join(bindings, "; ")); err != nil {
		return nil, err
	}
	if e.paramsQuery, err = prepare("cfg := data.hubsecrets.cfg; secret := data.hubsecrets.allowed_secret_modes; dh := data.hubsecrets.dh_modes; " +
		"qp := data.hubsecrets.quality_max_period; qr := data.hubsecrets.quality_min_run; qd := data.hubsecrets.quality_min_distinct"); err != nil {
		return nil, err
	}
	return e, nil
}

// Params returns the parameters in force for doc: the policy's defaults,
// then the contract doc carries (the host's own parameters file), then the
// site's data. A nil doc gives the defaults and the site's data. Parts that
// make or install something take their owner, modes and sizes from here,
// so that what they make is what the policy accepts.
func (e *Engine) Params(ctx context.Context, doc *facts.Document) (params.Params, error) {
	var input ast.Value = ast.NewObject()
	if doc != nil {
		var err error
		if input, err = e.input(doc); err != nil {
			return params.Params{}, err
		}
	}
	rs, err := e.paramsQuery.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return params.Params{}, fmt.Errorf("policy parameters: %w", err)
	}
	if len(rs) != 1 {
		return params.Params{}, errors.New("policy parameters: data.hubsecrets.cfg is undefined")
	}
	var p params.Params
	if err := remarshal(rs[0].Bindings["cfg"], &p); err != nil {
		return params.Params{}, fmt.Errorf("policy parameters: %w", err)
	}
	if err := remarshal(rs[0].Bindings["secret"], &p.AllowedSecretModes); err != nil {
		return params.Params{}, fmt.Errorf("policy parameters: %w", err)
	}
	if err := remarshal(rs[0].Bindings["dh"], &p.AllowedDHParamModes); err != nil {
		return params.Params{}, fmt.Errorf("policy parameters: %w", err)
	}
	for name, v := range map[string]*int{"qp": &p.QualityMaxPeriod, "qr": &p.QualityMinRun, "qd": &p.QualityMinDistinct} {
		if err := remarshal(rs[0].Bindings[name], v); err != nil {
			return params.Params{}, fmt.Errorf("policy parameters: %w", err)
		}
	}
	if err := p.Validate(); err != nil {
		return params.Params{}, err
	}
	return p, nil
}

// remarshal converts an evaluation result (JSON-like values) to v.
func remarshal(from any, v any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// loadModules parses the embedded policy, with METADATA annotations, as
// Rego v1, and adds the site's (loadSite).
func loadModules(site []siteSource) (map[string]*ast.Module, error) {
	opts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	modules := map[string]*ast.Module{}
	for name, src := range policy.Modules() {
		m, err := ast.ParseModuleWithOpts(name, src, opts)
		if err != nil {
			return nil, fmt.Errorf("embedded policy: %w", err)
		}
		modules[name] = m
	}
	for _, sp := range site {
		maps.Copy(modules, sp.modules)
	}
	return modules, nil
}

// loadData loads JSON and YAML data files into one document, as opa eval
// --data does (a "prefix:file" path loads the file under data.prefix).
func loadData(files []string) (map[string]any, error) {
	if len(files) == 0 {
		return map[string]any{}, nil
	}
	res, err := loader.NewFileLoader().
		WithRegoVersion(ast.RegoV1).
		Filtered(files, func(_ string, info fs.FileInfo, depth int) bool {
			// In a directory, only data files; a file named explicitly is read
			// whatever its name.
			if info.IsDir() || depth == 0 {
				return false
			}
			switch filepath.Ext(info.Name()) {
			case ".json", ".yaml", ".yml":
				return false
			}
			return true
		})
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	if len(res.Modules) > 0 {
		name := res.Modules[slices.Sorted(maps.Keys(res.Modules))[0]].Name
		return nil, fmt.Errorf("load data: %s is a Rego policy, not a data file: pass it as a policy", name)
	}
	if err := checkDataShape(res.Documents); err != nil {
		return nil, fmt.Errorf("load data from %s: %w", strings.Join(files, ", "), err)
	}
	return res.Documents, nil
}

// overlayParams merges p over documents' hubsecrets.params, key by key.
func overlayParams(documents map[string]any, p map[string]any) {
	hs, _ := documents["hubsecrets"].(map[string]any)
	if hs == nil {
		hs = map[string]any{}
		documents["hubsecrets"] = hs
	}
	ps, _ := hs["params"].(map[string]any)
	if ps == nil {
		ps = map[string]any{}
		hs["params"] = ps
	}
	maps.Copy(ps, p)
}

// checkDataShape refuses a hubsecrets document the policy would silently
// ignore: it must be an object of params and host (the contract's shape).
func checkDataShape(docs map[string]any) error {
	hs, ok := docs["hubsecrets"]
	if !ok {
		return nil
	}
	m, ok := hs.(map[string]any)
	if !ok {
		return fmt.Errorf(`"hubsecrets" must be an object such as {"params": {"allow_group_read": true}}, not %s`, jsonType(hs))
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "params" && k != "host" {
			return fmt.Errorf(`"hubsecrets.%s": unknown key; a data file sets "hubsecrets.params" (and "hubsecrets.host" in a host's contract)`, k)
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a number"
}

// checkParams refuses site parameters the policy would not understand
// (param_errors in policy/params.rego): a misspelt parameter must not be
// silently ignored.
func checkParams(ctx context.Context, compiler *ast.Compiler, store storage.Store, sources []string) error {
	rs, err := rego.New(
		rego.Query("errs := data.hubsecrets.param_errors"),
		rego.Compiler(compiler),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
	).Eval(ctx)
	if err != nil {
		return fmt.Errorf("check site parameters: %w", err)
	}
	if len(rs) != 1 {
		return errors.New("check site parameters: data.hubsecrets.param_errors is undefined")
	}
	list, _ := rs[0].Bindings["errs"].([]any)
	if len(list) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(list))
	for _, m := range list {
		msgs = append(msgs, fmt.Sprint(m))
	}
	sort.Strings(msgs)
	return fmt.Errorf("site parameters in %s: %s", strings.Join(sources, ", "), strings.Join(msgs, "; "))
}

// paramSources names where site parameters came from, for errors.
func paramSources(opt Options) []string {
	src := slices.Clone(opt.DataFiles)
	if len(opt.Params) > 0 {
		src = append(src, "the options ("+strings.Join(slices.Sorted(maps.Keys(opt.Params)), ", ")+")")
	}
	return src
}

// findingRules finds every package's deny and warn rules, and the report
// rules their METADATA describes.
func findingRules(c *ast.Compiler) ([]ruleSource, []report.Rule) {
	type group struct {
		ruleSource
		ids       map[string]bool
		anonymous bool
	}
	groups := map[string]*group{}
	var rules []report.Rule
	seen := map[string]bool{}
	annotations := c.GetAnnotationSet()
	// The embedded policy first, so a site rule reusing one of its ids
	// cannot retitle it.
	names := slices.SortedFunc(maps.Keys(c.Modules), func(a, b string) int {
		ea, eb := strings.HasPrefix(a, policy.Origin), strings.HasPrefix(b, policy.Origin)
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		m := c.Modules[name]
		for _, rule := range m.Rules {
			ref := rule.Head.Ref()
			kind := rule.Head.Name.String()
			if len(ref) != 1 || kind != report.SeverityDeny && kind != report.SeverityWarn {
				continue
			}
			full := m.Package.Path.Append(ast.StringTerm(kind)).String()
			g := groups[full]
			if g == nil {
				g = &group{ruleSource: ruleSource{ref: full, severity: kind}, ids: map[string]bool{}}
				groups[full] = g
			}
			a := ruleAnnotations(annotations, rule)
			if a == nil {
				g.anonymous = true
				a = &ast.Annotations{
					Title:       "Site policy rule",
					Description: "A finding from a site policy's deny or warn rule that has no METADATA custom.id.",
					Custom:      map[string]any{"id": UserID},
				}
			}
			id := a.Custom["id"].(string)
			g.ids[id] = true
			if !seen[id] {
				seen[id] = true
				rules = append(rules, report.Rule{ID: id, Title: a.Title, Description: a.Description, Severity: kind})
			}
		}
	}
	sources := make([]ruleSource, 0, len(groups))
	for _, ref := range slices.Sorted(maps.Keys(groups)) {
		g := groups[ref]
		g.defaultID = UserID
		if len(g.ids) == 1 && !g.anonymous {
			for id := range g.ids {
				g.defaultID = id
			}
		}
		sources = append(sources, g.ruleSource)
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return sources, rules
}

// ruleAnnotations returns the closest METADATA (rule, document, package or
// subpackages scope) of a rule that sets custom.id, or nil.
func ruleAnnotations(as *ast.AnnotationSet, rule *ast.Rule) *ast.Annotations {
	for _, ref := range as.Chain(rule) {
		if a := ref.Annotations; a != nil {
			if id, ok := a.Custom["id"].(string); ok && id != "" {
				return a
			}
		}
	}
	return nil
}

// Rules returns every rule the engine evaluates, embedded and site's, sorted
// by id, as their METADATA describes them.
func (e *Engine) Rules() []report.Rule {
	return slices.Clone(e.rules)
}

// Evaluate judges one facts document and returns the report: findings
// sorted, every known rule listed, the profile, root and host set.
func (e *Engine) Evaluate(ctx context.Context, doc *facts.Document) (report.Report, error) {
	// OPA polls for cancellation only now and then; a short evaluation would
	// finish on a context that was already done.
	if err := ctx.Err(); err != nil {
		return report.Report{}, fmt.Errorf("evaluate policy: %w", err)
	}
	if err := validate(doc); err != nil {
		return report.Report{}, err
	}
	input, err := e.input(doc)
	if err != nil {
		return report.Report{}, err
	}
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return report.Report{}, fmt.Errorf("evaluate policy: %w", err)
	}
	if len(rs) != 1 {
		return report.Report{}, fmt.Errorf("evaluate policy: %d results, want 1", len(rs))
	}
	r := report.Report{
		Profile:  e.profile,
		Root:     doc.Source.Root,
		Host:     doc.Source.Host,
		Kind:     doc.Source.Kind,
		Findings: []report.Finding{},
		Rules:    e.Rules(),
	}
	for i, s := range e.sources {
		values, _ := rs[0].Bindings[fmt.Sprintf("r%d", i)].([]any)
		for _, v := range values {
			fs, err := e.findings(s, v)
			if err != nil {
				return report.Report{}, err
			}
			r.Findings = append(r.Findings, fs...)
		}
	}
	r.Sort()
	return r, nil
}

// validate refuses a document the policy cannot judge: nothing unobserved
// may pass because a key was absent.
func validate(doc *facts.Document) error {
	if doc == nil {
		return errors.New("no facts document")
	}
	if doc.Schema != facts.Schema {
		return fmt.Errorf("facts document has schema %q, want %q", doc.Schema, facts.Schema)
	}
	for _, k := range []string{facts.CookieSecret, facts.ProxyToken, facts.DHParam} {
		f, ok := doc.Files[k]
		switch {
		case !ok:
			return fmt.Errorf("facts document is incomplete: no files.%s", k)
		case f.Type != facts.TypeFile || f.Error != "":
			// Not read, or read failed (HUB041 reports it).
		case k == facts.DHParam && f.DH == nil:
			return fmt.Errorf("facts document is incomplete: files.%s is a regular file without a DH summary", k)
		case k != facts.DHParam && f.Secret == nil:
			return fmt.Errorf("facts document is incomplete: files.%s is a regular file without a secret summary", k)
		}
	}
	for _, k := range []string{facts.FirstBootScript, facts.FirstBootUnit, facts.FirstBootEnabled, facts.FirstBootDropIn, facts.FirstBootStamp} {
		if _, ok := doc.FirstBoot[k]; !ok {
			return fmt.Errorf("facts document is incomplete: no firstboot.%s", k)
		}
	}
	return nil
}

// input is the facts document as the policy sees it: its JSON plus
// "profile".
func (e *Engine) input(doc *facts.Document) (ast.Value, error) {
	b, err := json.Marshal(struct {
		*facts.Document
		Profile string `json:"profile"`
	}{doc, e.profile})
	if err != nil {
		return nil, fmt.Errorf("encode facts: %w", err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("encode facts: %w", err)
	}
	return v, nil
}

// findings turns the value of one deny or warn rule into findings. A
// partial set rule gives a set (an array here); a site's complete rule may
// give one string or object, or true.
func (e *Engine) findings(s ruleSource, v any) ([]report.Finding, error) {
	switch v := v.(type) {
	case []any:
		out := make([]report.Finding, 0, len(v))
		for _, item := range v {
			f, err := e.finding(s, item)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	case bool:
		if !v {
			return nil, nil
		}
		return []report.Finding{e.newFinding(s, s.defaultID, fmt.Sprintf("%s is true", s.ref))}, nil
	default:
		f, err := e.finding(s, v)
		if err != nil {
			return nil, err
		}
		return []report.Finding{f}, nil
	}
}

// finding turns one item of a deny or warn set into a finding: a string is
// the message; an object has "msg" and optionally "id", "path", "fix",
// "title".
func (e *Engine) finding(s ruleSource, item any) (report.Finding, error) {
	switch item := item.(type) {
	case string:
		return e.newFinding(s, s.defaultID, item), nil
	case map[string]any:
		msg, ok := item["msg"].(string)
		if !ok || msg == "" {
			return report.Finding{}, fmt.Errorf("%s: a finding object needs a non-empty \"msg\" string (it has keys %s)",
				s.ref, strings.Join(slices.Sorted(maps.Keys(item)), ", "))
		}
		id := s.defaultID
		if v, ok := item["id"]; ok && v != nil && fmt.Sprint(v) != "" {
			id = fmt.Sprint(v)
		}
		f := e.newFinding(s, id, msg)
		f.Path, _ = item["path"].(string)
		f.Fix, _ = item["fix"].(string)
		if title, ok := item["title"].(string); ok && f.Title == "" {
			f.Title = title
		}
		return f, nil
	default:
		return report.Finding{}, fmt.Errorf("%s: a finding must be a string or an object with \"msg\", not %T", s.ref, item)
	}
}

func (e *Engine) newFinding(s ruleSource, id, msg string) report.Finding {
	return report.Finding{ID: id, Severity: s.severity, Title: e.titles[id], Msg: msg}
}
