package source

// Path resolution, once for every source: a path inside the scanned root is
// looked up as the scanned system would look it up, component by component
// over FS.Lstat, following symlinks with chroot semantics (an absolute
// target starts again at the root, ".." stops at it), at most maxSymlinks
// of them. Collect follows the symlinks in a path's parents and never its
// last element (a secret, or the secrets directory, that is a symlink is a
// finding, not followed); configuration files are read following every
// element (config.go).

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

var (
	// errNotDirectory: a component in the middle of a path is not a
	// directory (ENOTDIR): the path does not exist on the system.
	errNotDirectory = errors.New("not a directory")
	// errLoop: more than maxSymlinks symlinks on the way (ELOOP).
	errLoop = errors.New("too many levels of symbolic links")
	// errRootUnknown: the source does not describe the root directory
	// itself (an archive without a "./" member).
	errRootUnknown = errors.New("owner and mode of the root directory unknown")
)

// resolveError is a path that does not resolve on the system (a loop, a
// non-directory in the middle): the program fails too, so for
// configuration it is hubconfig.ErrNotRegular (configFS.resolve).
type resolveError struct {
	msg  string
	kind error // errNotDirectory or errLoop
}

func (e *resolveError) Error() string { return e.msg }

func (e *resolveError) Is(target error) bool { return target == e.kind }

// hop is one component a resolution went through: a directory or a
// symlink, with its own path (free of symlinks).
type hop struct {
	path string
	node Node
	err  error // the node could not be described (node is then a bare directory)
}

// walked is the result of a walk.
type walked struct {
	path string // the resolved path: no symlink in it but perhaps the last element
	node Node   // what path is
	hops []hop  // components looked up, "/" first, the last one when followed (when recorded)
	// On an Lstat error other than absence: the component that failed and
	// the components not walked after it.
	failed string
	rest   []string
}

// walk resolves p over fsys. followLast says whether a symlink as the last
// element is followed too; record whether the hops are described (the
// root's Lstat included). A missing component is fs.ErrNotExist; a loop or
// a non-directory in the middle a *resolveError; anything else the
// component's Lstat error.
func walk(fsys FS, p string, followLast, record bool) (walked, error) {
	var w walked
	parts := splitPath(p)
	cur := "/"
	node := Node{Type: facts.TypeDir}
	if record {
		n, err := fsys.Lstat("/")
		if err != nil {
			n = Node{Type: facts.TypeDir}
		}
		node = n
		w.hops = append(w.hops, hop{path: "/", node: n, err: err})
	}
	links := 0
	for len(parts) > 0 {
		name := parts[0]
		parts = parts[1:]
		switch name {
		case ".":
			continue
		case "..":
			cur = path.Dir(cur)
			node = Node{Type: facts.TypeDir}
			continue
		}
		if node.Type != facts.TypeDir {
			return w, &resolveError{fmt.Sprintf("%s: %s is not a directory", p, cur), errNotDirectory}
		}
		next := path.Join(cur, name)
		last := len(parts) == 0
		n, err := fsys.Lstat(next)
		var hopErr error
		if err != nil && !isNotExist(err) && (!last || followLast) {
			if d, ok := fsys.(impliedDirs); ok && d.impliedDir(next) {
				n, hopErr, err = Node{Type: facts.TypeDir}, err, nil
			}
		}
		if err != nil {
			if isNotExist(err) {
				return w, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
			}
			w.failed, w.rest = next, parts
			return w, err
		}
		if last && !followLast {
			w.path, w.node = next, n
			return w, nil
		}
		if record {
			w.hops = append(w.hops, hop{path: next, node: n, err: hopErr})
		}
		if n.Type == facts.TypeSymlink {
			if links++; links > maxSymlinks {
				return w, &resolveError{fmt.Sprintf("%s: %v", p, errLoop), errLoop}
			}
			if n.LinkTarget == "" {
				return w, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
			}
			if path.IsAbs(n.LinkTarget) {
				cur = "/"
			}
			node = Node{Type: facts.TypeDir}
			parts = append(splitPath(n.LinkTarget), parts...)
			continue
		}
		cur, node = next, n
	}
	w.path, w.node = cur, node
	return w, nil
}

// resolvedDir is a directory's resolution, remembered by Collect.
type resolvedDir struct {
	w   walked
	err error
}

// resolver resolves the paths Collect observes, remembering each parent
// directory's resolution.
type resolver struct {
	fs   FS
	dirs map[string]resolvedDir
	// noFollow is the secrets directory: a symlink there is a finding, and
	// nothing below it is observed.
	noFollow string
}

func newResolver(fsys FS) *resolver {
	return &resolver{fs: fsys, dirs: map[string]resolvedDir{}}
}

// dir resolves directory d following every symlink, with its hops.
func (r *resolver) dir(d string) resolvedDir {
	if rd, ok := r.dirs[d]; ok {
		return rd
	}
	w, err := walk(r.fs, d, d != r.noFollow, true)
	if err == nil && w.node.Type != facts.TypeDir {
		err = &resolveError{fmt.Sprintf("%s: not a directory", d), errNotDirectory}
	}
	rd := resolvedDir{w: w, err: err}
	r.dirs[d] = rd
	return rd
}

// lstat describes p with the symlinks in its parents followed, and returns
// the path it resolved to. A parent that is missing or not a directory
// means p does not exist (fs.ErrNotExist), as on the system; a loop is a
// *resolveError for the first path asked about below it, and absence for
// the others (it is reported once).
func (r *resolver) lstat(p string) (Node, string, error) {
	if p == "/" {
		n, err := r.fs.Lstat("/")
		return n, "/", err
	}
	for a := path.Dir(p); a != "/"; a = path.Dir(a) {
		if rd, ok := r.dirs[a]; ok && errors.Is(rd.err, errLoop) && a != path.Dir(p) {
			return Node{}, "", &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
		}
	}
	rd := r.dir(path.Dir(p))
	switch {
	case errors.Is(rd.err, errNotDirectory):
		return Node{}, "", &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
	case rd.err != nil:
		return Node{}, "", rd.err
	}
	real := path.Join(rd.w.path, path.Base(p))
	n, err := r.fs.Lstat(real)
	return n, real, err
}
