package source

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/hubconfig"
)

// Configuration files are read as the programs that use them read them:
// following symlinks (Debian's sites-enabled/ holds absolute symlinks to
// sites-available/), but never out of the scanned root: an absolute link
// target starts again at the root, ".." stops at it. The secrets
// themselves are still never followed.

// Defaults for Options.HubConfig and Options.NginxConfig.
const (
	DefaultHubConfig   = "/etc/jupyterhub/jupyterhub_config.py"
	DefaultNginxConfig = "/etc/nginx/nginx.conf"
)

const (
	// maxSymlinks is Linux's limit on symlinks followed in one lookup.
	maxSymlinks = 40
	// maxGlobMatches bounds what one include pattern may match.
	maxGlobMatches = 4 * hubconfig.MaxFiles
	// maxDHFiles bounds the ssl_dhparam files described besides the
	// checked one.
	maxDHFiles = 16
)

// recordedConfig is implemented by sources that observed configuration
// files on the target itself (the remote collector): their answer, when
// they have one, is used as is.
type recordedConfig interface {
	recordedRead(p string, n int64) (b []byte, err error, ok bool)
	recordedGlob(pattern string) (matches []string, err error, ok bool)
}

// impliedDirs is implemented by sources that know a path is a directory
// without knowing its owner and mode (an archive member's parent).
type impliedDirs interface {
	impliedDir(p string) bool
}

// configFS implements hubconfig.Files over an FS.
type configFS struct {
	fs FS
}

func configFiles(fsys FS) configFS { return configFS{fs: fsys} }

// Read implements hubconfig.Files.
func (c configFS) Read(p string, n int64) ([]byte, error) {
	if r, ok := c.fs.(recordedConfig); ok {
		if b, err, ok := r.recordedRead(p, n); ok {
			return b, err
		}
	}
	resolved, node, err := c.resolve(p)
	if err != nil {
		return nil, err
	}
	if node.Type != facts.TypeFile {
		return nil, fmt.Errorf("%s: %s: %w", p, typeName(node.Type), hubconfig.ErrNotRegular)
	}
	return c.fs.ReadPrefix(resolved, n)
}

func typeName(t string) string {
	switch t {
	case facts.TypeDir:
		return "a directory"
	case facts.TypeSymlink:
		return "a symlink"
	}
	return "not a regular file"
}

// resolve follows symlinks in every component of p inside the root (see
// walk in resolve.go) and returns the path with none left and what it is.
// A missing component is fs.ErrNotExist; a loop or a non-directory in the
// middle is hubconfig.ErrNotRegular (the program fails too); anything else
// is an observation error.
func (c configFS) resolve(p string) (string, Node, error) {
	w, err := walk(c.fs, p, true, false)
	if err != nil {
		var re *resolveError
		switch {
		case isNotExist(err):
			return "", Node{}, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		case errors.As(err, &re):
			return "", Node{}, fmt.Errorf("%s: %w", re.msg, hubconfig.ErrNotRegular)
		}
		return "", Node{}, err
	}
	return w.path, w.node, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Glob implements hubconfig.Files as glob(3) does for nginx: component by
// component, * ? and [...] (with [!...]) not matching a leading dot,
// results sorted.
func (c configFS) Glob(pattern string) ([]string, error) {
	if r, ok := c.fs.(recordedConfig); ok {
		if m, err, ok := r.recordedGlob(pattern); ok {
			return m, err
		}
	}
	if !path.IsAbs(pattern) {
		return nil, fmt.Errorf("glob %q: not an absolute pattern", pattern)
	}
	comps := splitPath(pattern)
	cands := []string{"/"}
	for i, comp := range comps {
		last := i == len(comps)-1
		var next []string
		for _, cand := range cands {
			if !hasGlobMagic(comp) {
				p := path.Join(cand, comp)
				ok, err := c.exists(p, last)
				if err != nil {
					return nil, err
				}
				if ok {
					next = append(next, p)
				}
				continue
			}
			dir, node, err := c.resolve(cand)
			switch {
			case err != nil && (isNotExist(err) || errors.Is(err, hubconfig.ErrNotRegular)):
				continue
			case err != nil:
				return nil, err
			case node.Type != facts.TypeDir:
				continue
			}
			names, err := c.fs.ReadDir(dir)
			if err != nil {
				return nil, err
			}
			sort.Strings(names)
			for _, name := range names {
				if strings.HasPrefix(name, ".") && !strings.HasPrefix(comp, ".") {
					continue
				}
				if ok, _ := path.Match(fnmatchToGo(comp), name); ok {
					next = append(next, path.Join(cand, name))
				}
			}
		}
		if len(next) > maxGlobMatches {
			return nil, fmt.Errorf("glob %q: more than %d matches", pattern, maxGlobMatches)
		}
		cands = next
	}
	sort.Strings(cands)
	return cands, nil
}

// exists says whether p is there, following symlinks in all but the last
// component when last (glob(3) lstats a literal last component), else in
// all of them.
func (c configFS) exists(p string, last bool) (bool, error) {
	var err error
	if last {
		var dir string
		dir, _, err = c.resolve(path.Dir(p))
		if err == nil {
			_, err = c.fs.Lstat(path.Join(dir, path.Base(p)))
			if err != nil && !isNotExist(err) {
				if d, ok := c.fs.(impliedDirs); ok && d.impliedDir(path.Join(dir, path.Base(p))) {
					err = nil
				}
			}
		}
	} else {
		_, _, err = c.resolve(p)
	}
	switch {
	case err == nil:
		return true, nil
	case isNotExist(err) || errors.Is(err, hubconfig.ErrNotRegular):
		return false, nil
	}
	return false, err
}

func hasGlobMagic(s string) bool { return strings.ContainsAny(s, "*?[") }

// fnmatchToGo turns an fnmatch(3) pattern into path.Match's: [!...] is
// [^...], and a '[' that opens no complete bracket expression matches
// itself, as in glibc.
func fnmatchToGo(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteString(p[i : i+2])
			i++
		case c == '[':
			j := i + 1
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++ // a leading ] is a member
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			class := p[i+1 : j]
			neg := strings.HasPrefix(class, "!")
			if neg {
				class = class[1:]
			}
			if strings.HasPrefix(class, "]") {
				class = `\]` + class[1:]
			}
			if neg {
				class = "^" + class
			}
			b.WriteString("[" + class + "]")
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
