package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/logging"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/runtime"
	"github.com/sirupsen/logrus"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/policybundle"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// recipes reads docs/opa.md's fenced blocks marked "sh recipe=NAME": the
// command lines the test runs, so the documentation cannot drift from it.
func recipes(t *testing.T) map[string][][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "opa.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][][]string{}
	for _, m := range regexp.MustCompile("(?s)```sh recipe=(\\w+)\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		for _, line := range strings.Split(strings.TrimSpace(m[2]), "\n") {
			for _, cmd := range strings.Split(line, " && ") {
				out[m[1]] = append(out[m[1]], shellWords(t, cmd))
			}
		}
	}
	for _, name := range []string{"bundle", "facts", "eval", "conftest", "server"} {
		if len(out[name]) == 0 {
			t.Fatalf("docs/opa.md has no recipe=%s block", name)
		}
	}
	return out
}

// shellWords splits a command line as sh does for the recipes' words:
// blanks separate, single quotes keep everything.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var cur strings.Builder
	in, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			in, quoted = !in, true
		case r == ' ' && !in:
			if cur.Len() > 0 || quoted {
				words = append(words, cur.String())
			}
			cur.Reset()
			quoted = false
		default:
			cur.WriteRune(r)
		}
	}
	if in {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if cur.Len() > 0 || quoted {
		words = append(words, cur.String())
	}
	return words
}

// flags reads --name value pairs (and bare --name switches) after skip words.
func flags(t *testing.T, argv []string, skip int, switches ...string) (map[string]string, []string) {
	t.Helper()
	f, rest := map[string]string{}, []string{}
	for i := skip; i < len(argv); i++ {
		a := argv[i]
		switch {
		case slices.Contains(switches, a):
			f[a] = "true"
		case strings.HasPrefix(a, "-") && i+1 < len(argv):
			f[a] = argv[i+1]
			i++
		default:
			rest = append(rest, a)
		}
	}
	return f, rest
}

// key is one finding as every tool can say it.
func key(sev string, f map[string]any) string {
	s := func(k string) string { v, _ := f[k].(string); return v }
	return strings.Join([]string{sev, s("id"), s("path"), s("msg"), s("fix")}, " | ")
}

func keys(sev string, v any) []string {
	var out []string
	items, _ := v.([]any)
	for _, it := range items {
		out = append(out, key(sev, it.(map[string]any)))
	}
	return out
}

// recipeRun is the state of one run of the recipes: the working directory
// and what each tool found.
type recipeRun struct {
	t                 *testing.T
	dir, root         string
	profile           string
	evalFindings      []string
	failDefined       *bool
	conftestMsgs      []string
	serverFindings    []string
	serverDecisionLog *bytes.Buffer
	serverAddr        string
	stop              func()
}

func (r *recipeRun) path(p string) string {
	if filepath.IsAbs(p) {
		r.t.Fatalf("a recipe names the absolute path %s; the recipes work in the current directory", p)
	}
	return filepath.Join(r.dir, p)
}

func (r *recipeRun) readJSON(p string) any {
	b, err := os.ReadFile(r.path(p))
	if err != nil {
		r.t.Fatal(err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(b))
	if err != nil {
		r.t.Fatalf("%s: %v", p, err)
	}
	out, err := ast.JSON(v)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *recipeRun) exec(argv []string) {
	t := r.t
	t.Helper()
	redirect := ""
	if n := len(argv); n > 2 && argv[n-2] == ">" {
		argv, redirect = argv[:n-2], argv[n-1]
	}
	write := func(b []byte) {
		if redirect == "" {
			t.Fatalf("%q: want its output redirected to a file", argv)
		}
		if err := os.WriteFile(r.path(redirect), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	switch {
	case len(argv) > 2 && argv[0] == "go" && argv[1] == "run" && argv[2] == "./internal/policybundle/cmd/policybundle":
		f, _ := flags(t, argv, 3)
		var buf bytes.Buffer
		if err := policybundle.Build(&buf, f["-version"]); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.path(f["-output"]), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	case argv[0] == "hubsecrets":
		args := slices.Clone(argv[1:])
		for i := range args {
			if args[i] == "--root" {
				args[i+1] = r.root // the documented root is the test's tree
			}
			if args[i] == "--profile" {
				r.profile = args[i+1]
			}
		}
		res := runCLI(t, args...)
		if res.code != exitOK {
			t.Fatalf("hubsecrets %q: exit %d\n%s", args, res.code, res.stderr)
		}
		write([]byte(res.stdout))
	case argv[0] == "opa" && argv[1] == "eval":
		f, rest := flags(t, argv, 2, "--fail-defined")
		if len(rest) != 1 {
			t.Fatalf("%q: want one query", argv)
		}
		rs, err := rego.New(rego.Query(rest[0]), rego.LoadBundle(r.path(f["--bundle"])), rego.Input(r.readJSON(f["--input"]))).Eval(context.Background())
		if err != nil {
			t.Fatalf("%q: %v", argv, err)
		}
		if f["--fail-defined"] == "true" {
			defined := len(rs) > 0
			r.failDefined = &defined
			return
		}
		if len(rs) != 1 {
			t.Fatalf("%q: %d results", argv, len(rs))
		}
		for _, sev := range []string{"deny", "warn"} {
			r.evalFindings = append(r.evalFindings, keys(sev, rs[0].Bindings[sev])...)
		}
	case argv[0] == "mkdir" && argv[1] == "-p":
		if err := os.MkdirAll(r.path(argv[2]), 0o755); err != nil {
			t.Fatal(err)
		}
	case argv[0] == "tar" && argv[1] == "-xzf" && argv[3] == "-C":
		untar(t, r.path(argv[2]), r.path(argv[4]))
	case argv[0] == "conftest" && argv[1] == "test":
		r.conftest(argv)
	case argv[0] == "opa" && argv[1] == "run":
		r.server(argv)
	case argv[0] == "jq":
		if len(argv) != 3 || argv[1] != "{input: .}" {
			t.Fatalf("%q: the test knows the filter '{input: .}' only", argv)
		}
		b, _ := json.Marshal(map[string]any{"input": r.readJSON(argv[2])})
		write(b)
	case argv[0] == "curl":
		r.curl(argv)
	default:
		t.Fatalf("the test cannot run %q: teach it, or keep docs/opa.md to the commands it knows", argv)
	}
}

// conftest does what conftest test --namespace N does with a policy
// directory: load its .rego files, query data.N.deny, warn and violation
// with the file as input, and print each finding's msg.
func (r *recipeRun) conftest(argv []string) {
	t := r.t
	f, files := flags(t, argv, 2)
	res, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered([]string{r.path(f["--policy"])}, func(_ string, info fs.FileInfo, _ int) bool {
		return !info.IsDir() && filepath.Ext(info.Name()) != ".rego"
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Modules) == 0 {
		t.Fatalf("conftest --policy %s: no .rego files", f["--policy"])
	}
	mods := []func(*rego.Rego){}
	for name, m := range res.Modules {
		mods = append(mods, rego.Module(name, string(m.Raw)))
	}
	for _, file := range files {
		input := r.readJSON(file)
		for _, rule := range []string{"deny", "warn", "violation"} {
			q := fmt.Sprintf("data.%s.%s", f["--namespace"], rule)
			rs, err := rego.New(append(mods, rego.Query(q), rego.Input(input))...).Eval(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range rs {
				for _, it := range res.Expressions[0].Value.([]any) {
					msg, _ := it.(map[string]any)["msg"].(string)
					r.conftestMsgs = append(r.conftestMsgs, rule+" | "+msg)
				}
			}
		}
	}
}

// server runs opa run --server through OPA's runtime package, on a free
// port instead of the documented one, with the console decision logger
// captured.
func (r *recipeRun) server(argv []string) {
	t := r.t
	f, _ := flags(t, argv, 2, "--server")
	if f["--server"] != "true" {
		t.Fatalf("%q: want --server", argv)
	}
	r.serverAddr = f["--addr"]
	r.serverDecisionLog = &bytes.Buffer{}
	// opa run's console log format is JSON (--log-format json).
	console := logging.New()
	console.SetFormatter(&logrus.JSONFormatter{})
	console.SetOutput(&lockedWriter{w: r.serverDecisionLog})
	params := runtime.NewParams()
	params.Addrs = &[]string{"127.0.0.1:0"}
	params.Paths = []string{r.path(f["--bundle"])}
	params.BundleMode = true
	params.ConfigOverrides = []string{f["--set"]}
	params.ConsoleLogger = console
	params.Logger = logging.NewNoOpLogger()
	params.Output = io.Discard
	ctx, cancel := context.WithCancel(context.Background())
	rt, err := runtime.NewRuntime(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Serve(ctx) }()
	r.stop = func() { cancel(); <-done }
	for deadline := time.Now().Add(30 * time.Second); len(rt.Addrs()) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the OPA server did not start in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.serverAddr = f["--addr"] + "=" + rt.Addrs()[0]
}

func (r *recipeRun) curl(argv []string) {
	t := r.t
	f, rest := flags(t, argv, 1, "-s")
	if f["-X"] != "POST" || len(rest) != 1 || !strings.HasPrefix(f["--data"], "@") {
		t.Fatalf("%q: want curl -s -X POST --data @FILE URL", argv)
	}
	documented, actual, _ := strings.Cut(r.serverAddr, "=")
	url := strings.Replace(rest[0], documented, actual, 1)
	if url == rest[0] {
		t.Fatalf("%s: not the server's address %s", rest[0], documented)
	}
	body, err := os.ReadFile(r.path(strings.TrimPrefix(f["--data"], "@")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result any `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s %v", url, resp.Status, err)
	}
	r.serverFindings = append(r.serverFindings, keys(url[strings.LastIndex(url, "/")+1:], out.Result)...)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func untar(t *testing.T, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, filepath.Clean("/"+h.Name))
		os.MkdirAll(filepath.Dir(name), 0o755)
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOPARecipes runs docs/opa.md's recipes on the tutorial's tree and on a
// correct one, and requires of each tool the findings of hubsecrets check.
func TestOPARecipes(t *testing.T) {
	rec := recipes(t)
	for name, tree := range map[string]func(testing.TB) *testtree.Tree{"tutorial": testtree.Tutorial, "correct": testtree.Correct} {
		t.Run(name, func(t *testing.T) {
			r := &recipeRun{t: t, dir: t.TempDir(), root: tree(t).Root}
			defer func() {
				if r.stop != nil {
					r.stop()
				}
			}()
			for _, block := range []string{"bundle", "facts", "eval", "conftest", "server"} {
				for _, argv := range rec[block] {
					r.exec(argv)
				}
			}

			res := runCLI(t, "check", "--root", r.root, "--profile", r.profile, "--format", "json")
			var rep struct {
				Findings []map[string]any `json:"findings"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
				t.Fatalf("check: exit %d %v\n%s", res.code, err, res.stderr)
			}
			var want, wantMsgs []string
			denies := 0
			for _, f := range rep.Findings {
				sev := f["severity"].(string)
				want = append(want, key(sev, f))
				wantMsgs = append(wantMsgs, sev+" | "+f["msg"].(string))
				if sev == "deny" {
					denies++
				}
			}
			if name == "tutorial" && denies == 0 {
				t.Fatal("no deny on the tutorial's tree: the comparison proves little")
			}
			for _, got := range []struct {
				tool string
				list []string
				want []string
			}{
				{"opa eval", r.evalFindings, want},
				{"conftest", r.conftestMsgs, wantMsgs},
				{"OPA server", r.serverFindings, want},
			} {
				slices.Sort(got.list)
				slices.Sort(got.want)
				if !slices.Equal(got.list, got.want) {
					t.Errorf("%s's findings differ from hubsecrets check's:\n got %q\nwant %q", got.tool, got.list, got.want)
				}
			}
			if r.failDefined == nil || *r.failDefined != (denies > 0) {
				t.Errorf("opa eval --fail-defined: defined %v, want %v (%d denials)", r.failDefined, denies > 0, denies)
			}
			// The decision log: one entry per query, with the path, the
			// input, the result and the bundle's revision.
			r.stop()
			r.stop = nil
			var paths []string
			for _, line := range strings.Split(strings.TrimSpace(r.serverDecisionLog.String()), "\n") {
				var d struct {
					Msg        string `json:"msg"`
					Path       string `json:"path"`
					DecisionID string `json:"decision_id"`
					Bundles    map[string]struct {
						Revision string `json:"revision"`
					} `json:"bundles"`
					Input struct {
						Schema, Profile string
					} `json:"input"`
					Result []any `json:"result"`
				}
				if err := json.Unmarshal([]byte(line), &d); err != nil || d.Msg != "Decision Log" {
					continue
				}
				paths = append(paths, d.Path)
				revs := []string{}
				for _, b := range d.Bundles {
					revs = append(revs, b.Revision)
				}
				if d.DecisionID == "" || !slices.Equal(revs, []string{"v0.3.0"}) || d.Input.Schema != "hubsecrets/facts/v1" || d.Input.Profile != r.profile {
					t.Errorf("decision log entry: id %q, revisions %q, input schema %q profile %q", d.DecisionID, revs, d.Input.Schema, d.Input.Profile)
				}
				// The logged result is the answer the client got.
				for _, k := range keys(strings.TrimPrefix(d.Path, "hubsecrets/"), d.Result) {
					if !slices.Contains(r.serverFindings, k) {
						t.Errorf("decision log result %q was not in the server's answers", k)
					}
				}
			}
			slices.Sort(paths)
			if !slices.Equal(paths, []string{"hubsecrets/deny", "hubsecrets/warn"}) {
				t.Errorf("decision log entries for %q, want hubsecrets/deny and hubsecrets/warn\n%.1000s", paths, r.serverDecisionLog.String())
			}
		})
	}
}
