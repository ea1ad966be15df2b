package hubconfig

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// compileCorpus holds configs, broken and valid, and the line of the
// error CPython 3.11's py_compile reports for each (0: it compiles, -1:
// it refuses it without a line). What Python 3.12 accepts and 3.11 does not
// (a backslash or a comment in an f-string's field) is left out: the
// reader does not refuse it. So is a bytes literal over several lines with
// a non-ASCII character: 3.11.2 refuses its last line, 3.11.7 its first.
// TestReadHubCompilesAsPython checks that ReadHub reports a syntax error
// for exactly these, on the same line, and that the python3 installed
// agrees with the table. Cases name a kind of error; none holds a secret.
var compileCorpus = []struct {
	name, src string
	line      int
}{
	{"readme", "# jupyterhub_config.py\nfrom pathlib import Path\nc = get_config()  # noqa\nc.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\nc.ConfigurableHTTPProxy.auth_token = Path('/srv/jupyterhub/proxy_auth_token').read_text().strip()\n", 0},
	{"blocks and dedents", "import os\nif os.path.exists('/srv'):\n    if True:\n        x = 1\n    elif False:\n        x = 2\n    else:\n        pass\nelse:\n    x = 3\nfor i in range(3):\n  while False:\n      break\ny = 4\n", 0},
	{"tab-indented blocks", "if True:\n\tx = 1\n\tif x:\n\t\ty = 2\n\telse:\n\t\ty = 3\nz = 4\n", 0},
	{"tab then spaces at the same level", "if True:\n\tif 1:\n\t\tx = 1\n\ty = 2\n", 0},
	{"continuation lines", "c.JupyterHub.cookie_secret_file = \\\n        '/srv/jupyterhub/' \\\n  'jupyterhub_cookie_secret'\nx = (1,\n2,\n        3)\ny = [\n]\n", 0},
	{"comments and blank lines at any indentation", "if True:\n\n        # a comment further in\n  # and one less\n    x = 1\n\n# back at 0\n    \ny = 2\n", 0},
	{"form feed in indentation", "x = 1\n\x0cy = 2\nif x:\n    \x0c    z = 3\n", 0},
	{"CRLF line endings", "import os\r\nif os.sep:\r\n    x = 1\r\nc.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\r\n", 0},
	{"old Mac line endings", "x = 1\ry = 2\rif x:\r    z = 3\r", 0},
	{"valid numbers", "a = [1_000, 0x_ff, 0XAB_CD, 0o17, 0O1_7, 0b1_0, 0B1, 1e5, 1E-3, 1.5e+3, .5, 5., 1j, 1.5J, 0_0, 00, 0, 012.5, 012e1, 09j, 0.0, 1_0.0_1e1_0]\nb = 1if 1 else 2\nc = [1for x in ()]\nd = 1or 2\ne = 1and 2\nf = [0x1for x in ()]\ng = 1 if 1in [1] else 0\nh = 1not in []\n", 0},
	{"valid escapes in strings", "a = '\\x41\\u00e9\\U0001F600\\N{BULLET}\\N{bullet}\\N{NBSP}\\N{LINE FEED}'\nb = '\\N{CJK UNIFIED IDEOGRAPH-4E00}\\N{HANGUL SYLLABLE GAG}\\N{cjk compatibility ideograph-f900}'\nc = b'\\x00\\xff\\N{x}\\u12\\U1'\nd = r'\\N{NOPE}\\x\\u'\ne = rb'\\x' + Rb'\\N'\nf = '\\d\\w\\777\\0'\ng = u'\\N{EM DASH}'\nh = '\\N{LATIN CAPITAL LETTER GHA}'\n", 0},
	{"valid f-strings", "x = y = width = 1\na = f'{x!r:>{width}}'\nb = f'{x=}' f'{x = !s:>4}'\nc = f'{{}}{{x}}'\nd = f\"{'a' + 'b'}\"\ne = f'''{x\n+ 1}'''\nf = f\"{f'{x}'}\"\ng = f'\\N{BULLET} {x}'\nh = rf'\\d{x}' + fr'{x}\\N'\ni = f'{x:{y}}'\nj = f'{ {1: 2}[1] }'\nk = f'{x != y}{x<y}{x>=y}'\nl = f'{\"}\"}'\nm = f'{x:=5}'\nn = f'{(lambda: 1)()}'\no = F'{x!a}' \"plain\" f'{{'\n", 0},
	{"non-ASCII identifiers", "caf\u00e9 = 1\n\u03c0 = 3.14\n_\u00b7x = 1\nna\u00efve_\u0661 = 2\n", 0},
	{"byte order mark", "\ufeffc = get_config()\nc.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\n", 0},
	{"no final newline", "if True:\n    x = 1", 0},
	{"continuation before a blank line", "x = 1 \\\n\ny = 2\n", 0},
	{"soft keywords and async", "match = 1\nmatch match:\n    case 1:\n        pass\n    case _:\n        pass\nasync def f():\n    async with x as y:\n        await y\n", 0},
	{"decorators, classes, try", "@decorator\ndef f(a,\n      b):\n    return a\nclass A(object):\n    x = 1\n    def g(self):\n        try:\n            pass\n        except Exception as e:\n            raise\n        finally:\n            pass\n", 0},
	{"empty file", "", 0},
	{"only comments", "# nothing\n   # at all\n", 0},
	{"one-line compound statements", "if True: x = 1\nelse: x = 2\nwhile False: pass\nwith open('/dev/null') as f: data = f.read()\n", 0},
	{"brackets across lines at column 0", "c.JupyterHub.services = [\n{\n'name': 'idle-culler',\n'command': [\n'python3', '-m', 'jupyterhub_idle_culler',\n],\n}\n]\n", 0},
	{"deep but allowed indentation", deepIfs(98), 0},
	{"strings over lines", "a = '''one\ntwo \\\nthree'''\nb = 'joined \\\nline'\nc = \"\"\"\n  '''\n\"\"\"\n", 0},
	{"N escape in bytes is no escape", "x = b'\\N{NOPE}\\u12'\n", 0},
	{"raw strings keep every backslash", "x = r'\\x\\N{NOPE}\\U1' + R\"\\u\"\n", 0},
	{"raw f-string", "y = 1\nx = rf'\\N{NOPE}{y}\\x'\n", 0},
	{"character name in an f-string literal", "y = 1\nx = f'\\N{LEFT CURLY BRACKET}{y}\\N{RIGHT CURLY BRACKET}'\n", 0},
	{"doubled braces only", "x = f'{{}}' f'}}{{'\n", 0},
	{"dedent to an outer level", "if a:\n    if b:\n        if c:\n            x = 1\n    y = 2\nz = 3\n", 0},
	{"comment-only lines with tabs", "if a:\n    x = 1\n\t# a tab-indented comment\n    y = 2\n", 0},
	{"continuation inside brackets", "x = (1 +\\\n  2)\n", 0},
	{"keyword after a number", "x = [1 for y in []]\nz = 1 if 0x1f else 2\nw = 1.5if 1 else 0\n", 0},
	{"setting from the environment", "import os\nc.ConfigurableHTTPProxy.auth_token = os.environ.get('CONFIGPROXY_AUTH_TOKEN', '')\n", 0},
	{"unexpected indent", "x = 1\n  y = 2\n", 2},
	{"indented first line", "  x = 1\n", 1},
	{"indent after a one-line if", "if True: x = 1\n    y = 2\n", 2},
	{"no block after if", "if x:\ny = 2\n", 2},
	{"no block after if at end of file", "if x:\n", 1},
	{"no block after else, comments follow", "if x:\n    pass\nelse:\n# c\n\n", 5},
	{"no block after def", "def f():\nreturn 1\n", 2},
	{"dedent to an unknown level", "if x:\n    y = 1\n  z = 2\n", 3},
	{"dedent to an unknown level, deeper", "if a:\n    if b:\n            c = 1\n        d = 2\n", 4},
	{"tab against eight spaces", "if x:\n\ty = 1\n        z = 2\n", 3},
	{"eight spaces against a tab", "if x:\n        y = 1\n\tz = 2\n", 3},
	{"tab and spaces indent inconsistently", "if x:\n    if y:\n\tz = 1\n", 3},
	{"too many levels of indentation", deepIfs(101), 101},
	{"lone CR starts an indented line", "x = 1\r  y = 2\n", 2},
	{"dedent after a setting, mixed tabs", "c = get_config()\nif c:\n\tc.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\n    c.JupyterHub.bind_url = 'http://:8000'\n", 4},
	{"stray dollar", "c.JupyterHub.cookie_secret_file = $SECRET_FILE\n", 1},
	{"stray question mark", "x = 1?\n", 1},
	{"backtick", "x = `1`\n", 1},
	{"lone exclamation mark", "x = !1\n", 1},
	{"control character", "x = 1\x01\n", 1},
	{"vertical tab", "x = 1\x0b\n", 1},
	{"non-breaking space", "x =\u00a01\n", 1},
	{"euro sign", "price = \u20ac5\n", 1},
	{"typographic quotes from a web page", "c.JupyterHub.cookie_secret_file = \u2018/srv/jupyterhub/jupyterhub_cookie_secret\u2019\n", 1},
	{"zero-width space", "x\u200b = 1\n", 1},
	{"superscript digit in a name", "x\u00b2 = 1\n", 1},
	{"byte order mark in the middle", "x = 1\n\ufeffy = 2\n", 2},
	{"1_", "x = 1_\n", 1},
	{"1__0", "x = 1__0\n", 1},
	{"0_", "x = 0_\n", 1},
	{"0_7", "x = 0_7\n", 1},
	{"012", "x = 012\n", 1},
	{"09", "x = 09\n", 1},
	{"1e", "x = 1e\n", 1},
	{"1e+", "x = 1e+\n", 1},
	{"1.e_", "x = 1.e_\n", 1},
	{"1.5_", "x = 1.5_\n", 1},
	{"1e5_", "x = 1e5_\n", 1},
	{"0x", "x = 0x\n", 1},
	{"0x_", "x = 0x_\n", 1},
	{"0xg", "x = 0xg\n", 1},
	{"0o8", "x = 0o8\n", 1},
	{"0o", "x = 0o\n", 1},
	{"0b2", "x = 0b2\n", 1},
	{"0b", "x = 0b\n", 1},
	{"1x", "x = 1x\n", 1},
	{"1jx", "x = 1jx\n", 1},
	{"1.__class__", "x = 1.__class__\n", 1},
	{"number in a later block", "if True:\n    port = 8_000\n    other = 8__000\n", 3},
	{"unterminated string", "c.JupyterHub.cookie_secret_file = '/srv\n", 1},
	{"unterminated triple-quoted string", "x = 1\ny = '''abc\n\nz = 2\n", 2},
	{"unterminated triple-quoted string at end of file", "x = 1\ny = \"\"\"abc", 2},
	{"CR inside a string", "x = 'a\rb'\n", 1},
	{"unknown character name", "x = 1\ny = '''a\nb\\N{NOPE}\nc'''\n", 4},
	{"empty character name", "x = '\\N{}'\n", 1},
	{"N without braces", "x = '\\N'\n", 1},
	{"unclosed character name", "x = '\\N{BULLET'\n", 1},
	{"lower-case Hangul syllable", "x = '\\N{hangul syllable gag}'\n", 1},
	{"mixed-case Hangul syllable", "x = '\\N{Hangul Syllable GA}'\n", 1},
	{"lower-case ideograph prefix", "x = '\\N{cjk unified ideograph-4E00}'\n", 1},
	{"lower-case ideograph digits", "x = '\\N{cjk unified ideograph-4e00}'\n", 1},
	{"ideograph outside the ranges", "x = '\\N{CJK UNIFIED IDEOGRAPH-4DC0}'\n", 1},
	{"named sequence", "x = '\\N{LATIN CAPITAL LETTER A WITH MACRON AND GRAVE}'\n", 1},
	{"character name in an f-string", "x = 1\ny = f'''a\n{x}\\N{NOPE}\nc'''\n", 4},
	{"character name in a u-string", "x = u'\\N{BULET}'\n", 1},
	{"truncated x escape", "x = 1\ny = '''a\nb\\x4\nc'''\n", 4},
	{"truncated u escape", "x = '\\u12'\n", 1},
	{"truncated U escape", "x = '\\U0001F60'\n", 1},
	{"U escape beyond Unicode", "x = '\\U00110000'\n", 1},
	{"truncated x escape, u prefix", "x = u'\\x1'\n", 1},
	{"truncated x escape in bytes", "x = 1\ny = b'''a\nb\\x4\nc'''\n", 4},
	{"non-ASCII in bytes", "x = b'\u00e9'\n", 1},
	{"single closing brace", "x = 1\ny = f'''a\n}\nc'''\n", 4},
	{"unclosed field", "x = 1\ny = f'a{x'\n", 2},
	{"unclosed field over lines", "x = 1\ny = f'''a\n{x\nc'''\n", 4},
	{"empty field", "x = f'{}'\n", 1},
	{"blank field", "x = f'{ }'\n", 1},
	{"invalid conversion", "x = f'{x!z}'\n", 1},
	{"missing conversion", "x = f'{x!}'\n", 1},
	{"fields nested too deeply", "x = f'{x:{y:{z}}}'\n", 1},
	{"unmatched bracket in a field", "x = f'{x)}'\n", 1},
	{"mismatched brackets in a field", "x = f'{x(]}'\n", 1},
	{"unterminated string in a field", "x = f'{\"abc}'\n", 1},
	{"bad number in a field", "x = 1\ny = f'''\n{1_}'''\n", 3},
	{"bad number in a field over lines", "x = 1\ny = f\"\"\"\n{x\n+ 1_}\n\"\"\"\n", 4},
	{"bad conversion in a field over lines", "x = 1\ny = f\"\"\"\n{x!z}\nabc\n\"\"\"\n", 5},
	{"stray dollar in a field", "x = f'{$}'\n", 1},
	{"secret-looking f-string with a bad field", "c.JupyterHub.cookie_secret = f'{prefix!x}0123456789abcdef'\n", 1},
	{"mismatched brackets", "x = (1]\n", 1},
	{"mismatched brackets over lines", "x = (1,\n2]\n", 2},
	{"unmatched closing bracket", "x = 1)\n", 1},
	{"bracket never closed", "x = 1\ny = [1,\n2\n", 2},
	{"bracket never closed, string inside", "c.JupyterHub.services = [{'name': 'x'}\n", 1},
	{"too many nested brackets", "x = " + strings.Repeat("(", 201) + strings.Repeat(")", 201) + "\n", 1},
	{"backslash at end of file", "x = 1 \\", 1},
	{"backslash and newline at end of file", "x = 1 \\\n", 1},
	{"backslash before a space", "x = 1 \\ \ny = 2\n", 1},
	{"backslash before a comment", "x = 1 \\ # c\n", 1},
	{"NUL byte", "x = 1\n\x00", -1},
	{"invalid UTF-8", "x = 1\ny = '\xff'\n", 2},
	{"Latin-1 without a coding line", "# caf\xe9\nx = 1\n", 0},
	{"Latin-1 with a coding line", "#!/usr/bin/env python3\n# -*- coding: latin-1 -*-\n# caf\xe9\nx = '\xe9'\n", 0},
	{"settings then a tab error", "c = get_config()\nc.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\nif True:\n        x = 1\n\ty = 2\n", 5},
	{"good file with an if block and a late escape", "import os\nif os.environ.get('X'):\n    c.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\nc.JupyterHub.template_vars = {'sep': '\\N{EM DASH}', 'x': '\\x'}\n", 4},
	{"with block, then unexpected indent", "with open('/srv/jupyterhub/proxy_auth_token') as f:\n    c.ConfigurableHTTPProxy.auth_token = f.read().strip()\n        x = 1\n", 3},
	{"nested f-strings in a valid config", "name = 'hub'\nc.JupyterHub.bind_url = f\"http://{f'{name}.example.org'}:{8000}/\"\n", 0},
}

// deepIfs nests n if-blocks, each one column further in.
func deepIfs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "if x:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "pass\n")
	return b.String()
}

// pyCompileAll is python3 -m py_compile on each file named in argv, in one
// interpreter (py_compile's command line stops at the first failure):
// it prints, for each, the line of the error or 0, and the error.
const pyCompileAll = `
import json, py_compile, sys
out = []
for path in sys.argv[1:]:
    try:
        py_compile.compile(path, cfile=path + "c", doraise=True)
        out.append({"line": 0})
    except py_compile.PyCompileError as e:
        v = e.exc_value
        out.append({"line": getattr(v, "lineno", None) or -1, "error": type(v).__name__ + ": " + str(getattr(v, "msg", v))})
print(json.dumps({"version": list(sys.version_info[:2]), "results": out}))
`

func TestReadHubCompilesAsPython(t *testing.T) {
	compiles, fails := 0, 0
	for i, c := range compileCorpus {
		if c.line == 0 {
			compiles++
		} else {
			fails++
		}
		hc := ReadHub("/h.py", []byte(c.src))
		switch {
		case c.line == 0 && len(hc.Errors) > 0:
			t.Errorf("case %d (%s): python compiles it, the reader says line %d: %s", i, c.name, hc.Errors[0].Line, hc.Errors[0].Msg)
		case c.line != 0 && len(hc.Errors) == 0:
			t.Errorf("case %d (%s): python refuses it (line %d), the reader sees no error", i, c.name, c.line)
		case c.line > 0 && hc.Errors[0].Line != c.line:
			t.Errorf("case %d (%s): python refuses line %d, the reader line %d: %s", i, c.name, c.line, hc.Errors[0].Line, hc.Errors[0].Msg)
		}
	}
	t.Logf("%d configs: %d compile, %d do not", len(compileCorpus), compiles, fails)

	needPython(t)
	dir := t.TempDir()
	args := []string{"-c", pyCompileAll}
	for i, c := range compileCorpus {
		p := filepath.Join(dir, fmt.Sprintf("c%03d.py", i))
		if err := os.WriteFile(p, []byte(c.src), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	cmd := exec.Command("python3", args...)
	cmd.Env = append(os.Environ(), "PYTHONWARNINGS=ignore")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr(err))
	}
	var py struct {
		Version []int
		Results []struct {
			Line  int
			Error string
		}
	}
	if err := json.Unmarshal(out, &py); err != nil || len(py.Results) != len(compileCorpus) {
		t.Fatalf("python3 said %d results (%v)", len(py.Results), err)
	}
	// The table holds CPython 3.11's lines; another version may place an
	// error elsewhere, but must refuse the same files.
	sameLines := len(py.Version) == 2 && py.Version[0] == 3 && py.Version[1] == 11
	for i, c := range compileCorpus {
		r := py.Results[i]
		switch {
		case (r.Line == 0) != (c.line == 0):
			t.Errorf("case %d (%s): python3 %v says line %d (%s), the table %d", i, c.name, py.Version, r.Line, r.Error, c.line)
		case sameLines && r.Line != c.line:
			t.Errorf("case %d (%s): python3 says line %d (%s), the table %d", i, c.name, r.Line, r.Error, c.line)
		}
	}
}
