package source

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
		q := hexQuality(t)
		s.Quality = &q
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

// knownExamples are the SHA-256 sums (hex) of published example secrets,
// lowercase hex as sameForm makes them, never the values: 64 zeros
// (printf '%064d' 0), 64 f, 0123456789abcdef x 4 (this project's tests),
// c0ffee00 x 8 (this project's config tests), deadbeef x 8, the fake
// token of checker/hubconfig's tests, and the `openssl rand -hex 32` output
// printed in jupyterhub-hashauthenticator's README (a JupyterHub
// authenticator; JupyterHub's own docs print no value). Most are also
// caught by their structure; the list catches the irregular ones.
var knownExamples = map[string]bool{
	"60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55": true,
	"df0790f236013511e91fa4532fb7761f62320a51a3868dabf4a13fe5f53e3263": true,
	"a8ae6e6ee929abea3afcfc5258c8ccd6f85273e0d4626d26c7279f3250f77c8e": true,
	"c2a0b37a262809b4bd4ff5a29f3c0823b5c09cbb4e6b0669e453aae71f10c0ea": true,
	"247d08f3e13938b244f5ecd8966f1778e5e72b175820f46ba86c9c039272affa": true,
	"6b2241ee0d4215577bd3894438b9bc8bc876ab77bc4d4ab2dc28f235d5cc40f6": true,
	"223ae400ca2f9242e0e75a149e13f9fd0d94b6a026236ee357199f4aae4d4c02": true,
}

// hexQuality describes the structure of hex digits t (either case) without
// keeping them: the smallest period, the longest monotone run (mod 16), how
// many distinct digits occur, and whether the value is a known example.
// Scratch copies are cleared.
func hexQuality(t []byte) facts.Quality {
	d := make([]byte, len(t)) // digit values 0..15
	defer clear(d)
	var seen [16]bool
	defer clear(seen[:])
	for i, c := range t {
		switch {
		case c >= '0' && c <= '9':
			d[i] = c - '0'
		case c >= 'a' && c <= 'f':
			d[i] = c - 'a' + 10
		default:
			d[i] = c - 'A' + 10
		}
		seen[d[i]] = true
	}
	q := facts.Quality{Digits: len(d), Period: smallestPeriod(d)}
	for _, s := range seen {
		if s {
			q.DistinctDigits++
		}
	}
	up, down := 0, 0 // runs ending at i, going up and going down
	for i := range d {
		up, down = up+1, down+1
		if i == 0 || d[i] != (d[i-1]+1)%16 {
			up = 1
		}
		if i == 0 || d[i] != (d[i-1]+15)%16 {
			down = 1
		}
		q.LongestMonotoneRun = max(q.LongestMonotoneRun, up, down)
	}
	form := sameForm(t)
	sum := sha256.Sum256(form)
	clear(form)
	q.KnownExample = knownExamples[hex.EncodeToString(sum[:])]
	clear(sum[:])
	return q
}

// smallestPeriod is the smallest p > 0 such that d[i] == d[i-p] for every
// i >= p (len(d) when nothing repeats), by the KMP failure function.
func smallestPeriod(d []byte) int {
	if len(d) == 0 {
		return 0
	}
	fail := make([]int, len(d))
	for i, k := 1, 0; i < len(d); i++ {
		for k > 0 && d[i] != d[k] {
			k = fail[k-1]
		}
		if d[i] == d[k] {
			k++
		}
		fail[i] = k
	}
	p := len(d) - fail[len(d)-1]
	clear(fail)
	return p
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
