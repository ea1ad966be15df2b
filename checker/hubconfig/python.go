// Package hubconfig reads the configuration files that decide whether the
// checked secrets are the ones in use: the hub's jupyterhub_config.py and
// nginx's configuration. It only parses: files come through a callback, so
// the same code reads a directory tree, an archive or a remote host's
// collected files. Nothing it returns holds a secret's value.
package hubconfig

import (
	"fmt"
	"path"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// The jupyterhub_config.py reader is not a Python interpreter. It reads the
// statements people write in that file: assignments to the config object
// (c.JupyterHub.cookie_secret_file = ...), simple variables, imports, and
// with-blocks, and evaluates the few expressions that name where a secret
// comes from: string literals, os.path.join, pathlib.Path and its /
// operator, Path(...).read_text(), open(...).read(), .strip(), os.environ
// and os.getenv (and their fallbacks), f-strings. Anything else is
// "unknown" with its line, never an error, except that a secret setting
// whose expression embeds a literal that looks like a key is a literal.
// Statements run in file order, so the last assignment wins, as in Python;
// one inside an if, for, while, def, except or else block is marked
// conditional, and a variable assigned there becomes unknown.

// settingTargets maps the config attributes hubsecrets reads, as
// (section, name), to the HubConfig field they set.
var settingTargets = map[[2]string]string{
	{"JupyterHub", "cookie_secret_file"}:    "cookie_secret_file",
	{"JupyterHub", "cookie_secret"}:         "cookie_secret",
	{"ConfigurableHTTPProxy", "auth_token"}: "proxy_auth_token",
	// Deprecated since JupyterHub 0.8, still honoured (with a warning).
	{"JupyterHub", "proxy_auth_token"}: "proxy_auth_token",
}

// ReadHub reads the source of a jupyterhub_config.py found at file.
func ReadHub(file string, src []byte) facts.HubConfig {
	unset := facts.Setting{Kind: facts.SettingUnset}
	hc := facts.HubConfig{
		Path:             file,
		CookieSecretFile: unset,
		CookieSecret:     unset,
		ProxyToken:       unset,
		Errors:           []facts.ConfigError{},
	}
	lines, lerr := lexPython(string(src))
	r := &hubReader{
		vars:    map[string]pyval{},
		aliases: map[string]string{},
		configs: map[string]bool{"c": true},
		set:     map[string]facts.Setting{},
	}
	for _, ln := range lines {
		r.logicalLine(ln)
	}
	for field, s := range r.set {
		switch field {
		case "cookie_secret_file":
			hc.CookieSecretFile = s
		case "cookie_secret":
			hc.CookieSecret = s
		case "proxy_auth_token":
			hc.ProxyToken = s
		}
	}
	if lerr != nil {
		hc.Errors = append(hc.Errors, facts.ConfigError{
			File: file, Line: lerr.line,
			Msg: fmt.Sprintf("%s: %s (Python refuses the whole file, so the hub does not start; hubsecrets read the statements before line %d)", lerr.class(), lerr.msg, lerr.line),
		})
	}
	return hc
}

type hubReader struct {
	vars    map[string]pyval  // module-level variables with a known value
	aliases map[string]string // import bindings: name -> dotted module path
	configs map[string]bool   // names bound to the config object
	set     map[string]facts.Setting
	blocks  []block
}

// block is an open compound statement.
type block struct {
	indent      int
	conditional bool
}

// conditionalKeywords open blocks that may not run (or not run as
// written) when the file is executed; with and try bodies do run.
var conditionalKeywords = map[string]bool{
	"if": true, "elif": true, "else": true, "for": true, "while": true,
	"except": true, "def": true, "class": true, "async": true, "match": true, "case": true,
}

var compoundKeywords = map[string]bool{"with": true, "try": true, "finally": true}

func (r *hubReader) logicalLine(ln logicalLine) {
	for len(r.blocks) > 0 && r.blocks[len(r.blocks)-1].indent >= ln.indent {
		r.blocks = r.blocks[:len(r.blocks)-1]
	}
	cond := false
	for _, b := range r.blocks {
		cond = cond || b.conditional
	}
	toks := ln.toks
	first := toks[0]
	if first.kind == tName && (conditionalKeywords[first.text] || compoundKeywords[first.text]) {
		colon := indexOp(toks, ":")
		if colon < 0 {
			return // not a block header after all (e.g. a soft keyword used as a name)
		}
		blockCond := conditionalKeywords[first.text]
		if first.text == "with" {
			r.withHeader(toks[1:colon], cond)
		}
		r.blocks = append(r.blocks, block{indent: ln.indent, conditional: blockCond})
		if rest := toks[colon+1:]; len(rest) > 0 {
			r.statements(rest, cond || blockCond)
		}
		return
	}
	r.statements(toks, cond)
}

// statements runs the ;-separated simple statements of a line.
func (r *hubReader) statements(toks []token, cond bool) {
	for len(toks) > 0 {
		end := indexOp(toks, ";")
		if end < 0 {
			end = len(toks)
		}
		if end > 0 {
			r.statement(toks[:end], cond)
		}
		if end == len(toks) {
			return
		}
		toks = toks[end+1:]
	}
}

func (r *hubReader) statement(toks []token, cond bool) {
	switch {
	case toks[0].kind == tName && toks[0].text == "import":
		r.importStmt(toks[1:])
		return
	case toks[0].kind == tName && toks[0].text == "from":
		r.fromStmt(toks[1:])
		return
	}
	// Split on '=' at depth 0: targets = ... = value.
	var parts [][]token
	depth, start := 0, 0
	for i, t := range toks {
		if t.kind != tOp {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case "=":
			if depth == 0 {
				parts = append(parts, toks[start:i])
				start = i + 1
			}
		case "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "|=", "^=", "@=":
			if depth == 0 {
				// x += y: whatever x was, hubsecrets no longer knows it.
				r.assign(toks[:i], pyval{}, toks[0].line, cond)
				return
			}
		}
	}
	if len(parts) == 0 {
		return // an expression statement: a call, a docstring
	}
	value := r.eval(toks[start:])
	for _, target := range parts {
		r.assign(target, value, toks[0].line, cond)
	}
}

// assign binds a value to one target: a setting, a config object name, or
// a variable. Anything else (tuples, subscripts of other objects) is
// ignored, except that a variable it names loses its value.
func (r *hubReader) assign(target []token, v pyval, line int, cond bool) {
	if i := indexOp(target, ":"); i >= 0 { // x: str = ...
		target = target[:i]
	}
	parts, ok := targetPath(target)
	if !ok {
		for _, t := range target {
			if t.kind == tName {
				delete(r.vars, t.text)
			}
		}
		return
	}
	if len(parts) == 1 {
		name := parts[0]
		delete(r.configs, name)
		delete(r.vars, name)
		switch {
		case v.kind == vConfig && !cond:
			r.configs[name] = true
		case !cond:
			r.vars[name] = v
		}
		return
	}
	if len(parts) != 3 || !r.configs[parts[0]] {
		return
	}
	field, ok := settingTargets[[2]string{parts[1], parts[2]}]
	if !ok {
		return
	}
	s := settingFrom(field, v)
	s.Attr = strings.Join(parts, ".")
	s.Line = line
	s.Conditional = cond
	r.set[field] = s
}

// settingFrom describes where a setting's value comes from. A literal's
// value is never kept: only that it is one, whether it is empty, whether
// it is the fallback of an environment variable (named in Env), and
// whether it is only part of the value (Partial: an expression hubsecrets
// does not evaluate around a literal that looks like a key).
func settingFrom(field string, v pyval) facts.Setting {
	if field == "cookie_secret_file" {
		switch v.kind {
		case vStr, vPath:
			return facts.Setting{Kind: facts.SettingFile, Path: cleanPath(v.s)}
		case vEnv:
			return facts.Setting{Kind: facts.SettingEnv, Env: v.s}
		}
		return facts.Setting{Kind: facts.SettingUnknown}
	}
	switch v.kind {
	case vStr:
		return facts.Setting{Kind: facts.SettingLiteral, Empty: v.s == ""}
	case vEnv:
		// A fallback other than '' is a secret written in the file.
		if v.fb != nil {
			if fb := settingFrom(field, *v.fb); fb.Kind == facts.SettingLiteral && !fb.Empty {
				return facts.Setting{Kind: facts.SettingLiteral, Env: v.s, Fallback: true, Partial: fb.Partial}
			}
		}
		return facts.Setting{Kind: facts.SettingEnv, Env: v.s}
	case vFile:
		return facts.Setting{Kind: facts.SettingFile, Path: cleanPath(v.s), Stripped: v.stripped}
	case vUnknown:
		if v.keyish {
			return facts.Setting{Kind: facts.SettingLiteral, Partial: true}
		}
	}
	return facts.Setting{Kind: facts.SettingUnknown}
}

// cleanPath cleans an absolute path; a relative one (resolved against the
// hub's working directory, which hubsecrets cannot see) stays as written.
func cleanPath(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return p
}

// targetPath reads an assignment target: NAME ('.' NAME | '[' STRING ']')*.
func targetPath(toks []token) ([]string, bool) {
	if len(toks) == 0 || toks[0].kind != tName || isKeyword(toks[0].text) {
		return nil, false
	}
	parts := []string{toks[0].text}
	for i := 1; i < len(toks); {
		switch {
		case toks[i].kind == tOp && toks[i].text == "." && i+1 < len(toks) && toks[i+1].kind == tName:
			parts = append(parts, toks[i+1].text)
			i += 2
		case toks[i].kind == tOp && toks[i].text == "[" && i+2 < len(toks) &&
			toks[i+1].kind == tString && toks[i+1].known && toks[i+2].kind == tOp && toks[i+2].text == "]":
			parts = append(parts, toks[i+1].text)
			i += 3
		default:
			return nil, false
		}
	}
	return parts, true
}

// importStmt: import a.b [as c], d
func (r *hubReader) importStmt(toks []token) {
	for _, item := range splitOp(toks, ",") {
		dotted, rest := dottedName(item)
		if dotted == "" {
			continue
		}
		if len(rest) == 2 && rest[0].text == "as" && rest[1].kind == tName {
			r.bindAlias(rest[1].text, dotted)
		} else {
			first := strings.SplitN(dotted, ".", 2)[0]
			r.bindAlias(first, first)
		}
	}
}

// fromStmt: from m import x [as y], ... (parenthesised or not)
func (r *hubReader) fromStmt(toks []token) {
	module, rest := dottedName(toks)
	if module == "" || len(rest) == 0 || rest[0].text != "import" {
		return
	}
	rest = rest[1:]
	if len(rest) > 0 && rest[0].text == "(" {
		rest = rest[1:]
		if n := len(rest); n > 0 && rest[n-1].text == ")" {
			rest = rest[:n-1]
		}
	}
	for _, item := range splitOp(rest, ",") {
		if len(item) == 0 || item[0].kind != tName {
			continue
		}
		name := item[0].text
		if len(item) == 3 && item[1].text == "as" && item[2].kind == tName {
			r.bindAlias(item[2].text, module+"."+name)
		} else {
			r.bindAlias(name, module+"."+name)
		}
	}
}

func (r *hubReader) bindAlias(name, dotted string) {
	delete(r.vars, name)
	delete(r.configs, name)
	r.aliases[name] = dotted
}

// withHeader binds the names of "with EXPR as NAME, ...".
func (r *hubReader) withHeader(toks []token, cond bool) {
	if len(toks) > 0 && toks[0].text == "(" && toks[len(toks)-1].text == ")" {
		toks = toks[1 : len(toks)-1]
	}
	for _, item := range splitOp(toks, ",") {
		as := -1
		for i, t := range item {
			if t.kind == tName && t.text == "as" {
				as = i
			}
		}
		if as < 0 || as != len(item)-2 || item[as+1].kind != tName {
			continue
		}
		v := r.eval(item[:as])
		name := item[as+1].text
		delete(r.vars, name)
		if !cond {
			r.vars[name] = v
		}
	}
}

// dottedName reads NAME ('.' NAME)* and returns it and the tokens after.
func dottedName(toks []token) (string, []token) {
	if len(toks) == 0 || toks[0].kind != tName {
		return "", toks
	}
	name := toks[0].text
	i := 1
	for i+1 < len(toks) && toks[i].text == "." && toks[i].kind == tOp && toks[i+1].kind == tName {
		name += "." + toks[i+1].text
		i += 2
	}
	return name, toks[i:]
}

// indexOp returns the index of the first operator op at bracket depth 0.
func indexOp(toks []token, op string) int {
	depth := 0
	for i, t := range toks {
		if t.kind != tOp {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case op:
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitOp splits toks on op at bracket depth 0.
func splitOp(toks []token, op string) [][]token {
	var out [][]token
	for {
		i := indexOp(toks, op)
		if i < 0 {
			return append(out, toks)
		}
		out = append(out, toks[:i])
		toks = toks[i+1:]
	}
}

var keywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true,
	"pass": true, "raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}

func isKeyword(s string) bool { return keywords[s] }
