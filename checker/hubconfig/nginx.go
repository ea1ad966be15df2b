package hubconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// Bounds on what the nginx reader (and the hub config reader's caller)
// reads: generous for any real configuration, small enough that a hostile
// tree costs nothing.
const (
	// MaxFileSize is the largest configuration file read.
	MaxFileSize = 1 << 20
	// MaxFiles is the most nginx files read for one configuration.
	MaxFiles = 256
	// MaxTotal bounds the bytes of all nginx files read together.
	MaxTotal = 4 << 20
)

// Nginx's defaults where a directive is not written (nginx 1.23.4 and
// later for ssl_protocols; earlier versions add TLSv1 and TLSv1.1, which
// changes nothing for DHE).
const (
	DefaultCiphers   = "HIGH:!aNULL:!MD5"
	DefaultProtocols = "TLSv1.2 TLSv1.3"
)

// ErrNotRegular is what Files returns for a path that exists but is not a
// regular file once symlinks are followed (a directory, a device, a
// symlink loop): nginx cannot read it either.
var ErrNotRegular = errors.New("not a regular file")

// Files reads files as nginx does: following symlinks, inside the scanned
// root. Read returns at most n bytes from the start of the file at p (an
// absolute, clean path). Its error wraps fs.ErrNotExist when the file does
// not exist and ErrNotRegular when it cannot be read as a file; any other
// error means it could not be observed. Glob returns the paths matching
// pattern, as glob(3) would (nginx's include with * ? [).
type Files interface {
	Read(p string, n int64) ([]byte, error)
	Glob(pattern string) ([]string, error)
}

// ReadNginx parses nginx's configuration from its main file, following
// includes through files. It returns the facts and what could not be
// observed (each "path: why"), which the caller must treat as an
// incomplete scan.
func ReadNginx(main string, files Files) (*facts.Nginx, []string) {
	r := &nginxReader{
		files:    files,
		content:  map[string][]byte{},
		failed:   map[string]error{},
		fromGlob: map[string]bool{},
		suppress: map[string]bool{},
	}
	n := &facts.Nginx{
		Path:     main,
		Files:    []string{},
		Errors:   []facts.ConfigError{},
		Servers:  []facts.NginxServer{},
		DHParams: []facts.Directive{},
		DHFiles:  map[string]facts.File{},
	}
	payload, err := r.parse(main)
	n.Files = append(n.Files, r.order...)
	switch {
	case err != nil && r.rootErr != nil:
		// The main file itself could not be read.
		return n, append(r.incomplete, fmt.Sprintf("%s: %v", main, r.rootErr))
	case err != nil:
		msg := err.Error()
		if strings.Contains(msg, "include cycle") {
			msg = fmt.Sprintf("the include directives form a cycle among %s: nginx would include files forever and fails to start", strings.Join(r.order, ", "))
		}
		n.Errors = append(n.Errors, facts.ConfigError{File: main, Msg: msg})
		return n, r.incomplete
	}
	for _, pe := range payload.Errors {
		what := pe.Error.Error()
		var perr *crossplane.ParseError
		if errors.As(pe.Error, &perr) {
			what = perr.What
		}
		if r.suppress[what] {
			continue
		}
		line := 0
		if pe.Line != nil {
			line = *pe.Line
		}
		n.Errors = append(n.Errors, facts.ConfigError{File: pe.File, Line: line, Msg: what})
	}
	n.Errors = append(n.Errors, r.globErrors...)
	w := &walker{payload: payload, prefix: path.Dir(main), n: n, seenErr: map[string]bool{}}
	w.walk()
	sortErrors(n.Errors)
	return n, r.incomplete
}

func sortErrors(errs []facts.ConfigError) {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].File != errs[j].File {
			return errs[i].File < errs[j].File
		}
		return errs[i].Line < errs[j].Line
	})
}

type nginxReader struct {
	files      Files
	content    map[string][]byte
	failed     map[string]error
	order      []string // files read, in order
	total      int
	fromGlob   map[string]bool // paths a glob returned
	incomplete []string
	suppress   map[string]bool // crossplane messages made from incomplete reads
	globErrors []facts.ConfigError
	rootErr    error
	root       string
}

// parse runs crossplane with our file access. crossplane stops the whole
// parse when opening a glob's match fails, and its lexer goroutine blocks
// for ever if the parser stops reading tokens early; open and glob are
// written so that neither happens: a glob never fails and every file it
// returns opens (a problem with it is recorded here instead).
func (r *nginxReader) parse(main string) (payload *crossplane.Payload, err error) {
	r.root = main
	defer func() {
		if p := recover(); p != nil {
			payload, err = nil, fmt.Errorf("nginx-go-crossplane failed on this configuration: %v", p)
		}
	}()
	return crossplane.Parse(main, &crossplane.ParseOptions{
		Open:                     r.open,
		Glob:                     r.glob,
		StopParsingOnError:       false,
		ErrorOnUnknownDirectives: false,
		ParseComments:            false,
		CombineConfigs:           false,
	})
}

func (r *nginxReader) open(p string) (io.Reader, error) {
	p = path.Clean(p)
	if b, ok := r.content[p]; ok {
		return bytes.NewReader(b), nil
	}
	err, ok := r.failed[p]
	if !ok {
		var b []byte
		b, err = r.read(p)
		if err == nil {
			r.content[p] = b
			r.order = append(r.order, p)
			return bytes.NewReader(b), nil
		}
		r.failed[p] = err
	}
	if p == r.root && r.rootErr == nil && !errors.Is(err, errConfig) {
		r.rootErr = err
	}
	if r.fromGlob[p] {
		// crossplane would give up on the whole configuration: say what
		// nginx says and give it an empty file.
		if errors.Is(err, errConfig) {
			r.globErrors = append(r.globErrors, facts.ConfigError{File: p, Msg: err.Error()})
		}
		return bytes.NewReader(nil), nil
	}
	return nil, err
}

// errConfig marks a file problem nginx itself has (it refuses to start),
// as opposed to one only hubsecrets has (it could not observe the file).
var errConfig = errors.New("nginx configuration error")

type configErr struct{ msg string }

func (e *configErr) Error() string        { return e.msg }
func (e *configErr) Is(target error) bool { return target == errConfig }

// read reads one file within the bounds; its errors are configErr (nginx's
// problem) or incomplete reads (recorded, and their crossplane message
// suppressed).
func (r *nginxReader) read(p string) ([]byte, error) {
	incomplete := func(why string) error {
		msg := fmt.Sprintf("%s: %s", p, why)
		r.incomplete = append(r.incomplete, msg)
		r.suppress[msg] = true
		return errors.New(msg)
	}
	if len(r.order) >= MaxFiles {
		return nil, incomplete(fmt.Sprintf("not read: nginx's configuration has more than %d files", MaxFiles))
	}
	b, err := r.files.Read(p, MaxFileSize+1)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &configErr{fmt.Sprintf("open() %q failed (No such file or directory)", p)}
	case errors.Is(err, ErrNotRegular):
		return nil, &configErr{fmt.Sprintf("cannot read %q: %v", p, err)}
	case err != nil:
		return nil, incomplete(err.Error())
	case len(b) > MaxFileSize:
		return nil, incomplete(fmt.Sprintf("larger than %d KiB: not read", MaxFileSize>>10))
	case r.total+len(b) > MaxTotal:
		return nil, incomplete(fmt.Sprintf("not read: nginx's configuration files hold more than %d MiB together", MaxTotal>>20))
	}
	r.total += len(b)
	return b, nil
}

func (r *nginxReader) glob(pattern string) ([]string, error) {
	pattern = path.Clean(pattern)
	matches, err := r.files.Glob(pattern)
	if err != nil {
		msg := fmt.Sprintf("%s: %v", pattern, err)
		r.incomplete = append(r.incomplete, msg)
		return nil, nil
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		m = path.Clean(m)
		r.fromGlob[m] = true
		out = append(out, m)
	}
	return out, nil
}

// walker turns the parsed files into facts, following include directives
// in the context they appear in.
type walker struct {
	payload *crossplane.Payload
	prefix  string // nginx's configuration prefix: the main file's directory
	n       *facts.Nginx
	seenErr map[string]bool
	depth   int
	servers []*serverBlock // the current context's
}

// ctxSettings are the TLS directives of one context (http, stream or a
// server) and the servers found in it.
type ctxSettings struct {
	dhparam, ciphers, protocols *facts.Directive
	sslOn                       *bool // the ssl directive, when written
}

type serverBlock struct {
	server   facts.NginxServer
	own      ctxSettings
	ssl      bool     // a listen with ssl, or ssl on
	addrs    []string // normalised listen addresses
	listened bool
}

func (w *walker) walk() {
	if len(w.payload.Config) == 0 {
		return
	}
	w.directives(w.payload.Config[0], w.payload.Config[0].Parsed, "main", nil, nil)
}

// directives walks one block. ctx is the context's name; settings and
// servers collect into the enclosing http/stream context or server.
func (w *walker) directives(file crossplane.Config, ds crossplane.Directives, ctx string, set *ctxSettings, srv *serverBlock) {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > 64 {
		return // crossplane refuses include cycles; this bounds the rest
	}
	for _, d := range ds {
		switch {
		case d.Directive == "include":
			for _, idx := range d.Includes {
				if idx >= 0 && idx < len(w.payload.Config) {
					inc := w.payload.Config[idx]
					w.directives(inc, inc.Parsed, ctx, set, srv)
				}
			}
		case ctx == "main" && (d.Directive == "http" || d.Directive == "stream") && d.IsBlock():
			w.context(file, d)
		case ctx == "context" && d.Directive == "server" && d.IsBlock():
			s := &serverBlock{server: facts.NginxServer{File: file.File, Line: d.Line, Names: []string{}, Listen: []string{}, DHESuiteNames: []string{}}}
			w.directives(file, d.Block, "server", &s.own, s)
			w.servers = append(w.servers, s)
		case ctx == "context" || ctx == "server":
			w.setting(file, d, set, srv)
		}
	}
}

func (w *walker) setting(file crossplane.Config, d *crossplane.Directive, set *ctxSettings, srv *serverBlock) {
	at := func(v string) *facts.Directive {
		return &facts.Directive{Value: v, File: file.File, Line: d.Line}
	}
	switch d.Directive {
	case "ssl_dhparam":
		if len(d.Args) == 1 {
			p := d.Args[0]
			if !path.IsAbs(p) {
				p = path.Join(w.prefix, p)
			}
			set.dhparam = at(path.Clean(p))
			w.n.DHParams = append(w.n.DHParams, *set.dhparam)
		}
	case "ssl_ciphers":
		if len(d.Args) == 1 {
			set.ciphers = at(d.Args[0])
		}
	case "ssl_protocols":
		if len(d.Args) > 0 {
			set.protocols = at(strings.Join(d.Args, " "))
		}
	case "ssl":
		if len(d.Args) == 1 {
			on := d.Args[0] == "on"
			set.sslOn = &on
		}
	case "listen":
		if srv == nil || len(d.Args) == 0 {
			return
		}
		srv.listened = true
		srv.server.Listen = append(srv.server.Listen, d.Args[0])
		srv.addrs = append(srv.addrs, listenAddr(d.Args[0]))
		for _, a := range d.Args[1:] {
			if a == "ssl" {
				srv.ssl = true
			}
		}
	case "server_name":
		if srv != nil {
			srv.server.Names = append(srv.server.Names, d.Args...)
		}
	}
}

// listenAddr normalises a listen address so servers sharing a socket can
// be matched: "443", "*:443" and "0.0.0.0:443" are one socket.
func listenAddr(a string) string {
	if strings.HasPrefix(a, "unix:") {
		return a
	}
	if strings.Trim(a, "0123456789") == "" {
		return "*:" + a
	}
	if strings.HasPrefix(a, "[") {
		if i := strings.LastIndex(a, "]"); i >= 0 && !strings.HasPrefix(a[i:], "]:") {
			return a + ":80"
		}
		return a
	}
	host, port, ok := strings.Cut(a, ":")
	if !ok {
		host, port = a, "80"
	}
	if host == "0.0.0.0" {
		host = "*"
	}
	return host + ":" + port
}

// context walks an http or stream block and records its servers with the
// settings in effect for each: the server's own, else the context's, else
// nginx's default. Where a directive sits in the context does not matter:
// nginx merges the context's values into every server.
func (w *walker) context(file crossplane.Config, d *crossplane.Directive) {
	outer := w.servers
	w.servers = nil
	var set ctxSettings
	w.directives(file, d.Block, "context", &set, nil)
	// A listen socket with ssl is ssl for every server on it.
	sslAddrs := map[string]bool{}
	for _, s := range w.servers {
		if s.ssl {
			for _, a := range s.addrs {
				sslAddrs[a] = true
			}
		}
	}
	for _, s := range w.servers {
		srv := s.server
		srv.Context = d.Directive
		srv.TLS = s.ssl
		for _, a := range s.addrs {
			srv.TLS = srv.TLS || sslAddrs[a]
		}
		switch {
		case s.own.sslOn != nil:
			srv.TLS = srv.TLS || *s.own.sslOn
		case set.sslOn != nil:
			srv.TLS = srv.TLS || *set.sslOn
		}
		srv.DHParam = first(s.own.dhparam, set.dhparam)
		if c := first(s.own.ciphers, set.ciphers); c != nil {
			srv.Ciphers = *c
		} else {
			srv.Ciphers = facts.Directive{Value: DefaultCiphers, Default: true}
		}
		if p := first(s.own.protocols, set.protocols); p != nil {
			srv.Protocols = *p
		} else {
			srv.Protocols = facts.Directive{Value: DefaultProtocols, Default: true}
		}
		if belowTLS13(srv.Protocols.Value) {
			names, err := DHESuites(srv.Ciphers.Value)
			if err != nil {
				w.cipherError(srv.Ciphers, err)
				names = []string{}
			}
			srv.DHESuiteNames = names
			srv.DHESuites = len(names) > 0
		}
		w.n.Servers = append(w.n.Servers, srv)
	}
	w.servers = outer
}

func first(ds ...*facts.Directive) *facts.Directive {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return nil
}

// belowTLS13 says whether ssl_protocols enables a version with cipher
// suites (TLSv1.3's suites are never DHE).
func belowTLS13(protocols string) bool {
	for _, p := range strings.Fields(protocols) {
		switch p {
		case "SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2":
			return true
		}
	}
	return false
}

// cipherError records, once per directive, a cipher string OpenSSL (and so
// nginx) refuses.
func (w *walker) cipherError(c facts.Directive, err error) {
	key := fmt.Sprintf("%s:%d", c.File, c.Line)
	if w.seenErr[key] {
		return
	}
	w.seenErr[key] = true
	w.n.Errors = append(w.n.Errors, facts.ConfigError{
		File: c.File, Line: c.Line,
		Msg: fmt.Sprintf("ssl_ciphers: %v; SSL_CTX_set_cipher_list() fails and nginx does not start", err),
	})
}
