package source

// Copies of the live secrets: the small regular files among the unexpected
// entries of the secrets directory are compared, in constant time, with
// the cookie secret and the proxy token as JupyterHub reads them. Only
// which secret an entry copies is recorded (facts.Entry.CopyOf); the bytes
// are cleared.

import (
	"crypto/subtle"
	"fmt"
	"path"
	"slices"
	"sort"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// copyReadLimit bounds the files compared with the secrets: a secret is far
// smaller, and every source keeps this much of the listed entries.
const copyReadLimit = secretReadLimit

// findCopies sets CopyOf on the unexpected entries whose content equals a
// live secret (read whole, not empty). A file that cannot be read is an
// error: it may be a copy, so nothing unobserved passes.
// real is where the secrets directory resolved to.
func (c *collector) findCopies(real string) {
	live, done := c.liveSecrets()
	defer done()
	if len(live) == 0 {
		return
	}
	for i := range c.doc.Unexpected {
		e := &c.doc.Unexpected[i]
		if e.Type == facts.TypeFile && e.Size <= copyReadLimit {
			e.CopyOf = c.copyOf(e.Path, path.Join(real, e.Name), live)
		}
	}
}

// secretKeys are the live secrets, in the order copies are matched.
var secretKeys = []string{facts.CookieSecret, facts.ProxyToken}

// liveSecrets reads the secrets read whole and not empty, as JupyterHub
// reads them (sameForm); done clears them.
func (c *collector) liveSecrets() (live map[string][]byte, done func()) {
	live = map[string][]byte{}
	for _, key := range secretKeys {
		f := c.doc.Files[key]
		if f.Secret == nil || f.Secret.Truncated || f.Secret.Encoding == facts.EncodingEmpty || f.Error != "" {
			continue
		}
		b, err := c.fs.ReadPrefix(realPath(f), secretReadLimit)
		if err != nil {
			continue // read a moment ago: summariseSecrets reported what it could
		}
		live[key] = sameForm(b)
		clear(b)
	}
	return live, func() {
		for _, b := range live {
			clear(b)
		}
	}
}

// copyOf compares the regular file p, in constant time, with the live
// secrets and returns the key of the one it equals, or "". A file that
// cannot be read is an error: it may be a copy, and nothing unobserved
// passes.
func (c *collector) copyOf(p, real string, live map[string][]byte) string {
	b, err := c.fs.ReadPrefix(real, copyReadLimit+1)
	if err != nil {
		c.fail(p, fmt.Errorf("could not compare it with the secrets: %w", err))
		return ""
	}
	form := sameForm(b)
	clear(b)
	defer clear(form)
	for _, key := range secretKeys {
		if lv := live[key]; len(form) > 0 && len(b) <= copyReadLimit && subtle.ConstantTimeCompare(form, lv) == 1 {
			return key
		}
	}
	return ""
}

// maxParentEntries bounds the search of the secrets directory's parent.
const maxParentEntries = 100

// parentCopies looks for copies of the live secrets among the small regular
// files directly in the secrets directory's parent (e.g. /srv), when it
// holds at most maxParentEntries other entries. Every source lists the
// parent in full up to that bound (remotePlan.parent), so they agree.
func (c *collector) parentCopies(dir string) {
	parent := path.Dir(dir)
	if parent == "/" || c.doc.Dir.Type != facts.TypeDir {
		return
	}
	p := &facts.Beside{Path: parent, Copies: []facts.Entry{}}
	c.doc.Parent = p
	// Only a real directory reached without a symlink is searched: every
	// source then lists the same path (a symlinked way to it is recorded
	// in dir.parents and judged there).
	if c.doc.Dir.ResolvedPath != "" {
		return
	}
	if n, err := c.fs.Lstat(parent); err != nil || n.Type != facts.TypeDir {
		return
	}
	names, err := c.fs.ReadDir(parent)
	if err != nil {
		c.fail(parent, fmt.Errorf("could not look for copies of the secrets: %w", err))
		return
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == path.Base(dir) })
	if len(names) > maxParentEntries {
		return
	}
	p.Searched = true
	live, done := c.liveSecrets()
	defer done()
	if len(live) == 0 {
		return
	}
	sort.Strings(names)
	for _, name := range names {
		st := c.stat(path.Join(parent, name))
		if st.Type != facts.TypeFile || st.Error != "" || st.Size > copyReadLimit {
			continue
		}
		e := facts.Entry{Name: name, Path: st.Path, Type: st.Type, Size: st.Size,
			Mode: st.Mode, UID: st.UID, GID: st.GID, Owner: st.Owner, Group: st.Group}
		if e.CopyOf = c.copyOf(e.Path, realPath(st), live); e.CopyOf != "" {
			p.Copies = append(p.Copies, e)
		}
	}
}
