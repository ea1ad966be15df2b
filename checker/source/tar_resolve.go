package source

// The tar source's further passes: when resolving a planned path (as
// Collect will, resolve.go) goes through a symlink to a path the pass did
// not keep, the archive is read again with the resolved path planned.

import (
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/hubconfig"
)

// maxTarPasses bounds the passes: each one after the first follows at
// least one more symlink, and a lookup follows at most maxSymlinks.
const maxTarPasses = maxSymlinks + 2

// tarExtra is what a further pass keeps besides the plan: the resolved
// paths (and read limits) and the secrets directory as it resolves.
type tarExtra struct {
	read map[string]int64
	dir  string
}

func openTarResolving(r io.Reader, opt Options) (FS, error) {
	rs, seekable := r.(io.ReadSeeker)
	var start int64
	if seekable {
		pos, err := rs.Seek(0, io.SeekCurrent)
		seekable = err == nil
		start = pos
	}
	extra := &tarExtra{read: map[string]int64{}}
	for pass := 1; ; pass++ {
		if pass > 1 {
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, fmt.Errorf("read the archive again: %w", err)
			}
		}
		t, err := scanTar(r, opt, extra)
		if err != nil {
			return nil, err
		}
		why, more := t.unresolved(opt, extra)
		if !more {
			return t, nil
		}
		t.discard()
		switch {
		case !seekable:
			return nil, fmt.Errorf("%s: the archive must be read twice to follow it, which standard input cannot be: pass the archive as a file (--tar FILE)", why)
		case pass == maxTarPasses:
			return nil, fmt.Errorf("%s: still not resolved after reading the archive %d times", why, pass)
		}
	}
}

// unresolved resolves the planned paths over what this pass kept, as
// Collect will, and adds to extra the resolved paths it did not keep. It
// reports whether it added any, and the first symlink that made it.
func (t *tarFS) unresolved(opt Options, extra *tarExtra) (string, bool) {
	opt = opt.withDefaults()
	plan := planFor(opt)
	res := newResolver(t)
	res.noFollow = opt.Dir
	var why string
	add := func(logical, p string, n int64) {
		if _, ok := extra.read[p]; ok || t.paths[p] != nil {
			return
		}
		extra.read[p] = n
		if why == "" {
			why = fmt.Sprintf("%s resolves to %s through a symlink", logical, p)
		}
	}
	// Where p resolves to when the walk stopped at a path not kept: that
	// path, and the rest lexically (a further pass corrects it).
	candidate := func(w walked, err error) (string, bool) {
		var nk *notKeptError
		if !errors.As(err, &nk) || w.failed == "" {
			return "", false
		}
		return path.Join(append([]string{w.failed}, w.rest...)...), true
	}
	for _, p := range plan.stat {
		if p == "/" {
			continue
		}
		rd := res.dir(path.Dir(p))
		// A directory on the way known only as a parent of what the
		// configuration regions kept (a DH file found anywhere): plan it.
		for _, h := range rd.w.hops {
			if h.err != nil && !errors.Is(h.err, errRootUnknown) {
				add(p, h.path, 0)
			}
		}
		var real string
		if rd.err != nil {
			c, ok := candidate(rd.w, rd.err)
			if !ok {
				continue
			}
			real = path.Join(c, path.Base(p))
		} else {
			real = path.Join(rd.w.path, path.Base(p))
		}
		if p == opt.Dir {
			extra.dir = real
		}
		if real != p {
			add(p, real, plan.read[p])
		}
	}
	// The hub's config file is read following every symlink.
	if w, err := walk(t, opt.HubConfig, true, false); err != nil {
		if c, ok := candidate(w, err); ok {
			add(opt.HubConfig, c, hubconfig.MaxFileSize+1)
		}
	}
	return why, why != ""
}

// discard zeroes what a pass kept: it may be someone's secret.
func (t *tarFS) discard() {
	for _, m := range []map[string]*tarEntry{t.paths, t.children, t.cfg} {
		for _, e := range m {
			clear(e.data)
		}
	}
}
