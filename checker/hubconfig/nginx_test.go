package hubconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
)

// memFiles is an in-memory Files: regular files by path, "dir" entries
// for directories, and errors to return for some paths.
type memFiles struct {
	files map[string]string
	dirs  map[string]bool
	errs  map[string]error
	reads int
}

func (m *memFiles) Read(p string, n int64) ([]byte, error) {
	m.reads++
	if err, ok := m.errs[p]; ok {
		return nil, err
	}
	if m.dirs[p] {
		return nil, fmt.Errorf("%s: is a directory: %w", p, ErrNotRegular)
	}
	s, ok := m.files[p]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if int64(len(s)) > n {
		s = s[:n]
	}
	return []byte(s), nil
}

func (m *memFiles) Glob(pattern string) ([]string, error) {
	var out []string
	for p := range m.files {
		// A malformed pattern matches nothing (configFS does the same).
		if ok, _ := path.Match(pattern, p); ok && !strings.HasPrefix(path.Base(p), ".") {
			out = append(out, p)
		}
	}
	for p := range m.dirs {
		if ok, _ := path.Match(pattern, p); ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

func tree(files map[string]string) *memFiles {
	return &memFiles{files: files, dirs: map[string]bool{}, errs: map[string]error{}}
}

const mainConf = "/etc/nginx/nginx.conf"

// debianMain is the shape of Debian's nginx.conf: TLS settings at http
// level, sites included by glob.
const debianMain = `user www-data;
worker_processes auto;
events { worker_connections 768; }
http {
	include /etc/nginx/mime.types;
	ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
	ssl_prefer_server_ciphers on;
	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}
`

func TestReadNginx(t *testing.T) {
	files := tree(map[string]string{
		mainConf:                "",
		"/etc/nginx/mime.types": "types { text/html html; }\n",
		"/etc/nginx/conf.d/hub.conf": `map $http_upgrade $connection_upgrade { default upgrade; '' close; }
`,
		"/etc/nginx/sites-enabled/hub": `server {
	listen 80;
	server_name hub.example.org;
	return 301 https://$host$request_uri;
}
server {
	listen 443 ssl;
	listen [::]:443 ssl;
	server_name hub.example.org;
	include snippets/ssl.conf;
	location / { proxy_pass http://127.0.0.1:8000; }
}
server {
	listen 443;
	server_name other.example.org;
	ssl_protocols TLSv1.3;
}
`,
		"/etc/nginx/snippets/ssl.conf": `ssl_dhparam /srv/jupyterhub/dhparam.pem;
ssl_ciphers "EECDH+AESGCM:EDH+AESGCM";
`,
	})
	files.files[mainConf] = debianMain
	n, incomplete := ReadNginx(mainConf, files)
	if len(incomplete) != 0 || len(n.Errors) != 0 {
		t.Fatalf("incomplete %v, errors %+v", incomplete, n.Errors)
	}
	wantFiles := []string{mainConf, "/etc/nginx/mime.types", "/etc/nginx/conf.d/hub.conf", "/etc/nginx/sites-enabled/hub", "/etc/nginx/snippets/ssl.conf"}
	if !slices.Equal(n.Files, wantFiles) {
		t.Errorf("files %v, want %v", n.Files, wantFiles)
	}
	if len(n.Servers) != 3 {
		t.Fatalf("%d servers: %+v", len(n.Servers), n.Servers)
	}
	plain, hub, other := n.Servers[0], n.Servers[1], n.Servers[2]
	if plain.TLS || !hub.TLS || !other.TLS {
		t.Errorf("TLS: plain %v, hub %v, other (shares the ssl socket) %v", plain.TLS, hub.TLS, other.TLS)
	}
	if hub.DHParam == nil || hub.DHParam.Value != "/srv/jupyterhub/dhparam.pem" || hub.DHParam.File != "/etc/nginx/snippets/ssl.conf" || hub.DHParam.Line != 1 {
		t.Errorf("hub dhparam %+v", hub.DHParam)
	}
	if hub.Ciphers.Value != "EECDH+AESGCM:EDH+AESGCM" || hub.Ciphers.Default || !hub.DHESuites || len(hub.DHESuiteNames) != 4 {
		t.Errorf("hub ciphers %+v, DHE %v %v", hub.Ciphers, hub.DHESuites, hub.DHESuiteNames)
	}
	if hub.Protocols.Value != "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3" || hub.Protocols.File != mainConf || hub.Protocols.Line != 6 {
		t.Errorf("hub protocols inherited from http: %+v", hub.Protocols)
	}
	if other.DHParam != nil || !other.Ciphers.Default || other.DHESuites {
		t.Errorf("other server: TLSv1.3 only, so no DHE whatever the default ciphers: %+v", other)
	}
	if plain.Context != "http" || plain.File != "/etc/nginx/sites-enabled/hub" || plain.Line != 1 || !slices.Equal(plain.Names, []string{"hub.example.org"}) {
		t.Errorf("plain server %+v", plain)
	}
	if len(n.DHParams) != 1 || n.DHParams[0].Value != "/srv/jupyterhub/dhparam.pem" {
		t.Errorf("dhparams %+v", n.DHParams)
	}
}

func TestReadNginxInheritanceAndDefaults(t *testing.T) {
	files := tree(map[string]string{mainConf: `events {}
http {
	server { listen 8443 ssl; }
	ssl_dhparam dh/params.pem;   # after the server: still inherited
	server { listen 443 ssl; ssl_dhparam /srv/jupyterhub/dhparam.pem; ssl_ciphers ECDHE+AESGCM; }
	ssl on;
	server { listen 80; ssl off; }
}
stream {
	server { listen 5432 ssl; ssl_protocols TLSv1.2; }
}
`})
	n, incomplete := ReadNginx(mainConf, files)
	if len(incomplete) != 0 {
		t.Fatal(incomplete)
	}
	if len(n.Servers) != 4 {
		t.Fatalf("%d servers", len(n.Servers))
	}
	a, b, c, s := n.Servers[0], n.Servers[1], n.Servers[2], n.Servers[3]
	if a.DHParam == nil || a.DHParam.Value != "/etc/nginx/dh/params.pem" || !a.Ciphers.Default || !a.DHESuites || len(a.DHESuiteNames) != 29 {
		t.Errorf("first server: relative dhparam against the prefix, default ciphers with 29 DHE suites: %+v", a)
	}
	if b.DHParam.Value != "/srv/jupyterhub/dhparam.pem" || b.DHESuites {
		t.Errorf("second server's own settings: %+v", b)
	}
	if c.TLS {
		t.Errorf("ssl off in the server overrides the http level's ssl on")
	}
	if s.Context != "stream" || !s.TLS || !s.DHESuites || s.DHParam != nil {
		t.Errorf("stream server %+v", s)
	}
	if len(n.Errors) != 0 {
		t.Errorf("errors %+v", n.Errors)
	}
}

func TestReadNginxErrors(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		dirs       []string
		errs       map[string]error
		wantErrs   []string // substrings of "file:line: msg"
		incomplete []string
	}{
		{
			name:     "syntax error and unknown context",
			files:    map[string]string{mainConf: "events {}\nhttp {\n  server {\n    listen 443 ssl\n  }\n}\nssl_dhparam /x;\n"},
			wantErrs: []string{mainConf + ":4:"},
		},
		{
			name:     "missing include and a directory matched by a glob",
			files:    map[string]string{mainConf: "http {\n include missing.conf;\n include conf.d/*;\n}\n"},
			dirs:     []string{"/etc/nginx/conf.d/sub"},
			wantErrs: []string{mainConf + `:2: open() "/etc/nginx/missing.conf" failed`, "/etc/nginx/conf.d/sub:0: cannot read"},
		},
		{
			name:     "bad cipher string",
			files:    map[string]string{mainConf: "http { server { listen 443 ssl; ssl_ciphers 'HIGH:$x'; } }\n"},
			wantErrs: []string{mainConf + ":1: ssl_ciphers: invalid cipher string"},
		},
		{
			name:     "include cycle",
			files:    map[string]string{mainConf: "include a.conf;\n", "/etc/nginx/a.conf": "include b.conf;\n", "/etc/nginx/b.conf": "include a.conf;\n"},
			wantErrs: []string{"cycle"},
		},
		{
			name:       "unreadable include",
			files:      map[string]string{mainConf: "http { include x.conf; }\n"},
			errs:       map[string]error{"/etc/nginx/x.conf": errors.New("permission denied")},
			incomplete: []string{"/etc/nginx/x.conf: permission denied"},
		},
		{
			name:       "too large",
			files:      map[string]string{mainConf: "http { include big.conf; }\n", "/etc/nginx/big.conf": strings.Repeat("#", MaxFileSize+1)},
			incomplete: []string{"/etc/nginx/big.conf: larger than 1024 KiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := tree(tt.files)
			for _, d := range tt.dirs {
				files.dirs[d] = true
			}
			if tt.errs != nil {
				files.errs = tt.errs
			}
			n, incomplete := ReadNginx(mainConf, files)
			var got []string
			for _, e := range n.Errors {
				got = append(got, fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg))
			}
			for _, w := range tt.wantErrs {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
					t.Errorf("errors %q lack %q", got, w)
				}
			}
			if len(tt.wantErrs) == 0 && len(got) != 0 {
				t.Errorf("errors %q, want none (what hubsecrets could not read is not nginx's error)", got)
			}
			if len(incomplete) != len(tt.incomplete) {
				t.Fatalf("incomplete %q, want %q", incomplete, tt.incomplete)
			}
			for i, w := range tt.incomplete {
				if !strings.Contains(incomplete[i], w) {
					t.Errorf("incomplete %q, want %q", incomplete[i], w)
				}
			}
		})
	}
}

func TestReadNginxBounds(t *testing.T) {
	files := tree(map[string]string{mainConf: "http { include conf.d/*.conf; }\n"})
	for i := range MaxFiles + 10 {
		files.files[fmt.Sprintf("/etc/nginx/conf.d/%03d.conf", i)] = "server { listen 80; }\n"
	}
	n, incomplete := ReadNginx(mainConf, files)
	if len(n.Files) != MaxFiles {
		t.Errorf("%d files read, want the bound %d", len(n.Files), MaxFiles)
	}
	if len(incomplete) != 11 {
		t.Errorf("%d incomplete, want 11: %q", len(incomplete), incomplete)
	}
	if files.reads > MaxFiles+11 {
		t.Errorf("%d reads", files.reads)
	}
	if _, inc := ReadNginx("/etc/nginx/none.conf", tree(nil)); len(inc) != 0 {
		t.Errorf("a missing main file: %q (the caller decides; it is not read)", inc)
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"443": "*:443", "*:443": "*:443", "0.0.0.0:443": "*:443", "127.0.0.1": "127.0.0.1:80",
		"[::]:443": "[::]:443", "[::1]": "[::1]:80", "unix:/run/x.sock": "unix:/run/x.sock",
	} {
		if got := listenAddr(in); got != want {
			t.Errorf("listenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
