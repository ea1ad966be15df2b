package hubconfig

import (
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// FuzzHubConfig feeds any bytes to the jupyterhub_config.py reader: it
// never panics, never takes a literal for a path, and its lines exist.
func FuzzHubConfig(f *testing.F) {
	for _, s := range []string{
		"c.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'\n",
		"from pathlib import Path\nc.ConfigurableHTTPProxy.auth_token = Path('/srv/x').read_text().strip()\n",
		"import os\nc.ConfigurableHTTPProxy.auth_token = os.environ['CONFIGPROXY_AUTH_TOKEN']\n",
		"with open('/srv/jupyterhub/proxy_auth_token') as f:\n    c.ConfigurableHTTPProxy.auth_token = f.read().strip()\n",
		"c.JupyterHub.cookie_secret = bytes.fromhex('" + fakeToken + "')\n",
		"if x:\n  c.JupyterHub.cookie_secret_file = os.path.join(d, 'x')\nelse: pass\n",
		"x = '''\nabc\n''' ; c['JupyterHub']['cookie_secret_file'] = rb'\\x00' f'{{}}'\n",
		"c.JupyterHub.cookie_secret_file = (\n  '/a' \\\n  '/b'\n",
		"\ufeffc = get_config()\nc.JupyterHub.proxy_auth_token = ''\n",
		"c.ConfigurableHTTPProxy.auth_token = os.environ.get('T', default='" + fakeToken + "') or f'{x!r:>{w}}'\n",
		"c.JupyterHub.cookie_secret = f'''{x}\\N{BULLET}\n{f\"{y}\"}" + fakeToken[:20] + "''' + 0x_1f\n",
		"x = 1\r\r!\ry = 2\r\n",
		"if x:\n\tif y:\n\t\tz = 1_0\n        w = 012\n\f  v = '\\x4'\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		hc := ReadHub("/h.py", src)
		// Python reads "\r\n" and a lone "\r" as "\n".
		lines := 1 + strings.Count(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n") + strings.Count(strings.ReplaceAll(string(src), "\r\n", ""), "\r")
		for name, s := range map[string]facts.Setting{"cookie_secret_file": hc.CookieSecretFile, "cookie_secret": hc.CookieSecret, "proxy_auth_token": hc.ProxyToken} {
			switch s.Kind {
			case facts.SettingUnset:
				if s != (facts.Setting{Kind: facts.SettingUnset}) {
					t.Fatalf("%s: unset with details %+v", name, s)
				}
				continue
			case facts.SettingFile, facts.SettingEnv, facts.SettingLiteral, facts.SettingUnknown:
			default:
				t.Fatalf("%s: kind %q", name, s.Kind)
			}
			if s.Line < 1 || s.Line > lines || s.Attr == "" {
				t.Fatalf("%s: line %d of %d, attr %q", name, s.Line, lines, s.Attr)
			}
			// A literal or unknown value records nothing of itself; a
			// literal fallback names its variable only.
			if (s.Kind == facts.SettingLiteral || s.Kind == facts.SettingUnknown) && (s.Path != "" || s.Env != "" && !s.Fallback) {
				t.Fatalf("%s: %+v records a value", name, s)
			}
			if (s.Fallback || s.Partial) && s.Kind != facts.SettingLiteral || s.Fallback && s.Empty {
				t.Fatalf("%s: %+v", name, s)
			}
			if name == "cookie_secret_file" && s.Kind == facts.SettingLiteral {
				t.Fatalf("cookie_secret_file is a path, never a literal secret: %+v", s)
			}
		}
		for _, e := range hc.Errors {
			if e.File != "/h.py" || e.Line < 1 || e.Line > lines || e.Msg == "" {
				t.Fatalf("error %+v (%d lines)", e, lines)
			}
		}
		if _, err := json.Marshal(hc); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzNginx parses fuzzed nginx files with crossplane over an in-memory
// tree with includes (by name and by glob) and checks the facts hold
// together, the bounds hold, and no lexer goroutine is left behind.
func FuzzNginx(f *testing.F) {
	f.Add([]byte(debianMain), []byte("server { listen 443 ssl; include ../snippets/s.conf; }\n"), []byte("ssl_dhparam dh.pem; ssl_ciphers 'EDH+AESGCM';\n"))
	f.Add([]byte("http { include a.conf; include conf.d/*.conf; ssl on; }"), []byte("server { listen 80; ssl_protocols TLSv1.3; }"), []byte("include /etc/nginx/a.conf;"))
	f.Add([]byte("include a.conf;"), []byte("include conf.d/b.conf;"), []byte("include /etc/nginx/nginx.conf;"))
	f.Add([]byte("http { server { listen 443 ssl; ssl_ciphers \"DEFAULT:-DHE:+x@STRENGTH\"; } }"), []byte("map $a $b { default 1; }"), []byte("}}}{{{"))
	f.Add([]byte("stream { server { listen [::]:5 ssl; } } events {} http { include "+strings.Repeat("x", 300)+"; }"), []byte{}, []byte("\"unterminated"))
	f.Fuzz(func(t *testing.T, main, a, b []byte) {
		if len(main)+len(a)+len(b) > 1<<16 {
			return
		}
		files := tree(map[string]string{
			mainConf:                     string(main),
			"/etc/nginx/a.conf":          string(a),
			"/etc/nginx/conf.d/b.conf":   string(b),
			"/etc/nginx/snippets/s.conf": string(a) + string(b),
		})
		files.dirs["/etc/nginx/conf.d/dir.conf"] = true
		before := runtime.NumGoroutine()
		n, incomplete := ReadNginx(mainConf, files)
		if n == nil {
			t.Fatal("no facts")
		}
		if len(n.Files) > MaxFiles || files.reads > 4*MaxFiles {
			t.Fatalf("%d files, %d reads", len(n.Files), files.reads)
		}
		for _, p := range n.Files {
			if _, ok := files.files[p]; !ok {
				t.Fatalf("read %q, which is not a file", p)
			}
		}
		if len(n.Files) > 0 && n.Files[0] != mainConf {
			t.Fatalf("files %v: the main one first", n.Files)
		}
		if len(incomplete) != 0 {
			t.Fatalf("incomplete %q: every file here is readable", incomplete)
		}
		for _, s := range n.Servers {
			if s.DHESuites != (len(s.DHESuiteNames) > 0) || s.Context != "http" && s.Context != "stream" {
				t.Fatalf("server %+v", s)
			}
			if s.DHParam != nil && !strings.HasPrefix(s.DHParam.Value, "/") {
				t.Fatalf("relative dhparam %+v", s.DHParam)
			}
			for _, name := range s.DHESuiteNames {
				if !slices.ContainsFunc(dheSuites, func(x suite) bool { return x.name == name }) {
					t.Fatalf("unknown suite %q", name)
				}
			}
		}
		if _, err := json.Marshal(n); err != nil {
			t.Fatal(err)
		}
		// crossplane lexes in a goroutine that blocks for ever if the parse
		// stops reading its tokens: none may outlive ReadNginx for long.
		for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines left behind", runtime.NumGoroutine()-before)
			}
		}
		if _, err := DHESuites(string(main)); err != nil && !strings.Contains(err.Error(), "OpenSSL") {
			t.Fatalf("cipher error %v", err)
		}
	})
}
