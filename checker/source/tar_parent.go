package source

// The tar source's listing of the secrets directory's parent (e.g. /srv),
// for the search for copies of the secrets (parentCopies): its entries,
// headers and the first listRead bytes of each, while there are few enough
// for Collect to search them; beyond that only that there are more.

import "path"

// trackParent returns the entry observing p when p lies directly in the
// secrets directory's parent, or nil. It keeps at most maxParentEntries+2
// names (the secrets directory, and one beyond the bound, so that Collect
// sees there are too many).
func (t *tarFS) trackParent(p string) *tarEntry {
	if t.parent == "" || p == t.parent || path.Dir(p) != t.parent {
		return nil
	}
	if e := t.paths[p]; e != nil {
		return e // the secrets directory itself
	}
	if e := t.parentKids[path.Base(p)]; e != nil {
		return e
	}
	if len(t.parentKids) > maxParentEntries {
		return nil
	}
	e := &tarEntry{limit: t.childLimit}
	t.parentKids[path.Base(p)] = e
	return e
}

// readParentDir lists the parent's kept entries.
func (t *tarFS) readParentDir() []string {
	var names []string
	for name, e := range t.parentKids {
		if e.seen || e.implied {
			names = append(names, name)
		}
	}
	if e := t.paths[t.dir]; e != nil && (e.seen || e.implied) {
		names = append(names, path.Base(t.dir))
	}
	return names
}
