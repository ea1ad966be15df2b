package source

// Copies of the live secrets: the small regular files among the unexpected
// entries of the secrets directory are compared, in constant time, with
// the cookie secret and the proxy token as JupyterHub reads them. Only
// which secret an entry copies is recorded (facts.Entry.CopyOf); the bytes
// are cleared.

import (
	"crypto/subtle"
	"fmt"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// copyReadLimit bounds the files compared with the secrets: a secret is far
// smaller, and every source keeps this much of the listed entries.
const copyReadLimit = secretReadLimit

// findCopies sets CopyOf on the unexpected entries whose content equals a
// live secret (read whole, not empty). A file that cannot be read is an
// error: it may be a copy, so nothing unobserved passes.
func (c *collector) findCopies() {
	keys := []string{facts.CookieSecret, facts.ProxyToken}
	live := map[string][]byte{}
	defer func() {
		for _, b := range live {
			clear(b)
		}
	}()
	for _, key := range keys {
		f := c.doc.Files[key]
		if f.Secret == nil || f.Secret.Truncated || f.Secret.Encoding == facts.EncodingEmpty || f.Error != "" {
			continue
		}
		b, err := c.fs.ReadPrefix(f.Path, secretReadLimit)
		if err != nil {
			continue // read a moment ago: summariseSecrets reported what it could
		}
		live[key] = sameForm(b)
		clear(b)
	}
	if len(live) == 0 {
		return
	}
	for i := range c.doc.Unexpected {
		e := &c.doc.Unexpected[i]
		if e.Type != facts.TypeFile || e.Size > copyReadLimit {
			continue
		}
		b, err := c.fs.ReadPrefix(e.Path, copyReadLimit+1)
		if err != nil {
			c.fail(e.Path, fmt.Errorf("could not compare it with the secrets: %w", err))
			continue
		}
		form := sameForm(b)
		clear(b)
		for _, key := range keys {
			if lv := live[key]; len(form) > 0 && len(form) <= copyReadLimit && subtle.ConstantTimeCompare(form, lv) == 1 {
				e.CopyOf = key
				break
			}
		}
		clear(form)
	}
}
