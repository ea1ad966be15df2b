package source

// The tar source's FS methods: answering Lstat, ReadDir and ReadPrefix from
// what the one pass over the archive kept, and refusing what it did not.

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// kept returns the entry observing p, if any, without adding one.
func (t *tarFS) kept(p string) *tarEntry {
	if e := t.paths[p]; e != nil {
		return e
	}
	if path.Dir(p) == t.dir {
		if c := t.children[p[len(t.dir)+1:]]; c != nil {
			return c
		}
	}
	if t.parent != "" && path.Dir(p) == t.parent {
		if c := t.parentKids[path.Base(p)]; c != nil {
			return c
		}
	}
	return t.cfg[p]
}

// lookup returns the entry for p once p's ancestors allow reaching it.
func (t *tarFS) lookup(p string) (*tarEntry, error) {
	var e *tarEntry
	if path.IsAbs(p) && path.Clean(p) == p {
		e = t.kept(p)
		switch {
		case e != nil:
		case path.Dir(p) == t.dir && !t.dropped && t.listErr == nil:
			e = &tarEntry{} // every entry of the directory was kept: absent
		case t.parent != "" && path.Dir(p) == t.parent && len(t.parentKids) <= maxParentEntries:
			e = &tarEntry{} // every entry of the parent was kept: absent
		case t.inRegion(p) && !t.cfgDropped:
			e = &tarEntry{} // every member of the region was kept: absent
		}
	}
	if e == nil {
		why := "the tar source keeps only the secrets directory, /etc, nginx's directory and DH parameters files"
		if t.cfgDropped && t.inRegion(p) {
			why = fmt.Sprintf("the archive holds more configuration than the tar source keeps (%d members, %d MiB)", configEntries, configBudget>>20)
		}
		return nil, &notKeptError{fmt.Sprintf("%s: not collected from the archive (%s): extract the archive and use --root", p, why)}
	}
	for a := path.Dir(p); a != "/"; a = path.Dir(a) {
		ae := t.paths[a]
		if ae == nil {
			ae = t.cfg[a]
		}
		switch {
		case ae == nil || !ae.seen:
		case ae.err != nil:
			return nil, fmt.Errorf("%s: %w", p, ae.err)
		case ae.node.Type == facts.TypeSymlink:
			return nil, fmt.Errorf("%s: %s is a symlink to %q in the archive; the tar source does not follow symlinked directories (extract the archive and use --root)", p, a, ae.node.LinkTarget)
		case ae.node.Type != facts.TypeDir:
			return nil, fmt.Errorf("%s: %s is not a directory in the archive", p, a)
		}
	}
	return e, nil
}

// entry returns p's entry if p exists and can be described.
func (t *tarFS) entry(p string) (*tarEntry, error) {
	e, err := t.lookup(p)
	switch {
	case err != nil:
		return nil, err
	case p == "/" && !e.seen:
		return nil, fmt.Errorf("/: the archive has no member for its root directory (./): %w", errRootUnknown)
	case !e.seen && e.implied:
		return nil, fmt.Errorf("%s: in the archive only as the parent of other members: owner and mode unknown", p)
	case !e.seen:
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
	case e.err != nil:
		return nil, e.err
	}
	return e, nil
}

// Lstat implements FS.
func (t *tarFS) Lstat(p string) (Node, error) {
	e, err := t.entry(p)
	if err != nil {
		return Node{}, err
	}
	return e.node, nil
}

// ReadDir implements FS, for the secrets directory and the directories of
// the configuration regions.
func (t *tarFS) ReadDir(p string) ([]string, error) {
	if p != t.dir && (p != t.parent || t.parent == "") {
		return t.readConfigDir(p)
	}
	if p == t.parent {
		if _, err := t.Lstat(p); err != nil {
			return nil, err
		}
		return t.readParentDir(), nil
	}
	n, err := t.Lstat(p)
	if err != nil {
		return nil, err
	}
	if n.Type != facts.TypeDir {
		return nil, fmt.Errorf("%s: not a directory", p)
	}
	if t.listErr != nil {
		return nil, t.listErr
	}
	names := make([]string, 0, len(t.children))
	for name, e := range t.children {
		if e.seen || e.implied {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// ReadPrefix implements FS.
func (t *tarFS) ReadPrefix(p string, n int64) ([]byte, error) {
	e, err := t.entry(p)
	if err != nil {
		return nil, err
	}
	if e.node.Type != facts.TypeFile {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	n = max(n, 0)
	if int64(len(e.data)) < n && !e.complete() {
		return nil, fmt.Errorf("%s: archive member %q: %d of its %d bytes were kept, %d asked for", p, e.member, len(e.data), e.node.Size, n)
	}
	return bytes.Clone(e.data[:min(n, int64(len(e.data)))]), nil
}

// notKeptError: the pass did not keep the path.
type notKeptError struct{ msg string }

func (e *notKeptError) Error() string { return e.msg }
