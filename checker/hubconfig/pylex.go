package hubconfig

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The Python lexer: enough of Python's tokenizer to split a config file
// into logical lines (brackets and backslashes join physical lines) of
// names, strings, numbers and operators, with each line's indentation.
// It is not a Python implementation, but it refuses what Python's
// tokenizer refuses, as CPython 3.11 does: unterminated strings and
// brackets, mismatched brackets, inconsistent or unexpected indentation
// (and a block header with no indented block after it), characters that
// are not Python, malformed numbers, bad escapes in string literals
// (\x, \u, \U, \N{name}), malformed f-strings, NUL bytes, invalid UTF-8
// outside comments. What newer Pythons accept and 3.11 does not
// (backslashes and comments inside an f-string's replacement fields) is
// not an error; an f-string that reuses its own quotes inside a field,
// which only 3.12 accepts, still is. Grammar errors beyond these (x = = 1,
// print 'x') are not seen, nor an unknown encoding in a coding line.

type tokKind int

const (
	tName tokKind = iota
	tString
	tNumber
	tOp
)

type token struct {
	kind tokKind
	text string // the name, the operator, or the string's decoded value
	line int
	// For strings: the value is only known when known is true (an f-string
	// with a replacement field is not; fparts then holds its parts).
	known  bool
	bytes  bool
	fparts []fpart
}

// fpart is a literal part of an f-string, or one of its replacement
// fields.
type fpart struct {
	lit   string  // the literal text, escapes decoded (when !field)
	field bool    // a replacement field: {expr!conv:spec}
	expr  []token // the field's expression; nil when it was not lexed
	conv  byte    // 's', 'r', 'a', or 0
	spec  bool    // the field has a format spec
}

// logicalLine is one logical line of source.
type logicalLine struct {
	toks   []token
	line   int // the first physical line
	indent int // the columns of leading whitespace (a tab counts to the next multiple of 8)
}

// maxNesting is Python's own limit on nested brackets ("too many nested
// parentheses"); it also bounds the evaluator's recursion. maxIndent is
// its limit on indentation levels.
const (
	maxNesting = 200
	maxIndent  = 100
	// maxFDepth bounds f-strings nested in f-strings' fields (Python 3.11
	// cannot nest more than four: each level needs its own quotes).
	maxFDepth = 8
)

type lexError struct {
	line int
	kind string // SyntaxError (when empty), IndentationError, TabError
	msg  string
}

func (e *lexError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func (e *lexError) class() string {
	if e.kind == "" {
		return "SyntaxError"
	}
	return e.kind
}

// lexPython splits src into logical lines. On an error it returns the
// lines before it and the error.
func lexPython(src string) ([]logicalLine, *lexError) {
	// Python reads "\r\n" and a lone "\r" as "\n".
	if strings.IndexByte(src, '\r') >= 0 {
		src = strings.ReplaceAll(src, "\r\n", "\n")
		src = strings.ReplaceAll(src, "\r", "\n")
	}
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, &lexError{line: 1 + strings.Count(src[:i], "\n"), msg: "source code cannot contain null bytes"}
	}
	if enc := codingCookie(src); enc != "" && enc != "utf-8" && !utf8.ValidString(src) {
		src = latin1(src)
	}
	src = strings.TrimPrefix(src, "\ufeff")
	// Python's tokenizer ends the last line with a newline.
	if src != "" && !strings.HasSuffix(src, "\n") {
		src += "\n"
	}
	l := &pyLexer{src: src, line: 1, indents: []int{0}, alts: []int{0}}
	return l.run()
}

// codingCookie returns the encoding a PEP 263 coding line (# -*- coding:
// latin-1 -*-) in the first two lines declares, normalised as Python does
// for UTF-8 ("utf-8"), or "".
func codingCookie(src string) string {
	for range 2 {
		line, rest, _ := strings.Cut(src, "\n")
		t := strings.TrimLeft(line, " \t\f")
		if !strings.HasPrefix(t, "#") {
			if t != "" {
				return ""
			}
			src = rest
			continue
		}
		if m := cookieRE.FindStringSubmatch(t); m != nil {
			enc := strings.ReplaceAll(strings.ToLower(m[1]), "_", "-")
			if enc == "utf-8" || strings.HasPrefix(enc, "utf-8-") {
				return "utf-8"
			}
			return enc
		}
		src = rest
	}
	return ""
}

var cookieRE = regexp.MustCompile(`^#.*?coding[:=][ \t]*([-\w.]+)`)

// latin1 reads src as ISO-8859-1. A file that declares another encoding
// is read so too: hubsecrets does not decode it, and does not refuse it.
func latin1(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		b.WriteRune(rune(src[i]))
	}
	return b.String()
}

type pyLexer struct {
	src   string
	pos   int
	line  int
	lines []logicalLine
	cur   *logicalLine
	open  []bracket // the brackets open
	// The indentation levels, in columns with tabs to multiples of 8
	// (indents) and of 1 (alts): Python's TabError is the two disagreeing.
	indents, alts []int
	header        *header // the last logical line opens a block
	fdepth        int     // f-strings this lexer is nested in
}

type bracket struct {
	c    byte
	line int
}

// header is a logical line ending with ':': an indented block must follow.
type header struct {
	line int
	what string
}

func (l *pyLexer) errf(line int, format string, args ...any) *lexError {
	return &lexError{line: line, msg: fmt.Sprintf(format, args...)}
}

// badUTF8: Python decodes names and strings as UTF-8 (comments it skips
// unread).
func (l *pyLexer) badUTF8(line int) *lexError {
	return l.errf(line, "(unicode error) invalid UTF-8: Python reads config files as UTF-8 unless a coding line says otherwise")
}

func (l *pyLexer) run() ([]logicalLine, *lexError) {
	atLineStart := true
	for l.pos < len(l.src) {
		if atLineStart && len(l.open) == 0 {
			atLineStart = false
			col, alt, blank := l.indentation()
			if blank {
				atLineStart = true
				continue
			}
			if l.cur == nil {
				if err := l.indent(col, alt); err != nil {
					return l.lines, err
				}
				l.cur = &logicalLine{line: l.line, indent: col}
			}
		}
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.pos++
			l.line++
			if len(l.open) == 0 {
				l.endLine()
				atLineStart = true
			}
		case c == ' ' || c == '\t' || c == '\f':
			l.pos++
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case c == '\\':
			// A line continuation: only a newline may follow, and not the
			// end of the file.
			if !strings.HasPrefix(l.src[l.pos+1:], "\n") {
				return l.lines, l.errf(l.line, "unexpected character after line continuation character")
			}
			l.pos += 2
			l.line++
			if l.pos == len(l.src) {
				return l.lines, l.errf(l.line-1, "unexpected EOF while parsing")
			}
		case isNameStart(c) || c >= 0x80:
			start := l.pos
			for l.pos < len(l.src) && (isNameChar(l.src[l.pos]) || l.src[l.pos] >= 0x80) {
				l.pos++
			}
			word := l.src[start:l.pos]
			if l.pos < len(l.src) && (l.src[l.pos] == '\'' || l.src[l.pos] == '"') && isStringPrefix(word) {
				if err := l.str(strings.ToLower(word)); err != nil {
					return l.lines, err
				}
				continue
			}
			if !utf8.ValidString(word) {
				return l.lines, l.badUTF8(l.line)
			}
			if msg := checkIdentifier(word); msg != "" {
				return l.lines, l.errf(l.line, "%s", msg)
			}
			l.add(token{kind: tName, text: word, line: l.line})
		case c == '\'' || c == '"':
			if err := l.str(""); err != nil {
				return l.lines, err
			}
		case c >= '0' && c <= '9' || c == '.' && l.pos+1 < len(l.src) && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9':
			if err := l.number(); err != nil {
				return l.lines, err
			}
		default:
			if err := l.op(); err != nil {
				return l.lines, err
			}
		}
	}
	if n := len(l.open); n > 0 {
		return l.lines, l.errf(l.open[n-1].line, "'%c' was never closed", l.open[n-1].c)
	}
	l.endLine()
	if h := l.header; h != nil {
		return l.lines, &lexError{line: max(1, l.line-1), kind: "IndentationError", msg: "expected an indented block after " + h.what}
	}
	return l.lines, nil
}

// indentation measures the leading whitespace of the physical line at pos
// (as Python does: a tab to the next multiple of 8, or of 1 for alt, a
// form feed back to 0) and reports whether the line is blank or a comment
// only.
func (l *pyLexer) indentation() (col, alt int, blank bool) {
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ' ':
			col++
			alt++
		case '\t':
			col = (col/8 + 1) * 8
			alt++
		case '\f':
			col, alt = 0, 0
		case '\n':
			l.pos++
			l.line++
			return 0, 0, true
		case '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
			return 0, 0, true
		default:
			return col, alt, false
		}
		l.pos++
	}
	return 0, 0, true
}

// indent checks a logical line's indentation against the open blocks, as
// Python's tokenizer (TabError, unindent) and parser (unexpected indent,
// expected an indented block) do.
func (l *pyLexer) indent(col, alt int) *lexError {
	h := l.header
	l.header = nil
	n := len(l.indents) - 1
	indentErr := func(msg string) *lexError {
		return &lexError{line: l.line, kind: "IndentationError", msg: msg}
	}
	tabErr := &lexError{line: l.line, kind: "TabError", msg: "inconsistent use of tabs and spaces in indentation"}
	switch {
	case col == l.indents[n]:
		if alt != l.alts[n] {
			return tabErr
		}
	case col > l.indents[n]:
		if len(l.indents) >= maxIndent {
			return indentErr("too many levels of indentation")
		}
		if alt <= l.alts[n] {
			return tabErr
		}
		if h == nil {
			return indentErr("unexpected indent")
		}
		l.indents = append(l.indents, col)
		l.alts = append(l.alts, alt)
		return nil
	default:
		for n > 0 && col < l.indents[n] {
			n--
		}
		l.indents, l.alts = l.indents[:n+1], l.alts[:n+1]
		if col != l.indents[n] {
			return indentErr("unindent does not match any outer indentation level")
		}
		if alt != l.alts[n] {
			return tabErr
		}
	}
	if h != nil {
		return indentErr("expected an indented block after " + h.what)
	}
	return nil
}

// headerWhat names a block header as Python's "expected an indented
// block after ..." does.
func headerWhat(first string, line int) string {
	switch first {
	case "def":
		return fmt.Sprintf("function definition on line %d", line)
	case "class":
		return fmt.Sprintf("class definition on line %d", line)
	case "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "match", "case":
		return fmt.Sprintf("'%s' statement on line %d", first, line)
	}
	return fmt.Sprintf("line %d", line)
}

func (l *pyLexer) add(t token) {
	if l.cur == nil {
		l.cur = &logicalLine{line: t.line}
	}
	l.cur.toks = append(l.cur.toks, t)
}

func (l *pyLexer) endLine() {
	if l.cur != nil && len(l.cur.toks) > 0 {
		toks := l.cur.toks
		if last := toks[len(toks)-1]; last.kind == tOp && last.text == ":" {
			first := toks[0].text
			if first == "async" && len(toks) > 1 {
				first = toks[1].text
			}
			l.header = &header{line: l.cur.line, what: headerWhat(first, l.cur.line)}
		}
		l.lines = append(l.lines, *l.cur)
	}
	l.cur = nil
}

// ops are Python's operators and delimiters, longest first.
var ops = []string{
	"**=", "//=", ">>=", "<<=", "...", "->", ":=",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
	"**", "//", "<<", ">>", "<=", ">=", "==", "!=",
	"(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "@", "=",
	"+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">",
}

var closing = map[byte]byte{')': '(', ']': '[', '}': '{'}

func (l *pyLexer) op() *lexError {
	rest := l.src[l.pos:]
	for _, o := range ops {
		if !strings.HasPrefix(rest, o) {
			continue
		}
		switch o {
		case "(", "[", "{":
			if len(l.open) >= maxNesting {
				return l.errf(l.line, "too many nested parentheses")
			}
			l.open = append(l.open, bracket{o[0], l.line})
		case ")", "]", "}":
			n := len(l.open)
			if n == 0 {
				return l.errf(l.line, "unmatched '%s'", o)
			}
			if b := l.open[n-1]; b.c != closing[o[0]] {
				if b.line != l.line {
					return l.errf(l.line, "closing parenthesis '%s' does not match opening parenthesis '%c' on line %d", o, b.c, b.line)
				}
				return l.errf(l.line, "closing parenthesis '%s' does not match opening parenthesis '%c'", o, b.c)
			}
			l.open = l.open[:n-1]
		}
		l.add(token{kind: tOp, text: o, line: l.line})
		l.pos += len(o)
		return nil
	}
	// '!', '$', '?', '`', control characters: not Python outside strings.
	c := rest[0]
	if c < ' ' || c == 0x7f {
		return l.errf(l.line, "invalid non-printable character U+%04X", c)
	}
	return l.errf(l.line, "invalid syntax")
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isHexDigit(c byte) bool  { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// checkIdentifier returns Python's complaint about a name with characters
// that cannot be in an identifier (a non-breaking space, typographic
// quotes, a euro sign), or "". Python checks the XID_Start and
// XID_Continue properties; Go's tables give ID_Start and ID_Continue,
// which differ from them by a few compatibility characters.
func checkIdentifier(w string) string {
	for i, r := range w {
		if r < utf8.RuneSelf {
			continue
		}
		if isIDRune(r, i == 0) {
			continue
		}
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("invalid non-printable character U+%04X", r)
		}
		return fmt.Sprintf("invalid character '%c' (U+%04X)", r, r)
	}
	return ""
}

func isIDRune(r rune, first bool) bool {
	if unicode.In(r, unicode.Pattern_Syntax, unicode.Pattern_White_Space) {
		return false
	}
	if unicode.In(r, unicode.L, unicode.Nl, unicode.Other_ID_Start) {
		return true
	}
	return !first && unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Other_ID_Continue)
}

// number reads a number literal at pos as Python 3.11's tokenizer does,
// refusing what it refuses: 1_, 1__0, 012, 1e, 0x, 0o8, 1abc.
func (l *pyLexer) number() *lexError {
	s := l.src
	at := func(j int) byte {
		if j < len(s) {
			return s[j]
		}
		return 0
	}
	bad := func(kind string) *lexError { return l.errf(l.line, "invalid %s literal", kind) }
	// tail reads the digits and single underscores after a digit at j-1.
	tail := func(j int) (int, *lexError) {
		for {
			for isDigit(at(j)) {
				j++
			}
			if at(j) != '_' {
				return j, nil
			}
			j++
			if !isDigit(at(j)) {
				return j, bad("decimal")
			}
		}
	}
	// end checks what follows a number (verify_end_of_number): a name
	// character may only start one of the keywords that can follow one.
	end := func(j int, kind string) *lexError {
		rest := s[j:]
		switch at(j) {
		case 'a':
			if strings.HasPrefix(rest, "and") {
				return nil
			}
		case 'e':
			if strings.HasPrefix(rest, "else") {
				return nil
			}
		case 'f':
			if strings.HasPrefix(rest, "for") {
				return nil
			}
		case 'i':
			if c := at(j + 1); c == 'f' || c == 'n' || c == 's' {
				return nil
			}
		case 'o':
			if strings.HasPrefix(rest, "or") {
				return nil
			}
		case 'n':
			if strings.HasPrefix(rest, "not") {
				return nil
			}
		}
		if c := at(j); isNameChar(c) || c >= 0x80 {
			return bad(kind)
		}
		return nil
	}
	// exponent reads [eE[+-]digits][jJ] at j.
	exponent := func(j int) (int, *lexError) {
		var err *lexError
		if c := at(j); c == 'e' || c == 'E' {
			e := j
			j++
			if c := at(j); c == '+' || c == '-' {
				j++
				if !isDigit(at(j)) {
					return j, bad("decimal")
				}
			} else if !isDigit(at(j)) {
				return e, end(e, "decimal")
			}
			if j, err = tail(j + 1); err != nil {
				return j, err
			}
		}
		if c := at(j); c == 'j' || c == 'J' {
			return j + 1, end(j+1, "imaginary")
		}
		return j, end(j, "decimal")
	}
	// fraction reads [digits] at j, after the point.
	fraction := func(j int) (int, *lexError) {
		if isDigit(at(j)) {
			var err *lexError
			if j, err = tail(j + 1); err != nil {
				return j, err
			}
		}
		return exponent(j)
	}
	start := l.pos
	j := start
	var err *lexError
	switch {
	case s[j] == '.':
		j, err = fraction(j + 1)
	case s[j] != '0':
		if j, err = tail(j + 1); err == nil {
			if at(j) == '.' {
				j, err = fraction(j + 1)
			} else {
				j, err = exponent(j)
			}
		}
	default:
		j++
		switch c := at(j); c {
		case 'x', 'X':
			j++
			for {
				if at(j) == '_' {
					j++
				}
				if !isHexDigit(at(j)) {
					return bad("hexadecimal")
				}
				for isHexDigit(at(j)) {
					j++
				}
				if at(j) != '_' {
					break
				}
			}
			err = end(j, "hexadecimal")
		case 'o', 'O', 'b', 'B':
			kind, top := "octal", byte('8')
			if c == 'b' || c == 'B' {
				kind, top = "binary", '2'
			}
			j++
			for {
				if at(j) == '_' {
					j++
				}
				if c := at(j); c < '0' || c >= top {
					if isDigit(c) {
						return l.errf(l.line, "invalid digit '%c' in %s literal", c, kind)
					}
					return bad(kind)
				}
				for c := at(j); c >= '0' && c < top; c = at(j) {
					j++
				}
				if at(j) != '_' {
					break
				}
			}
			if c := at(j); isDigit(c) {
				return l.errf(l.line, "invalid digit '%c' in %s literal", c, kind)
			}
			err = end(j, kind)
		default:
			for {
				if at(j) == '_' {
					j++
					if !isDigit(at(j)) {
						return bad("decimal")
					}
				}
				if at(j) != '0' {
					break
				}
				j++
			}
			nonzero := isDigit(at(j))
			if nonzero {
				if j, err = tail(j + 1); err != nil {
					return err
				}
			}
			switch at(j) {
			case '.':
				j, err = fraction(j + 1)
			case 'e', 'E', 'j', 'J':
				j, err = exponent(j)
			default:
				if nonzero {
					return l.errf(l.line, "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers")
				}
				err = end(j, "decimal")
			}
		}
	}
	if err != nil {
		return err
	}
	l.add(token{kind: tNumber, text: s[start:j], line: l.line})
	l.pos = j
	return nil
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// str reads a string literal at pos (the quote) with the given prefix.
// Errors in its content (escapes, f-string fields) are reported, as
// Python does, on the line where it ends; those in a field's expression on
// the expression's line.
func (l *pyLexer) str(prefix string) *lexError {
	raw := strings.Contains(prefix, "r")
	isBytes := strings.Contains(prefix, "b")
	q := l.src[l.pos : l.pos+1]
	triple := strings.HasPrefix(l.src[l.pos:], strings.Repeat(q, 3))
	if triple {
		q = strings.Repeat(q, 3)
	}
	startLine := l.line
	l.pos += len(q)
	bodyStart := l.pos
	for {
		if l.pos >= len(l.src) {
			what := "unterminated string literal"
			if triple {
				what = "unterminated triple-quoted string literal"
			}
			return l.errf(startLine, "%s (detected at line %d)", what, max(1, l.line-1))
		}
		if strings.HasPrefix(l.src[l.pos:], q) {
			break
		}
		c := l.src[l.pos]
		switch {
		case c == '\n' && !triple:
			return l.errf(startLine, "unterminated string literal (detected at line %d)", l.line)
		case c == '\\' && l.pos+1 < len(l.src):
			if l.src[l.pos+1] == '\n' {
				l.line++
			}
			l.pos += 2
		default:
			if c == '\n' {
				l.line++
			}
			l.pos++
		}
	}
	body := l.src[bodyStart:l.pos]
	l.pos += len(q)
	if !utf8.ValidString(body) {
		return l.badUTF8(l.line)
	}
	t := token{kind: tString, line: startLine, known: true, bytes: isBytes}
	if isBytes {
		for i := 0; i < len(body); i++ {
			if body[i] >= 0x80 {
				return l.errf(startLine, "bytes can only contain ASCII literal characters")
			}
		}
	}
	if strings.Contains(prefix, "f") {
		p := &fparser{l: l, s: body, raw: raw, line0: startLine}
		parts, err := p.parse(0)
		switch {
		case err != nil:
			if err.line == 0 {
				err.line = l.line
			}
			return err
		case p.bail:
			t.known = false
		default:
			var b strings.Builder
			for _, part := range parts {
				if part.field {
					t.known = false
				}
				b.WriteString(part.lit)
			}
			if t.known {
				t.text = b.String()
			} else {
				t.fparts = parts
			}
		}
		l.add(t)
		return nil
	}
	v, msg := decodeString(body, raw, isBytes)
	if msg != "" {
		return l.errf(l.line, "%s", msg)
	}
	t.text = v
	l.add(t)
	return nil
}

// decodeString decodes a string literal's escapes as Python does and
// returns Python's complaint about a bad one (a truncated \x, \u or \U,
// a \U beyond U+10FFFF, a \N{...} without a known character name).
// Unknown escapes stay as written, as Python keeps them. A \N{name}
// decodes to U+FFFD: the reader knows the names, not their characters.
func decodeString(body string, raw, isBytes bool) (string, string) {
	if raw || strings.IndexByte(body, '\\') < 0 {
		return body, ""
	}
	var b strings.Builder
	// pos counts as Python does in its messages: a non-ASCII character in
	// a str literal as the ten bytes of its \UXXXXXXXX form.
	pos := 0
	uerr := func(start, endExcl int, what string) string {
		return fmt.Sprintf("(unicode error) 'unicodeescape' codec can't decode bytes in position %d-%d: %s", start, endExcl-1, what)
	}
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				b.WriteByte(c)
				i++
				pos++
				continue
			}
			_, n := utf8.DecodeRuneInString(body[i:])
			b.WriteString(body[i : i+n])
			i += n
			pos += 10
			continue
		}
		if i+1 == len(body) { // only in an f-string's literal part: "\{"
			b.WriteByte(c)
			break
		}
		next := body[i+1]
		start := pos
		switch next {
		case '\n':
			i += 2
			pos += 2
			continue
		case '\\', '\'', '"':
			b.WriteByte(next)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n := 1
			for n < 3 && i+1+n < len(body) && body[i+1+n] >= '0' && body[i+1+n] <= '7' {
				n++
			}
			v, _ := strconv.ParseUint(body[i+1:i+1+n], 8, 32)
			if isBytes {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			i += 1 + n
			pos += 1 + n
			continue
		case 'x', 'u', 'U':
			if isBytes && next != 'x' {
				b.WriteString(body[i : i+2])
				break
			}
			want := map[byte]int{'x': 2, 'u': 4, 'U': 8}[next]
			n := 0
			for n < want && i+2+n < len(body) && isHexDigit(body[i+2+n]) {
				n++
			}
			if n < want {
				if isBytes {
					return "", fmt.Sprintf("(value error) invalid \\x escape at position %d", start)
				}
				return "", uerr(start, start+2+n, map[byte]string{'x': `truncated \xXX escape`, 'u': `truncated \uXXXX escape`, 'U': `truncated \UXXXXXXXX escape`}[next])
			}
			v, _ := strconv.ParseUint(body[i+2:i+2+n], 16, 32)
			switch {
			case isBytes:
				b.WriteByte(byte(v))
			case v > unicode.MaxRune:
				return "", uerr(start, start+2+n, "illegal Unicode character")
			default:
				b.WriteRune(rune(v))
			}
			i += 2 + n
			pos += 2 + n
			continue
		case 'N':
			if isBytes {
				b.WriteString(body[i : i+2])
				break
			}
			rest := body[i+2:]
			if !strings.HasPrefix(rest, "{") {
				return "", uerr(start, start+2, `malformed \N character escape`)
			}
			close := strings.IndexByte(rest, '}')
			if close < 0 {
				return "", uerr(start, start+2+pyLen(rest), `malformed \N character escape`)
			}
			name := rest[1:close]
			if name == "" {
				return "", uerr(start, start+3, `malformed \N character escape`)
			}
			n := 3 + close // \N{name}
			if !knownCharName(name) {
				return "", uerr(start, start+2+pyLen(rest[:close+1]), "unknown Unicode character name")
			}
			b.WriteRune(utf8.RuneError)
			i += n
			pos += 2 + pyLen(rest[:close+1])
			continue
		default:
			b.WriteString(body[i : i+2])
		}
		i += 2
		pos += 2
	}
	return b.String(), ""
}

// pyLen is the length of s as Python's messages count it (see decodeString).
func pyLen(s string) int {
	n := 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			n++
		} else {
			n += 10
		}
	}
	return n
}

// fparser splits an f-string's body into literal parts and replacement
// fields as CPython 3.11's f-string parser does, and lexes each field's
// expression. Its errors have line 0: the string's end line.
type fparser struct {
	l     *pyLexer
	s     string
	i     int
	raw   bool
	line0 int // the line s starts on
	// at, atLine: an offset in s and its line, as far as lexExpr counted.
	at, atLine int
	// bail: a field holds what only newer Pythons accept (a backslash, a
	// comment); the f-string is not read further, and not judged.
	bail bool
}

func (p *fparser) errf(format string, args ...any) *lexError {
	return &lexError{msg: fmt.Sprintf(format, args...)}
}

// parse reads parts up to the end of s (lvl 0) or the '}' that ends a
// format spec (lvl > 0).
func (p *fparser) parse(lvl int) ([]fpart, *lexError) {
	var parts []fpart
	for !p.bail {
		chunks, err := p.literal(lvl)
		if err != nil {
			return nil, err
		}
		for _, c := range chunks {
			v, msg := decodeString(c, p.raw, false)
			if msg != "" {
				return nil, p.errf("%s", msg)
			}
			if v != "" {
				parts = append(parts, fpart{lit: v})
			}
		}
		if p.i >= len(p.s) || p.s[p.i] == '}' {
			break
		}
		f, err := p.field(lvl)
		if err != nil {
			return nil, err
		}
		parts = append(parts, f)
	}
	return parts, nil
}

// literal reads literal text up to a replacement field or the end. It
// returns it in the chunks Python decodes one by one ("{{" ends one).
func (p *fparser) literal(lvl int) ([]string, *lexError) {
	var chunks []string
	start := p.i
	for p.i < len(p.s) {
		ch := p.s[p.i]
		p.i++
		if !p.raw && ch == '\\' && p.i < len(p.s) {
			ch = p.s[p.i]
			p.i++
			if ch == 'N' {
				// \N{name}: its braces are not a field's.
				if p.i < len(p.s) {
					p.i++
					if p.s[p.i-1] == '{' {
						for p.i < len(p.s) {
							p.i++
							if p.s[p.i-1] == '}' {
								break
							}
						}
					}
				}
				continue
			}
		}
		if ch != '{' && ch != '}' {
			continue
		}
		if lvl == 0 {
			if p.i < len(p.s) && p.s[p.i] == ch {
				chunks = append(chunks, p.s[start:p.i])
				p.i++
				start = p.i
				continue
			}
			if ch == '}' {
				return nil, p.errf("f-string: single '}' is not allowed")
			}
		}
		p.i--
		break
	}
	return append(chunks, p.s[start:p.i]), nil
}

// field reads a replacement field at the '{' at i.
func (p *fparser) field(lvl int) (fpart, *lexError) {
	expecting := p.errf("f-string: expecting '}'")
	if lvl >= 2 {
		return fpart{}, p.errf("f-string: expressions nested too deeply")
	}
	p.i++
	exprStart := p.i
	var quote byte
	triple := false
	var stack []byte
scan:
	for ; p.i < len(p.s); p.i++ {
		ch := p.s[p.i]
		if ch == '\\' {
			p.bail = true // Python 3.11 refuses it, 3.12 accepts it
			return fpart{}, nil
		}
		if quote != 0 {
			if ch == quote {
				if !triple {
					quote = 0
				} else if p.i+2 < len(p.s) && p.s[p.i+1] == ch && p.s[p.i+2] == ch {
					p.i += 2
					quote = 0
				}
			}
			continue
		}
		switch ch {
		case '\'', '"':
			triple = p.i+2 < len(p.s) && p.s[p.i+1] == ch && p.s[p.i+2] == ch
			if triple {
				p.i += 2
			}
			quote = ch
		case '(', '[', '{':
			if len(stack) >= maxNesting {
				return fpart{}, p.errf("f-string: too many nested parenthesis")
			}
			stack = append(stack, ch)
		case ')', ']', '}':
			if len(stack) == 0 {
				if ch == '}' {
					break scan
				}
				return fpart{}, p.errf("f-string: unmatched '%c'", ch)
			}
			if open := stack[len(stack)-1]; open != closing[ch] {
				return fpart{}, p.errf("f-string: closing parenthesis '%c' does not match opening parenthesis '%c'", ch, open)
			}
			stack = stack[:len(stack)-1]
		case '#':
			p.bail = true // a comment: Python 3.12 accepts one in a multi-line f-string
			return fpart{}, nil
		case '!', ':', '=', '<', '>':
			if len(stack) > 0 {
				continue
			}
			if ch != ':' && p.i+1 < len(p.s) && p.s[p.i+1] == '=' {
				p.i++ // != == <= >=
				continue
			}
			if ch == '<' || ch == '>' {
				continue
			}
			break scan
		}
	}
	exprEnd := p.i
	switch {
	case quote != 0:
		return fpart{}, p.errf("f-string: unterminated string")
	case len(stack) > 0:
		return fpart{}, p.errf("f-string: unmatched '%c'", stack[len(stack)-1])
	case p.i >= len(p.s):
		return fpart{}, expecting
	}
	expr := p.s[exprStart:exprEnd]
	if strings.TrimLeft(expr, " \t\n\r\f\v") == "" {
		return fpart{}, p.errf("f-string: empty expression not allowed")
	}
	f := fpart{field: true}
	if p.l.fdepth < maxFDepth {
		toks, err := p.lexExpr(expr, exprStart)
		if err != nil {
			return fpart{}, err
		}
		f.expr = toks
	}
	eq := p.s[p.i] == '='
	if eq {
		p.i++
		for p.i < len(p.s) && strings.IndexByte(" \t\n\r\f\v", p.s[p.i]) >= 0 {
			p.i++
		}
		if p.i >= len(p.s) {
			return fpart{}, expecting
		}
	}
	if p.s[p.i] == '!' {
		p.i++
		if p.i >= len(p.s) {
			return fpart{}, expecting
		}
		f.conv = p.s[p.i]
		p.i++
		if f.conv != 's' && f.conv != 'r' && f.conv != 'a' {
			return fpart{}, p.errf("f-string: invalid conversion character: expected 's', 'r', or 'a'")
		}
	}
	if p.i < len(p.s) && p.s[p.i] == ':' {
		p.i++
		if p.i >= len(p.s) {
			return fpart{}, expecting
		}
		f.spec = true
		if _, err := p.parse(lvl + 1); err != nil || p.bail {
			return fpart{}, err
		}
	}
	if p.i >= len(p.s) || p.s[p.i] != '}' {
		return fpart{}, expecting
	}
	p.i++
	if eq && f.conv == 0 && !f.spec {
		f.conv = 'r' // {x=} is "x=" + repr(x)
	}
	return f, nil
}

// lineOf returns the line of offset at in s, counting on from the last
// one asked (fields come in order, so a long f-string is counted once).
func (p *fparser) lineOf(at int) int {
	if at < p.at {
		p.at, p.atLine = 0, 0
	}
	p.atLine += strings.Count(p.s[p.at:at], "\n")
	p.at = at
	return p.line0 + p.atLine
}

// lexExpr lexes a field's expression as Python does: in parentheses.
func (p *fparser) lexExpr(expr string, at int) ([]token, *lexError) {
	sub := &pyLexer{
		src:     "(" + expr + ")\n",
		line:    p.lineOf(at),
		indents: []int{0}, alts: []int{0},
		fdepth: p.l.fdepth + 1,
	}
	lines, err := sub.run()
	if err != nil {
		return nil, err
	}
	if len(lines) != 1 || len(lines[0].toks) < 2 {
		return nil, nil
	}
	toks := lines[0].toks
	return toks[1 : len(toks)-1], nil
}
