package hubconfig

import (
	"strings"
	"unicode"
)

// vkind is what the evaluator knows about a value.
type vkind int

const (
	vUnknown vkind = iota
	vStr           // a str or bytes made of literals: s is its value
	vPath          // a pathlib.Path: s is the path
	vEnv           // a value from the environment: s is the variable's name
	vFile          // a file's content: s is the file's path
	vOpen          // an open file object: s is its path
	vConfig        // the config object (get_config())
)

type pyval struct {
	kind     vkind
	s        string
	stripped bool // vFile: .strip() or .rstrip() was applied
	// keyish: a vUnknown built around a literal that looks like a key (a
	// constant part of an f-string or of a +, a branch of a conditional):
	// that part of the value is written in the file.
	keyish bool
	// fb is a vEnv's fallback: the default of os.environ.get(NAME, ...),
	// os.getenv or os.environ.setdefault, or what follows an "or".
	fb *pyval
}

// embedsKey reports whether a value holds a literal that looks like a key.
func embedsKey(v pyval) bool {
	switch v.kind {
	case vStr:
		return looksLikeKey(v.s)
	case vEnv:
		return v.fb != nil && embedsKey(*v.fb)
	}
	return v.keyish
}

// keyRun is how many characters in a row of a hex or base64 alphabet make
// a string look like a key.
const keyRun = 16

// looksLikeKey reports whether s holds keyRun or more characters in a row
// that read as an encoded key: hex digits, or the characters of base64
// (standard or URL-safe) with both letters and digits among them. Words
// and paths (jupyterhub_cookie_secret, /srv/jupyterhub/) do not.
func looksLikeKey(s string) bool {
	hexRun, b64Run := 0, 0
	letter, digit := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isHexDigit(c) {
			hexRun++
		} else {
			hexRun = 0
		}
		switch {
		case isDigit(c):
			digit = true
			b64Run++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
			b64Run++
		case c == '+' || c == '/' || c == '-' || c == '_':
			b64Run++
		default:
			b64Run, letter, digit = 0, false, false
		}
		if hexRun >= keyRun || b64Run >= keyRun && letter && digit {
			return true
		}
	}
	return false
}

// ref is an evaluated primary: a value, or a dotted name not bound to a
// value (a module, function or method still to be called).
type ref struct {
	val    pyval
	dotted string // "os.path.join"; empty when val is meant
	method string // a method of val, when not empty
}

// evaluator parses one expression with Python's precedence, as far as the
// config's expressions need; whatever it does not model is vUnknown.
type evaluator struct {
	r    *hubReader
	toks []token
	pos  int
	bad  bool // a token it could not place: the whole value is unknown
}

// eval evaluates an expression, all of toks.
func (r *hubReader) eval(toks []token) pyval {
	e := &evaluator{r: r, toks: toks}
	v := e.test()
	if e.bad || e.pos != len(toks) {
		return pyval{}
	}
	return v
}

func (e *evaluator) peek() (token, bool) {
	if e.pos < len(e.toks) {
		return e.toks[e.pos], true
	}
	return token{}, false
}

func (e *evaluator) isOp(op string) bool {
	t, ok := e.peek()
	return ok && t.kind == tOp && t.text == op
}

func (e *evaluator) isName(name string) bool {
	t, ok := e.peek()
	return ok && t.kind == tName && t.text == name
}

// test: or_test ['if' or_test 'else' test] | lambda. Chains of
// conditional expressions are read in a loop, never by recursion, so a
// hostile file cannot exhaust the stack.
func (e *evaluator) test() pyval {
	v := e.binary(0)
	for !e.bad && e.isName("if") {
		e.pos++
		e.binary(0)
		if !e.isName("else") {
			e.bad = true
			return pyval{}
		}
		e.pos++
		w := e.binary(0)
		v = pyval{keyish: embedsKey(v) || embedsKey(w)}
	}
	if e.isName("lambda") {
		e.bad = true
	}
	return v
}

// levels are the binary operator levels, loosest first. Only + on
// strings and / on paths are evaluated, and "or" after an environment
// variable (its fallback); any other operator makes the value unknown, one
// that embeds a key when an operand of +, %, *, and, or does.
var levels = [][]string{
	{"or"}, {"and"}, {"not"},
	{"<", ">", "==", ">=", "<=", "!=", "in", "is"},
	{"|"}, {"^"}, {"&"}, {"<<", ">>"},
	{"+", "-"}, {"*", "/", "//", "%", "@"},
}

func (e *evaluator) atLevel(level int) (string, bool) {
	t, ok := e.peek()
	if !ok || t.kind != tOp && t.kind != tName {
		return "", false
	}
	for _, op := range levels[level] {
		if t.text == op {
			return op, true
		}
	}
	return "", false
}

func (e *evaluator) binary(level int) pyval {
	if level == len(levels) {
		return e.unary()
	}
	if levels[level][0] == "not" {
		negated := false
		for e.isName("not") {
			e.pos++
			negated = true
		}
		v := e.binary(level + 1)
		if negated {
			return pyval{}
		}
		return v
	}
	v := e.binary(level + 1)
	for {
		op, ok := e.atLevel(level)
		if !ok {
			return v
		}
		e.pos++
		if op == "is" && e.isName("not") {
			e.pos++
		}
		w := e.binary(level + 1)
		switch {
		case op == "+" && v.kind == vStr && w.kind == vStr:
			v = pyval{kind: vStr, s: v.s + w.s}
		case op == "/" && v.kind == vPath && (w.kind == vStr || w.kind == vPath):
			v = pyval{kind: vPath, s: joinPath(v.s, w.s)}
		case op == "/" && v.kind == vStr && w.kind == vPath:
			v = pyval{kind: vPath, s: joinPath(v.s, w.s)}
		case op == "or" && v.kind == vEnv && (v.fb == nil || v.fb.kind == vStr && v.fb.s == "") &&
			(w.kind == vStr || w.keyish):
			// os.environ.get(NAME) or FALLBACK: unset or empty, the fallback.
			v = pyval{kind: vEnv, s: v.s, fb: &w}
		default:
			keyish := false
			switch op {
			case "+", "%", "*", "and", "or":
				keyish = embedsKey(v) || embedsKey(w)
			}
			v = pyval{keyish: keyish}
		}
	}
}

// unary: ('-'|'+'|'~')* ['await'] primary ('**' unary)*, in loops.
func (e *evaluator) unary() pyval {
	signed := false
	for e.isOp("-") || e.isOp("+") || e.isOp("~") {
		e.pos++
		signed = true
	}
	if e.isName("await") {
		e.pos++
	}
	v := e.primary()
	for !e.bad && e.isOp("**") {
		e.pos++
		for e.isOp("-") || e.isOp("+") || e.isOp("~") {
			e.pos++
		}
		e.primary()
		v = pyval{}
	}
	if signed {
		return pyval{}
	}
	return v
}

// primary: atom trailer*
func (e *evaluator) primary() pyval {
	r := e.atom()
	for !e.bad {
		switch {
		case e.isOp("."):
			e.pos++
			t, ok := e.peek()
			if !ok || t.kind != tName {
				e.bad = true
				return pyval{}
			}
			e.pos++
			r = e.attr(r, t.text)
		case e.isOp("("):
			e.pos++
			args := e.args(")")
			r = ref{val: e.call(r, args)}
		case e.isOp("["):
			e.pos++
			args := e.args("]")
			r = ref{val: e.subscript(r, args)}
		default:
			return e.value(r)
		}
	}
	return pyval{}
}

func (e *evaluator) atom() ref {
	t, ok := e.peek()
	if !ok {
		e.bad = true
		return ref{}
	}
	switch t.kind {
	case tName:
		e.pos++
		if isKeyword(t.text) {
			switch t.text {
			case "None", "True", "False":
				return ref{}
			}
			e.bad = true
			return ref{}
		}
		if v, ok := e.r.vars[t.text]; ok {
			return ref{val: v}
		}
		if e.r.configs[t.text] {
			return ref{val: pyval{kind: vConfig}}
		}
		return ref{dotted: e.r.canonical(t.text)}
	case tString:
		return ref{val: e.strings()}
	case tNumber:
		e.pos++
		return ref{}
	case tOp:
		switch t.text {
		case "(":
			e.pos++
			args := e.args(")")
			if len(args) == 1 && !args[0].starred && args[0].name == "" && !args[0].tuple {
				return ref{val: args[0].v}
			}
			return ref{}
		case "[", "{":
			e.pos++
			closing := map[string]string{"[": "]", "{": "}"}[t.text]
			e.skipTo(closing)
			return ref{}
		case "...":
			e.pos++
			return ref{}
		}
	}
	e.bad = true
	return ref{}
}

// strings evaluates adjacent string literals, which concatenate. An
// f-string's field is known when its expression is a string and it has no
// conversion (but !s) or format spec; with one that is not, the value is
// unknown, and keyish when a constant part, or the field, looks like a key.
func (e *evaluator) strings() pyval {
	var cur strings.Builder
	known, keyish := true, false
	cut := func() {
		known = false
		keyish = keyish || looksLikeKey(cur.String())
		cur.Reset()
	}
	for {
		t, ok := e.peek()
		if !ok || t.kind != tString {
			break
		}
		e.pos++
		if t.known {
			cur.WriteString(t.text)
			continue
		}
		if t.fparts == nil { // an f-string the lexer did not read
			cut()
			continue
		}
		for _, p := range t.fparts {
			if !p.field {
				cur.WriteString(p.lit)
				continue
			}
			var v pyval
			if p.expr != nil {
				v = e.r.eval(p.expr)
			}
			if v.kind == vStr && (p.conv == 0 || p.conv == 's') && !p.spec {
				cur.WriteString(v.s)
				continue
			}
			cut()
			keyish = keyish || embedsKey(v)
		}
	}
	if known {
		return pyval{kind: vStr, s: cur.String()}
	}
	cut()
	return pyval{keyish: keyish}
}

// skipTo skips past the bracket that closes the one just consumed.
func (e *evaluator) skipTo(closing string) {
	depth := 1
	for e.pos < len(e.toks) {
		t := e.toks[e.pos]
		e.pos++
		if t.kind != tOp {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				if t.text != closing {
					e.bad = true
				}
				return
			}
		}
	}
	e.bad = true
}

// arg is one call argument or subscript element.
type arg struct {
	v       pyval
	name    string // keyword argument
	starred bool
	tuple   bool // followed by a comma: (x,) is a tuple
}

// args reads a comma-separated argument list up to closing. Arguments it
// cannot evaluate are vUnknown; generator expressions and slices make the
// call unknown.
func (e *evaluator) args(closing string) []arg {
	var out []arg
	for {
		if e.isOp(closing) {
			e.pos++
			return out
		}
		var a arg
		if e.isOp("*") || e.isOp("**") {
			e.pos++
			a.starred = true
		}
		if t, ok := e.peek(); ok && t.kind == tName && e.pos+1 < len(e.toks) &&
			e.toks[e.pos+1].kind == tOp && e.toks[e.pos+1].text == "=" {
			a.name = t.text
			e.pos += 2
		}
		a.v = e.test()
		if e.bad {
			// Skip the rest of the bracket: the caller's value is unknown.
			e.skipTo(closing)
			e.bad = true
			return nil
		}
		if e.isOp(",") {
			e.pos++
			a.tuple = true
			out = append(out, a)
			continue
		}
		out = append(out, a)
		if !e.isOp(closing) {
			e.skipTo(closing)
			e.bad = true
			return nil
		}
	}
}

// value turns a ref into a value: a bare dotted name is not one we know.
func (e *evaluator) value(r ref) pyval {
	if r.dotted != "" || r.method != "" {
		return pyval{}
	}
	return r.val
}

func (e *evaluator) attr(r ref, name string) ref {
	switch {
	case r.method != "":
		return ref{}
	case r.dotted != "":
		return ref{dotted: r.dotted + "." + name}
	case r.val.kind == vUnknown && !r.val.keyish:
		return ref{}
	}
	return ref{val: r.val, method: name}
}

// canonical resolves the first component of a dotted name through the
// imports. Without an import, the usual spellings are assumed (a config
// that forgot "import os" fails to load anyway, and says so).
func (r *hubReader) canonical(name string) string {
	if d, ok := r.aliases[name]; ok {
		return d
	}
	switch name {
	case "Path", "PurePath", "PosixPath", "PurePosixPath":
		return "pathlib." + name
	}
	return name
}

// pathConstructors make pathlib paths.
var pathConstructors = map[string]bool{
	"pathlib.Path": true, "pathlib.PurePath": true, "pathlib.PosixPath": true, "pathlib.PurePosixPath": true,
}

// passThrough functions keep their first argument's kind: a secret read
// from a file is still read from that file after bytes.fromhex.
var passThrough = map[string]bool{
	"str": true, "bytes": true, "os.fspath": true, "bytes.fromhex": true,
	"binascii.unhexlify": true, "binascii.a2b_hex": true, "base64.b64decode": true,
	"os.path.normpath": true, "os.path.realpath": true, "os.path.abspath": true,
}

func (e *evaluator) call(r ref, args []arg) pyval {
	for _, a := range args {
		if a.starred {
			return pyval{}
		}
	}
	pos := func(i int) pyval {
		n := 0
		for _, a := range args {
			if a.name != "" {
				continue
			}
			if n == i {
				return a.v
			}
			n++
		}
		return pyval{}
	}
	if r.method != "" {
		return method(r.val, r.method, args)
	}
	switch d := r.dotted; {
	case d == "get_config":
		return pyval{kind: vConfig}
	case d == "os.path.join" || d == "posixpath.join":
		return joinArgs(args, vStr)
	case pathConstructors[d]:
		if len(args) == 0 {
			return pyval{kind: vPath, s: "."}
		}
		return joinArgs(args, vPath)
	case d == "os.environ.get" || d == "os.getenv" || d == "os.environ.setdefault":
		if v := pos(0); v.kind == vStr {
			env := pyval{kind: vEnv, s: v.s}
			for i, a := range args {
				if i == 1 && a.name == "" || a.name == "default" {
					env.fb = &args[i].v
				}
			}
			return env
		}
	case d == "open" || d == "io.open" || d == "builtins.open":
		if v := pos(0); v.kind == vStr || v.kind == vPath {
			return pyval{kind: vOpen, s: v.s}
		}
	case d == "os.path.expanduser":
		if v := pos(0); (v.kind == vStr || v.kind == vPath) && !strings.HasPrefix(v.s, "~") {
			return pyval{kind: vStr, s: v.s}
		}
	case passThrough[d]:
		v := pos(0)
		if v.kind == vPath && (d == "str" || d == "os.fspath" || strings.HasPrefix(d, "os.path.")) {
			v.kind = vStr
		}
		if v.kind == vPath || v.kind == vOpen || v.kind == vConfig {
			return pyval{}
		}
		return v
	}
	return pyval{}
}

// joinArgs joins positional str/path arguments as os.path.join does.
func joinArgs(args []arg, kind vkind) pyval {
	p := ""
	for i, a := range args {
		if a.name != "" || a.v.kind != vStr && a.v.kind != vPath {
			return pyval{}
		}
		if i == 0 {
			p = a.v.s
			continue
		}
		p = joinPath(p, a.v.s)
	}
	return pyval{kind: kind, s: p}
}

// joinPath is os.path.join for two POSIX paths.
func joinPath(a, b string) string {
	switch {
	case strings.HasPrefix(b, "/"):
		return b
	case a == "" || strings.HasSuffix(a, "/"):
		return a + b
	}
	return a + "/" + b
}

// pySpace is what str.strip() removes without an argument (str.isspace).
func pySpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

func method(v pyval, name string, args []arg) pyval {
	switch v.kind {
	case vPath:
		switch name {
		case "read_text", "read_bytes":
			return pyval{kind: vFile, s: v.s}
		case "open":
			return pyval{kind: vOpen, s: v.s}
		case "resolve", "absolute":
			return v
		case "expanduser":
			if !strings.HasPrefix(v.s, "~") {
				return v
			}
		case "joinpath":
			p := v.s
			for _, a := range args {
				if a.name != "" || a.v.kind != vStr && a.v.kind != vPath {
					return pyval{}
				}
				p = joinPath(p, a.v.s)
			}
			return pyval{kind: vPath, s: p}
		}
	case vOpen:
		switch name {
		case "read", "readline":
			return pyval{kind: vFile, s: v.s}
		}
	case vFile, vEnv:
		switch name {
		case "strip", "rstrip":
			if v.kind == vFile {
				v.stripped = true
			}
			return v
		case "lstrip", "encode", "decode":
			return v
		}
	case vStr:
		switch name {
		case "strip":
			return pyval{kind: vStr, s: strings.TrimFunc(v.s, pySpace)}
		case "rstrip":
			return pyval{kind: vStr, s: strings.TrimRightFunc(v.s, pySpace)}
		case "lstrip":
			return pyval{kind: vStr, s: strings.TrimLeftFunc(v.s, pySpace)}
		case "encode", "decode":
			return v
		}
		// Another method of a literal (.format, .replace) still holds it.
		return pyval{keyish: looksLikeKey(v.s)}
	case vUnknown:
		return v // keyish: whatever the method, the key is still in the file
	}
	return pyval{}
}

func (e *evaluator) subscript(r ref, args []arg) pyval {
	if r.dotted == "os.environ" && len(args) == 1 && args[0].v.kind == vStr && !args[0].tuple {
		return pyval{kind: vEnv, s: args[0].v.s}
	}
	return pyval{}
}
