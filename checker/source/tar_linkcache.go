package source

// The tar source's hard link targets: a bounded cache of recent members'
// states (headers, and small files' content) that a later hard link
// resolves against, as the archive stood at that point.

import "container/list"

const (
	// linkCacheBudget bounds the memory of the hard link target cache.
	linkCacheBudget = 8 << 20
	// linkCachePrefix is the largest file the cache keeps the content of:
	// a secret (and one byte to tell it is too long), machine-id, and most
	// account and DH files. Larger files are rarely a hard link worth
	// reading and would cost a copy each.
	linkCachePrefix = secretReadLimit + 1
	// cacheOverhead is a cache entry's bookkeeping, in bytes: list element,
	// entry, map slot.
	cacheOverhead = 256
)

// linkCache keeps recent members' states for hard links to resolve
// against, least recently written first out, within a byte budget.
type linkCache struct {
	budget, used int
	lru          *list.List // of *cachedMember
	byName       map[string]*list.Element
}

type cachedMember struct {
	name string
	st   tarState
}

func newLinkCache(budget int) *linkCache {
	return &linkCache{budget: budget, lru: list.New(), byName: map[string]*list.Element{}}
}

func cachedSize(c *cachedMember) int {
	return cacheOverhead + len(c.name) + len(c.st.node.LinkTarget) + len(c.st.member) + cap(c.st.data)
}

func (c *linkCache) get(name string) (tarState, bool) {
	if el, ok := c.byName[name]; ok {
		return el.Value.(*cachedMember).st, true
	}
	return tarState{}, false
}

// put stores st under name, with its content if the file is small: the
// cache then owns st.data.
func (c *linkCache) put(name string, st tarState) {
	if st.node.Size > linkCachePrefix || !st.complete() {
		st.data = nil
	}
	if el, ok := c.byName[name]; ok {
		cm := el.Value.(*cachedMember)
		c.used -= cachedSize(cm)
		clear(cm.st.data)
		cm.st = st
		c.used += cachedSize(cm)
		c.lru.MoveToBack(el)
	} else {
		cm := &cachedMember{name: name, st: st}
		c.byName[name] = c.lru.PushBack(cm)
		c.used += cachedSize(cm)
	}
	for c.used > c.budget && c.lru.Len() > 0 {
		c.evict(c.lru.Front())
	}
}

// drop forgets name.
func (c *linkCache) drop(name string) {
	if el, ok := c.byName[name]; ok {
		c.evict(el)
	}
}

func (c *linkCache) evict(el *list.Element) {
	cm := c.lru.Remove(el).(*cachedMember)
	delete(c.byName, cm.name)
	c.used -= cachedSize(cm)
	clear(cm.st.data)
}

// clear drops every entry, zeroing kept content: it may be anyone's secret.
func (c *linkCache) clear() {
	for el := c.lru.Front(); el != nil; el = el.Next() {
		clear(el.Value.(*cachedMember).st.data)
	}
	c.lru.Init()
	clear(c.byName)
	c.used = 0
}
