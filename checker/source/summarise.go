package source

import (
	"encoding/base64"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// SummariseSecret describes a secret's content the way JupyterHub reads it
// (strip, then hex if it looks like hex, else base64) without keeping or
// returning any of it.
func SummariseSecret(b []byte) facts.Secret {
	s := facts.Secret{
		TrailingNewline: len(b) > 0 && b[len(b)-1] == '\n',
		SameAs:          []string{},
	}
	t := pyStrip(b)
	switch {
	case len(t) == 0:
		s.Encoding = facts.EncodingEmpty
	case isHexPairs(t):
		s.Encoding = facts.EncodingHex
		s.DecodedBytes = len(t) / 2
		s.Lowercase = isLowerHex(string(t))
	default:
		if n, ok := base64Len(t); ok {
			s.Encoding = facts.EncodingBase64
			s.DecodedBytes = n
		} else {
			s.Encoding = facts.EncodingOther
		}
	}
	return s
}

// pyStrip trims what Python's str.strip() trims from ASCII text.
func pyStrip(b []byte) []byte {
	isSpace := func(c byte) bool {
		return c == ' ' || c >= '\t' && c <= '\r' || c >= 0x1c && c <= 0x1f
	}
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// isHexPairs matches JupyterHub's ^([a-f0-9]{2})+$ (case-insensitive).
func isHexPairs(b []byte) bool {
	if len(b)%2 != 0 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// base64Len reports the decoded length of padded standard base64 (line
// breaks allowed), as Python's binascii.a2b_base64 accepts it: JupyterHub
// fails to start on unpadded input. The scratch buffer is cleared.
func base64Len(b []byte) (int, bool) {
	s := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, string(b))
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	defer clear(buf)
	n, err := base64.StdEncoding.Decode(buf, []byte(s))
	return n, err == nil
}

// resembles names the expected file an unexpected entry most likely stands
// for: a misspelling (edit distance up to 3 after folding case and '-'), or
// a name that contains or extends an expected one (backups, "cookie_secret").
func resembles(name string) (key, expectedName string) {
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	n := fold(name)
	best := -1
	for _, e := range expected {
		en := fold(e.name)
		d := editDistance(n, en)
		if strings.Contains(n, en) || strings.Contains(en, n) && len(n) >= 6 {
			d = min(d, 1)
		}
		if d <= 3 && (best < 0 || d < best) {
			best, key, expectedName = d, e.key, e.name
		}
	}
	return key, expectedName
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and adjacent transpositions cost 1.
func editDistance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return 1 << 30
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
