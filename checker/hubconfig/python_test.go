package hubconfig

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// fakeToken stands for a secret written into a config; no output may
// ever carry it.
const fakeToken = "3f1c9a0e5b7d2468ace013579bdf2468ace013579bdf2468ace013579bdf0246"

func TestReadHubSettings(t *testing.T) {
	type want struct {
		cookieFile, cookie, token facts.Setting
	}
	unset := facts.Setting{Kind: facts.SettingUnset}
	file := func(attr, p string, line int) facts.Setting {
		return facts.Setting{Kind: facts.SettingFile, Attr: attr, Path: p, Line: line}
	}
	const csf, cs, tok = "c.JupyterHub.cookie_secret_file", "c.JupyterHub.cookie_secret", "c.ConfigurableHTTPProxy.auth_token"
	tests := []struct {
		name string
		src  string
		want want
	}{
		{"empty", "", want{unset, unset, unset}},
		{"README's two lines", `# jupyterhub_config.py
from pathlib import Path
c = get_config()  # noqa
c.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'
c.ConfigurableHTTPProxy.auth_token = Path('/srv/jupyterhub/proxy_auth_token').read_text().strip()
`, want{file(csf, "/srv/jupyterhub/jupyterhub_cookie_secret", 4), unset,
			facts.Setting{Kind: facts.SettingFile, Attr: tok, Path: "/srv/jupyterhub/proxy_auth_token", Stripped: true, Line: 5}}},
		{"quote styles, raw and concatenated strings", `c.JupyterHub.cookie_secret_file = r"/srv/jupyterhub/" 'jupyterhub_cookie_secret'
c.ConfigurableHTTPProxy.auth_token = open("""/srv/jupyterhub/proxy_auth_token""").read()
`, want{file(csf, "/srv/jupyterhub/jupyterhub_cookie_secret", 1), unset,
			file(tok, "/srv/jupyterhub/proxy_auth_token", 2)}},
		{"os.path.join, variables, Path division, unclean paths", `import os
import os.path as osp
from pathlib import Path as P
data_dir = '/srv/jupyterhub/'
c.JupyterHub.cookie_secret_file = os.path.join(data_dir, 'jupyterhub_cookie_secret')
c.ConfigurableHTTPProxy.auth_token = (P(data_dir) / 'x' / '..//proxy_auth_token').read_text().rstrip()
c.JupyterHub.cookie_secret_file = osp.join('/etc', data_dir, 'jupyterhub_cookie_secret')
`, want{file(csf, "/srv/jupyterhub/jupyterhub_cookie_secret", 7), unset,
			facts.Setting{Kind: facts.SettingFile, Attr: tok, Path: "/srv/jupyterhub/proxy_auth_token", Stripped: true, Line: 6}}},
		{"later assignment wins, multi-line statements", `c.JupyterHub.cookie_secret_file = '/tmp/old'
c.JupyterHub.cookie_secret_file = (
    '/srv/jupyterhub/'   # a comment inside
    'jupyterhub_cookie_secret'
)
c.ConfigurableHTTPProxy.auth_token = \
    os.environ['CONFIGPROXY_AUTH_TOKEN']
`, want{file(csf, "/srv/jupyterhub/jupyterhub_cookie_secret", 2), unset,
			facts.Setting{Kind: facts.SettingEnv, Attr: tok, Env: "CONFIGPROXY_AUTH_TOKEN", Line: 6}}},
		{"inline secrets: only the kind", `c.JupyterHub.cookie_secret = bytes.fromhex('` + fakeToken + `')
c.ConfigurableHTTPProxy.auth_token = '` + fakeToken + `'
`, want{unset, facts.Setting{Kind: facts.SettingLiteral, Attr: cs, Line: 1},
			facts.Setting{Kind: facts.SettingLiteral, Attr: tok, Line: 2}}},
		{"empty literal token, getenv, deprecated alias", `c.JupyterHub.proxy_auth_token = ''
c.JupyterHub.cookie_secret = os.getenv('JPY_COOKIE_SECRET', '').encode()
`, want{unset, facts.Setting{Kind: facts.SettingEnv, Attr: cs, Env: "JPY_COOKIE_SECRET", Line: 2},
			facts.Setting{Kind: facts.SettingLiteral, Attr: "c.JupyterHub.proxy_auth_token", Empty: true, Line: 1}}},
		{"with block and item syntax", `with open('/srv/jupyterhub/proxy_auth_token') as f:
    c['ConfigurableHTTPProxy']['auth_token'] = f.read().strip()
`, want{unset, unset, facts.Setting{Kind: facts.SettingFile, Attr: "c.ConfigurableHTTPProxy.auth_token", Path: "/srv/jupyterhub/proxy_auth_token", Stripped: true, Line: 2}}},
		{"conditional blocks", `import os
if os.path.exists('/srv/jupyterhub/proxy_auth_token'):
    c.ConfigurableHTTPProxy.auth_token = open('/srv/jupyterhub/proxy_auth_token').read().strip()
    d = '/x'
else: c.JupyterHub.cookie_secret_file = 'relative/secret'
c.JupyterHub.cookie_secret = d
`, want{facts.Setting{Kind: facts.SettingFile, Attr: csf, Path: "relative/secret", Line: 5, Conditional: true},
			facts.Setting{Kind: facts.SettingUnknown, Attr: cs, Line: 6},
			facts.Setting{Kind: facts.SettingFile, Attr: tok, Path: "/srv/jupyterhub/proxy_auth_token", Stripped: true, Line: 3, Conditional: true}}},
		{"another config object name; unknown expressions", `config = get_config()
config.JupyterHub.cookie_secret_file = os.path.join(os.path.dirname(__file__), 'secret')
config.ConfigurableHTTPProxy.auth_token = secrets.token_hex(32)
c.JupyterHub.cookie_secret = f'{x}'
`, want{facts.Setting{Kind: facts.SettingUnknown, Attr: "config.JupyterHub.cookie_secret_file", Line: 2},
			facts.Setting{Kind: facts.SettingUnknown, Attr: cs, Line: 4},
			facts.Setting{Kind: facts.SettingUnknown, Attr: "config.ConfigurableHTTPProxy.auth_token", Line: 3}}},
		{"augmented assignment forgets", `c.JupyterHub.cookie_secret_file = '/a'
c.JupyterHub.cookie_secret_file += '/b'
`, want{facts.Setting{Kind: facts.SettingUnknown, Attr: csf, Line: 2}, unset, unset}},
		{"other objects and sections are not the config", `x = object()
x.JupyterHub.cookie_secret_file = '/a'
c.Spawner.cookie_secret_file = '/b'
c.JupyterHub.cookie_secret_file_other = '/c'
`, want{unset, unset, unset}},
		{"literal fallbacks of environment variables are inline secrets", `import os
c.ConfigurableHTTPProxy.auth_token = os.environ.get("CONFIGPROXY_AUTH_TOKEN", "` + fakeToken + `")
c.JupyterHub.cookie_secret = bytes.fromhex(os.getenv('JPY_COOKIE_SECRET', default='` + fakeToken + `'))
`, want{unset, facts.Setting{Kind: facts.SettingLiteral, Attr: cs, Env: "JPY_COOKIE_SECRET", Fallback: true, Line: 3},
			facts.Setting{Kind: facts.SettingLiteral, Attr: tok, Env: "CONFIGPROXY_AUTH_TOKEN", Fallback: true, Line: 2}}},
		{"fallbacks after or, setdefault; an empty fallback is the environment", `import os
c.ConfigurableHTTPProxy.auth_token = os.environ.get('CONFIGPROXY_AUTH_TOKEN') or 'changeme'
c.JupyterHub.cookie_secret = os.environ.setdefault('JPY_COOKIE_SECRET', '` + fakeToken + `').encode()
c.JupyterHub.cookie_secret = os.environ.get('JPY_COOKIE_SECRET', b'')
c.ConfigurableHTTPProxy.auth_token = os.environ.get('CONFIGPROXY_AUTH_TOKEN', '') or 'changeme'
`, want{unset, facts.Setting{Kind: facts.SettingEnv, Attr: cs, Env: "JPY_COOKIE_SECRET", Line: 4},
			facts.Setting{Kind: facts.SettingLiteral, Attr: tok, Env: "CONFIGPROXY_AUTH_TOKEN", Fallback: true, Line: 5}}},
		{"f-strings of literals are literals; known variables are read", `d = '/srv/jupyterhub'
c.JupyterHub.cookie_secret_file = f'{d}/jupyterhub_cookie_secret'
c.JupyterHub.cookie_secret = f'{"` + fakeToken[:32] + `"}{"` + fakeToken[32:] + `"!s}'
c.ConfigurableHTTPProxy.auth_token = f"` + fakeToken + `"
`, want{file(csf, "/srv/jupyterhub/jupyterhub_cookie_secret", 2), facts.Setting{Kind: facts.SettingLiteral, Attr: cs, Line: 3},
			facts.Setting{Kind: facts.SettingLiteral, Attr: tok, Line: 4}}},
		{"a key-looking constant part around unknown fields is an inline secret", `c.JupyterHub.cookie_secret = f'{prefix}` + fakeToken[:20] + `{suffix!r}'.encode()
c.ConfigurableHTTPProxy.auth_token = os.environ['SALT'] + '` + fakeToken[:16] + `'
c.ConfigurableHTTPProxy.auth_token = token if token else os.getenv('X', f'{a}` + fakeToken[:24] + `')
`, want{unset, facts.Setting{Kind: facts.SettingLiteral, Attr: cs, Partial: true, Line: 1},
			facts.Setting{Kind: facts.SettingLiteral, Attr: tok, Partial: true, Line: 3}}},
		{"f-strings without a key-looking part stay unknown", `c.JupyterHub.cookie_secret = f'{x}/srv/jupyterhub/jupyterhub_cookie_secret'
c.ConfigurableHTTPProxy.auth_token = f'{token:>64}' + 'abcdef0123'
c.JupyterHub.cookie_secret_file = f'{d}/0123456789abcdef0123'
`, want{facts.Setting{Kind: facts.SettingUnknown, Attr: csf, Line: 3}, facts.Setting{Kind: facts.SettingUnknown, Attr: cs, Line: 1},
			facts.Setting{Kind: facts.SettingUnknown, Attr: tok, Line: 2}}},
		{"a docstring, semicolons, annotations", `"""Config for the hub: c.JupyterHub.cookie_secret_file = '/no'"""
a = 1; c.JupyterHub.cookie_secret_file: str = '/srv/jupyterhub/jupyterhub_cookie_secret'
`, want{file(csf, "/srv/jupyterhub/jupyterhub_cookie_secret", 2), unset, unset}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := ReadHub("/etc/jupyterhub/jupyterhub_config.py", []byte(tt.src))
			if len(hc.Errors) != 0 {
				t.Errorf("errors: %+v", hc.Errors)
			}
			for _, c := range []struct {
				what      string
				got, want facts.Setting
			}{
				{"cookie_secret_file", hc.CookieSecretFile, tt.want.cookieFile},
				{"cookie_secret", hc.CookieSecret, tt.want.cookie},
				{"proxy_auth_token", hc.ProxyToken, tt.want.token},
			} {
				if c.got != c.want {
					t.Errorf("%s = %+v, want %+v", c.what, c.got, c.want)
				}
			}
			assertNoSecretIn(t, hc)
		})
	}
}

func assertNoSecretIn(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), fakeToken[:16]) {
		t.Fatal("the facts carry (part of) a secret written in the config")
	}
}

func TestReadHubSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"unterminated string", "c.JupyterHub.cookie_secret_file = '/srv\n", 1, "unterminated string literal"},
		{"unterminated triple quote", "x = 1\ny = '''abc\n\n", 2, "unterminated triple-quoted string"},
		{"unclosed bracket", "c.JupyterHub.cookie_secret_file = '/a'\nx = (1,\n2\n", 2, "never closed"},
		{"unmatched bracket", "x = 1)\n", 1, "unmatched ')'"},
		{"NUL byte", "x = 1\n\x00", 2, "null bytes"},
		{"invalid UTF-8", "x = 1\ny = '\xff'\n", 2, "invalid UTF-8"},
		{"backslash not at end of line", "x = 1 \\ y\n", 1, "after line continuation"},
		{"too deeply nested", "x = " + strings.Repeat("(", 300) + "\n", 1, "too many nested parentheses"},
		{"unexpected indent", "x = 1\n    y = 2\n", 2, "IndentationError: unexpected indent"},
		{"tabs against spaces", "if x:\n        y = 1\n\tz = 2\n", 3, "TabError: inconsistent use of tabs and spaces"},
		{"typographic quotes", "c.JupyterHub.cookie_secret_file = \u2018/srv/x\u2019\n", 1, "invalid character '\u2018' (U+2018)"},
		{"leading zeros", "c.JupyterHub.port = 08000\n", 1, "leading zeros in decimal integer literals"},
		{"unknown character name", "x = '\\N{NO SUCH NAME}'\n", 1, "unknown Unicode character name"},
		{"f-string brace", "x = f'{x'\n", 1, "f-string: expecting '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := ReadHub("/h.py", []byte(tt.src))
			if len(hc.Errors) != 1 {
				t.Fatalf("errors %+v, want one", hc.Errors)
			}
			e := hc.Errors[0]
			if e.File != "/h.py" || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error %+v, want line %d and %q", e, tt.line, tt.msg)
			}
		})
	}
	// What was read before the error stays.
	hc := ReadHub("/h.py", []byte("c.JupyterHub.cookie_secret_file = '/a'\nx = '\n"))
	if hc.CookieSecretFile.Path != "/a" {
		t.Errorf("settings before the error lost: %+v", hc.CookieSecretFile)
	}
}

// TestReadHubHostileInput: long chains of operators and deep nesting stay
// within the stack and finish quickly.
func TestReadHubHostileInput(t *testing.T) {
	for _, src := range []string{
		"c.JupyterHub.cookie_secret = " + strings.Repeat("-", 1<<20) + "1\n",
		"c.JupyterHub.cookie_secret = 1" + strings.Repeat(" ** 2", 1<<18) + "\n",
		"c.JupyterHub.cookie_secret = 1" + strings.Repeat(" if 1 else 2", 1<<17) + "\n",
		"c.JupyterHub.cookie_secret = " + strings.Repeat("not ", 1<<18) + "1\n",
		"x = " + strings.Repeat("(", 199) + strings.Repeat(")", 199) + "\n",
		strings.Repeat("if 1:\n", 1<<15),
		strings.Repeat("a.", 1<<18) + "b = 1\n",
		"c.JupyterHub.cookie_secret = f'''" + strings.Repeat("{x}\n", 1<<17) + "'''\n",
		"c.JupyterHub.cookie_secret = f'" + strings.Repeat("{x:{y}}\\N{BULLET}", 1<<14) + "'\n",
		strings.Repeat("if x:\n"+strings.Repeat(" ", 98)+"pass\n", 1<<12),
	} {
		hc := ReadHub("/h.py", []byte(src))
		if hc.CookieSecret.Kind == facts.SettingLiteral {
			t.Errorf("an expression was taken for a literal")
		}
	}
}

// pyHarness runs a config file the way the hub does (exec, with c and
// get_config) in a real Python, where open(), Path.read_text() and
// os.environ return markers, and prints where each setting came from.
const pyHarness = `
import builtins, json, os, pathlib, sys

class Section:
    def __init__(self, name):
        object.__setattr__(self, "_name", name)
    def __setattr__(self, attr, value):
        got[self._name + "." + attr] = value
    def __setitem__(self, attr, value):
        got[self._name + "." + attr] = value

class Config:
    def __getattr__(self, name):
        return Section(name)
    def __getitem__(self, name):
        return Section(name)

class Marked:
    def __init__(self, path):
        self.path = str(path)
    def read(self):
        return "\0FILE:" + self.path + "\n"
    readline = read
    def __enter__(self):
        return self
    def __exit__(self, *a):
        return False

class Env(dict):
    def __getitem__(self, k):
        return "\0ENV:" + k
    def get(self, k, d=None):
        return "\0ENV:" + k

got = {}
builtins.open = lambda p, *a, **k: Marked(p)
pathlib.Path.read_text = lambda self, *a, **k: "\0FILE:" + str(self) + "\n"
os.environ = Env()
os.getenv = lambda k, d=None: "\0ENV:" + k
c = Config()
src = sys.stdin.read()
exec(compile(src, "jupyterhub_config.py", "exec"), {"c": c, "get_config": lambda: c})

out = {}
for key, v in got.items():
    if isinstance(v, bytes):
        v = v.decode("latin-1")
    if v.startswith("\0FILE:"):
        p = v[6:].rstrip("\n")
        # The reader cleans absolute paths lexically, as it compares them.
        out[key] = {"kind": "file", "path": os.path.normpath(p) if p.startswith("/") else p, "stripped": not v.endswith("\n")}
    elif v.startswith("\0ENV:"):
        out[key] = {"kind": "env", "env": v[5:]}
    elif key.endswith("cookie_secret_file"):
        out[key] = {"kind": "file", "path": os.path.normpath(v) if v.startswith("/") else v}
    else:
        out[key] = {"kind": "literal", "empty": v == ""}
print(json.dumps(out))
`

// TestReadHubMatchesPython runs the reader's cases, where it reaches a
// definite answer, through a real Python and compares where each setting
// comes from.
func TestReadHubMatchesPython(t *testing.T) {
	needPython(t)
	// Failures name the case, not its source: one holds fakeToken.
	for i, src := range []string{
		"from pathlib import Path\nc = get_config()\nc.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\nc.ConfigurableHTTPProxy.auth_token = Path('/srv/jupyterhub/proxy_auth_token').read_text().strip()\n",
		"c.JupyterHub.cookie_secret_file = r\"/srv/jupyterhub/\" 'jupyterhub_cookie_secret'\nc.ConfigurableHTTPProxy.auth_token = open(\"\"\"/srv/jupyterhub/proxy_auth_token\"\"\").read()\n",
		"import os\nimport os.path as osp\nfrom pathlib import Path as P\ndata_dir = '/srv/jupyterhub/'\nc.JupyterHub.cookie_secret_file = os.path.join(data_dir, 'jupyterhub_cookie_secret')\nc.ConfigurableHTTPProxy.auth_token = (P(data_dir) / 'x' / '..//proxy_auth_token').read_text().rstrip()\nc.JupyterHub.cookie_secret_file = osp.join('/etc', data_dir, 'jupyterhub_cookie_secret')\n",
		"import os\nc.JupyterHub.cookie_secret_file = '/tmp/old'\nc.JupyterHub.cookie_secret_file = (\n    '/srv/jupyterhub/'   # a comment inside\n    'jupyterhub_cookie_secret'\n)\nc.ConfigurableHTTPProxy.auth_token = \\\n    os.environ['CONFIGPROXY_AUTH_TOKEN']\n",
		"c.ConfigurableHTTPProxy.auth_token = '" + fakeToken + "'\nc.JupyterHub.cookie_secret = b'\\x01\\x02'\n",
		"import os\nc.JupyterHub.proxy_auth_token = ''\nc.JupyterHub.cookie_secret = os.getenv('JPY_COOKIE_SECRET', '').encode()\n",
		"with open('/srv/jupyterhub/proxy_auth_token') as f:\n    c['ConfigurableHTTPProxy']['auth_token'] = f.read().strip()\n",
		"config = get_config()\nx = 1; config.JupyterHub.cookie_secret_file: str = '/srv//jupyterhub/./s'\n",
		"d = '/srv/jupyterhub'\nc.JupyterHub.cookie_secret_file = f'{d}/{\"jupyterhub_cookie_secret\"!s}'\nc.ConfigurableHTTPProxy.auth_token = f'{\"\"}' f''\nc.JupyterHub.cookie_secret = f'\\N{DIGIT ZERO}{{}}'\n",
	} {
		cmd := exec.Command("python3", "-c", pyHarness)
		cmd.Stdin = strings.NewReader(src)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("case %d: python3: %v\n%s", i, err, stderr(err))
		}
		var py map[string]struct {
			Kind, Path, Env string
			Stripped, Empty bool
		}
		if err := json.Unmarshal(out, &py); err != nil {
			t.Fatal(err)
		}
		hc := ReadHub("/h.py", []byte(src))
		got := map[string]facts.Setting{
			"JupyterHub.cookie_secret_file":    hc.CookieSecretFile,
			"JupyterHub.cookie_secret":         hc.CookieSecret,
			"ConfigurableHTTPProxy.auth_token": hc.ProxyToken,
			"JupyterHub.proxy_auth_token":      hc.ProxyToken,
		}
		for key, s := range got {
			p, ok := py[key]
			if !ok {
				continue
			}
			if s.Kind != p.Kind || s.Path != p.Path || s.Env != p.Env || s.Stripped != p.Stripped || s.Empty != p.Empty {
				t.Errorf("case %d: %s: reader %+v, python %+v", i, key, s, p)
			}
		}
		for _, key := range []string{"JupyterHub.cookie_secret_file", "JupyterHub.cookie_secret"} {
			if _, ok := py[key]; !ok && got[key].Kind != facts.SettingUnset {
				t.Errorf("case %d: %s: python never set it, the reader says %+v", i, key, got[key])
			}
		}
	}
}

// needPython skips (testenv) a test without python3.
func needPython(t *testing.T) {
	t.Helper()
	testenv.NeedTool(t, "python3", "the config reader's values are compared with what a real Python computes")
}

func stderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
