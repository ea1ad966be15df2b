package hubconfig

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The Python lexer: enough of Python's tokenizer to split a config file
// into logical lines (brackets and backslashes join physical lines) of
// names, strings, numbers and operators, with each line's indentation.
// It is not a Python implementation: what it cannot place it turns into an
// opaque token, and only what Python itself would refuse to compile
// (unterminated strings or brackets, NUL bytes, invalid UTF-8) is an error.

type tokKind int

const (
	tName tokKind = iota
	tString
	tNumber
	tOp
	tOther
)

type token struct {
	kind tokKind
	text string // the name, the operator, or the string's decoded value
	line int
	// For strings: the value is only known when known is true (an f-string
	// with a replacement field is not).
	known bool
	bytes bool
}

// logicalLine is one logical line of source.
type logicalLine struct {
	toks   []token
	line   int // the first physical line
	indent int // the columns of leading whitespace (a tab counts to the next multiple of 8)
}

// maxNesting is Python's own limit on nested brackets ("too many nested
// parentheses"); it also bounds the evaluator's recursion.
const maxNesting = 200

type lexError struct {
	line int
	msg  string
}

func (e *lexError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// lexPython splits src into logical lines. On an error it returns the
// lines before it and the error.
func lexPython(src string) ([]logicalLine, *lexError) {
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, &lexError{line: 1 + strings.Count(src[:i], "\n"), msg: "source code cannot contain null bytes"}
	}
	if !utf8.ValidString(src) {
		bad := 0
		for i, r := range src {
			if r == utf8.RuneError {
				bad = i
				break
			}
		}
		return nil, &lexError{line: 1 + strings.Count(src[:bad], "\n"), msg: "invalid UTF-8: Python reads config files as UTF-8"}
	}
	src = strings.TrimPrefix(src, "\ufeff")
	l := &pyLexer{src: src, line: 1}
	return l.run()
}

type pyLexer struct {
	src   string
	pos   int
	line  int
	lines []logicalLine
	cur   *logicalLine
	depth int
	open  []int // lines of open brackets
}

func (l *pyLexer) run() ([]logicalLine, *lexError) {
	atLineStart := true
	for l.pos < len(l.src) {
		if atLineStart && l.depth == 0 {
			atLineStart = false
			indent, blank := l.indentation()
			if blank {
				atLineStart = true
				continue
			}
			if l.cur == nil {
				l.cur = &logicalLine{line: l.line, indent: indent}
			}
		}
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.pos++
			l.line++
			if l.depth == 0 {
				l.endLine()
				atLineStart = true
			}
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			l.pos++
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case c == '\\':
			// A line continuation: only a newline may follow.
			rest := l.src[l.pos+1:]
			switch {
			case strings.HasPrefix(rest, "\n"):
				l.pos += 2
				l.line++
			case strings.HasPrefix(rest, "\r\n"):
				l.pos += 3
				l.line++
			case rest == "":
				return l.lines, &lexError{line: l.line, msg: "unexpected end of file after a line continuation"}
			default:
				return l.lines, &lexError{line: l.line, msg: "unexpected character after line continuation character"}
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
			l.add(token{kind: tName, text: word, line: l.line})
		case c == '\'' || c == '"':
			if err := l.str(""); err != nil {
				return l.lines, err
			}
		case c >= '0' && c <= '9' || c == '.' && l.pos+1 < len(l.src) && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9':
			start := l.pos
			for l.pos < len(l.src) && (isNameChar(l.src[l.pos]) || l.src[l.pos] == '.') {
				l.pos++
			}
			l.add(token{kind: tNumber, text: l.src[start:l.pos], line: l.line})
		default:
			if err := l.op(); err != nil {
				return l.lines, err
			}
		}
	}
	if l.depth > 0 {
		return l.lines, &lexError{line: l.open[len(l.open)-1], msg: "unexpected end of file: a bracket opened here is never closed"}
	}
	l.endLine()
	return l.lines, nil
}

// indentation measures the leading whitespace of the physical line at pos
// and reports whether the line is blank or a comment only.
func (l *pyLexer) indentation() (int, bool) {
	col := 0
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ' ':
			col++
		case '\t':
			col = (col/8 + 1) * 8
		case '\f':
			col = 0
		case '\r':
		case '\n':
			l.pos++
			l.line++
			return 0, true
		case '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
			return 0, true
		default:
			return col, false
		}
		l.pos++
	}
	return 0, true
}

func (l *pyLexer) add(t token) {
	if l.cur == nil {
		l.cur = &logicalLine{line: t.line}
	}
	l.cur.toks = append(l.cur.toks, t)
}

func (l *pyLexer) endLine() {
	if l.cur != nil && len(l.cur.toks) > 0 {
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

func (l *pyLexer) op() *lexError {
	rest := l.src[l.pos:]
	for _, o := range ops {
		if !strings.HasPrefix(rest, o) {
			continue
		}
		switch o {
		case "(", "[", "{":
			if l.depth >= maxNesting {
				return &lexError{line: l.line, msg: "too many nested parentheses"}
			}
			l.depth++
			l.open = append(l.open, l.line)
		case ")", "]", "}":
			if l.depth == 0 {
				return &lexError{line: l.line, msg: fmt.Sprintf("unmatched '%s'", o)}
			}
			l.depth--
			l.open = l.open[:len(l.open)-1]
		}
		l.add(token{kind: tOp, text: o, line: l.line})
		l.pos += len(o)
		return nil
	}
	// '!', '$', '?', '`': not Python outside strings.
	r, size := utf8.DecodeRuneInString(rest)
	l.add(token{kind: tOther, text: string(r), line: l.line})
	l.pos += size
	return nil
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// str reads a string literal at pos (the quote) with the given prefix.
func (l *pyLexer) str(prefix string) *lexError {
	raw := strings.Contains(prefix, "r")
	q := l.src[l.pos : l.pos+1]
	triple := strings.HasPrefix(l.src[l.pos:], strings.Repeat(q, 3))
	if triple {
		q = strings.Repeat(q, 3)
	}
	startLine := l.line
	l.pos += len(q)
	var b strings.Builder
	for {
		if l.pos >= len(l.src) {
			what := "unterminated string literal"
			if triple {
				what = "unterminated triple-quoted string literal"
			}
			return &lexError{line: startLine, msg: what}
		}
		if strings.HasPrefix(l.src[l.pos:], q) {
			l.pos += len(q)
			break
		}
		c := l.src[l.pos]
		switch {
		case c == '\n' && !triple:
			return &lexError{line: startLine, msg: "unterminated string literal"}
		case c == '\\' && l.pos+1 < len(l.src):
			n := l.escape(&b, raw, strings.Contains(prefix, "b"))
			l.pos += n
		default:
			if c == '\n' {
				l.line++
			}
			b.WriteByte(c)
			l.pos++
		}
	}
	v := b.String()
	t := token{kind: tString, text: v, line: startLine, known: true, bytes: strings.Contains(prefix, "b")}
	if strings.Contains(prefix, "f") {
		t.text, t.known = fstring(v)
	}
	l.add(t)
	return nil
}

// escape decodes the escape sequence at pos and returns its length. Raw
// strings keep the backslash; a backslash still protects the quote.
func (l *pyLexer) escape(b *strings.Builder, raw, isBytes bool) int {
	next := l.src[l.pos+1]
	if next == '\n' {
		l.line++
		if raw {
			b.WriteString("\\\n")
		}
		return 2
	}
	if raw {
		b.WriteByte('\\')
		b.WriteByte(next)
		return 2
	}
	simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}
	if s, ok := simple[next]; ok {
		b.WriteString(s)
		return 2
	}
	rest := l.src[l.pos:]
	hexEsc := func(n int) int {
		if len(rest) >= 2+n {
			if v, err := strconv.ParseUint(rest[2:2+n], 16, 32); err == nil {
				if isBytes {
					b.WriteByte(byte(v))
				} else {
					b.WriteRune(rune(v))
				}
				return 2 + n
			}
		}
		b.WriteString(rest[:2])
		return 2
	}
	switch {
	case next == 'x':
		return hexEsc(2)
	case next == 'u' && !isBytes:
		return hexEsc(4)
	case next == 'U' && !isBytes:
		return hexEsc(8)
	case next >= '0' && next <= '7':
		n := 1
		for n < 3 && len(rest) > 1+n && rest[1+n] >= '0' && rest[1+n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(rest[1:1+n], 8, 32)
		if isBytes {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		return 1 + n
	}
	// Unknown escapes (and \N{...}) stay as written, as Python keeps them.
	b.WriteString(rest[:2])
	return 2
}

// fstring returns an f-string's value when it has no replacement field
// ("{{" and "}}" are literal braces).
func fstring(v string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '{' && c != '}' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(v) && v[i+1] == c {
			b.WriteByte(c)
			i++
			continue
		}
		return "", false
	}
	return b.String(), true
}
