package source

// The tar source's listing of the secrets directory: which of its entries
// the scan keeps, all of Collect's own names and the smallest others, so
// that the listing is the one Collect would make of the whole directory.

import (
	"container/heap"
	"fmt"
	"path"
)

// track returns the entry observing p, or nil when Collect will not ask
// about p. Entries directly inside the secrets directory are kept while
// there are few enough for Collect to list them: all of its own names, and
// the maxUnexpected+1 smallest others (Collect lists them sorted and stops
// after maxUnexpected, so the rest cannot matter).
func (t *tarFS) track(p string) *tarEntry {
	e := t.paths[p]
	if path.Dir(p) != t.dir {
		return e
	}
	name := p[len(t.dir)+1:]
	if c := t.children[name]; c != nil {
		return c
	}
	switch {
	case len(name) > maxNameLen:
		if t.listErr == nil {
			t.listErr = fmt.Errorf("%s: the archive holds an entry whose name is longer than %d bytes: %q", t.dir, maxNameLen, truncate(name, 64))
		}
		return e
	case e != nil || isKnownEntry(name):
	case t.others.Len() <= maxUnexpected:
		heap.Push(&t.others, name)
	case name < t.others[0]:
		delete(t.children, heap.Pop(&t.others).(string))
		heap.Push(&t.others, name)
		t.dropped = true
	default:
		t.dropped = true
		return nil
	}
	if e == nil {
		e = &tarEntry{limit: t.childLimit}
	}
	t.children[name] = e
	return e
}

// nameHeap is a max-heap of names.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
