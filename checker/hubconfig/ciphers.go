package hubconfig

import (
	"fmt"
	"strings"
)

// The cipher-string evaluator answers one question about an ssl_ciphers
// value: which DHE (finite-field ephemeral Diffie-Hellman) suites does it
// enable for TLSv1.2 and below? It follows OpenSSL 3.0's
// ssl_cipher_process_rulestr over the 39 DHE suites OpenSSL 3.0 builds by
// default (RSA, DSS and anonymous authentication; DHE-PSK suites need a
// PSK, which nginx never configures, so they are left out):
//
//   - elements are separated by ':', ',', ';' or ' '; "A+B" is the suites
//     both A and B select;
//   - a name is a suite (DHE-RSA-AES128-GCM-SHA256) or an alias: key
//     exchange kDHE kEDH DH DHE EDH ADH (DHE and EDH exclude anonymous
//     suites; ECDHE and kECDHE select no DHE suite), authentication aRSA
//     aDSS DSS aNULL, ciphers AES AES128 AES256 AESGCM AESCCM AESCCM8
//     CHACHA20 CAMELLIA CAMELLIA128 CAMELLIA256 ARIA ARIAGCM ARIA128
//     ARIA256 CBC, MACs SHA1 SHA SHA256, protocol SSLv3 TLSv1.2, strength
//     HIGH FIPS (MEDIUM and LOW select none here), ALL,
//     COMPLEMENTOFDEFAULT; any other name selects no DHE suite;
//   - a plain element adds what it selects, "-" removes it (it may come
//     back), "!" removes it for good, "+" only reorders;
//   - a string that starts with DEFAULT starts from
//     ALL:!COMPLEMENTOFDEFAULT:!eNULL (so what DEFAULT leaves out can never
//     be added after it); SUITEB128 or SUITEB192 at the start select only
//     ECDSA suites;
//   - @STRENGTH and @SECLEVEL=n change order and handshake checks, not the
//     list; another @command, a character OpenSSL cannot read, or a "+"
//     with nothing after it make OpenSSL (and so nginx) refuse the string.
//
// The result was compared with `openssl ciphers` for many strings (see
// ciphers_test.go); an nginx built against another OpenSSL may differ in
// the suites it has (1.1.1 also has SEED and 3DES DHE suites).

// A suite's attributes and an alias's masks share one bit set, in the
// categories OpenSSL keeps apart (ssl_cipher_process_rulestr). A suite has
// one bit in each category; an alias sets bits in some categories. The
// *Other bits stand for what no DHE suite has (RSA key exchange, ECDSA,
// 3DES, ...).
const (
	kDHE = 1 << iota
	kOther
	aRSA
	aDSS
	aNULL
	aOther
	eAES128 // CBC
	eAES256 // CBC
	eAES128GCM
	eAES256GCM
	eAES128CCM
	eAES256CCM
	eAES128CCM8
	eAES256CCM8
	eCHACHA20
	eCAMELLIA128
	eCAMELLIA256
	eARIA128GCM
	eARIA256GCM
	eNULL
	eOther
	mSHA1
	mSHA256
	mSHA384
	mAEAD
	mOther
	vSSLv3
	vTLS10
	vTLS12
	sHIGH
	sMEDIUM
	sLOW
	sFIPS
	dNotDefault // COMPLEMENTOFDEFAULT: not in DEFAULT
)

// The categories, as masks.
const (
	catKx       = kDHE | kOther
	catAuth     = aRSA | aDSS | aNULL | aOther
	catEnc      = eAES128 | eAES256 | eAES128GCM | eAES256GCM | eAES128CCM | eAES256CCM | eAES128CCM8 | eAES256CCM8 | eCHACHA20 | eCAMELLIA128 | eCAMELLIA256 | eARIA128GCM | eARIA256GCM | eNULL | eOther
	catMac      = mSHA1 | mSHA256 | mSHA384 | mAEAD | mOther
	catVersion  = vSSLv3 | vTLS10 | vTLS12
	catStrength = sHIGH | sMEDIUM | sLOW | sFIPS
	catDefault  = dNotDefault
)

type suite struct {
	name string
	bits int
}

// Common attribute sets of the suites below.
const (
	gcm12 = kDHE | mAEAD | vTLS12 | sHIGH
	sha12 = kDHE | mSHA256 | vTLS12 | sHIGH
	sha3  = kDHE | mSHA1 | vSSLv3 | sHIGH
	nd    = dNotDefault
)

// dheSuites are OpenSSL 3.0's DHE suites below TLSv1.3, in its preference
// order (` + "`openssl ciphers -v kDHE`" + `).
var dheSuites = []suite{
	{"DHE-DSS-AES256-GCM-SHA384", gcm12 | aDSS | eAES256GCM | sFIPS | nd},
	{"DHE-RSA-AES256-GCM-SHA384", gcm12 | aRSA | eAES256GCM | sFIPS},
	{"DHE-RSA-CHACHA20-POLY1305", gcm12 | aRSA | eCHACHA20},
	{"DHE-RSA-AES256-CCM8", gcm12 | aRSA | eAES256CCM8 | nd},
	{"DHE-RSA-AES256-CCM", gcm12 | aRSA | eAES256CCM | nd},
	{"DHE-DSS-ARIA256-GCM-SHA384", gcm12 | aDSS | eARIA256GCM | nd},
	{"DHE-RSA-ARIA256-GCM-SHA384", gcm12 | aRSA | eARIA256GCM | nd},
	{"ADH-AES256-GCM-SHA384", gcm12 | aNULL | eAES256GCM | sFIPS | nd},
	{"DHE-DSS-AES128-GCM-SHA256", gcm12 | aDSS | eAES128GCM | sFIPS | nd},
	{"DHE-RSA-AES128-GCM-SHA256", gcm12 | aRSA | eAES128GCM | sFIPS},
	{"DHE-RSA-AES128-CCM8", gcm12 | aRSA | eAES128CCM8 | nd},
	{"DHE-RSA-AES128-CCM", gcm12 | aRSA | eAES128CCM | nd},
	{"DHE-DSS-ARIA128-GCM-SHA256", gcm12 | aDSS | eARIA128GCM | nd},
	{"DHE-RSA-ARIA128-GCM-SHA256", gcm12 | aRSA | eARIA128GCM | nd},
	{"ADH-AES128-GCM-SHA256", gcm12 | aNULL | eAES128GCM | sFIPS | nd},
	{"DHE-RSA-AES256-SHA256", sha12 | aRSA | eAES256 | sFIPS},
	{"DHE-DSS-AES256-SHA256", sha12 | aDSS | eAES256 | sFIPS | nd},
	{"DHE-RSA-CAMELLIA256-SHA256", sha12 | aRSA | eCAMELLIA256 | nd},
	{"DHE-DSS-CAMELLIA256-SHA256", sha12 | aDSS | eCAMELLIA256 | nd},
	{"ADH-AES256-SHA256", sha12 | aNULL | eAES256 | sFIPS | nd},
	{"ADH-CAMELLIA256-SHA256", sha12 | aNULL | eCAMELLIA256 | nd},
	{"DHE-RSA-AES128-SHA256", sha12 | aRSA | eAES128 | sFIPS},
	{"DHE-DSS-AES128-SHA256", sha12 | aDSS | eAES128 | sFIPS | nd},
	{"DHE-RSA-CAMELLIA128-SHA256", sha12 | aRSA | eCAMELLIA128 | nd},
	{"DHE-DSS-CAMELLIA128-SHA256", sha12 | aDSS | eCAMELLIA128 | nd},
	{"ADH-AES128-SHA256", sha12 | aNULL | eAES128 | sFIPS | nd},
	{"ADH-CAMELLIA128-SHA256", sha12 | aNULL | eCAMELLIA128 | nd},
	{"DHE-RSA-AES256-SHA", sha3 | aRSA | eAES256 | sFIPS},
	{"DHE-DSS-AES256-SHA", sha3 | aDSS | eAES256 | sFIPS | nd},
	{"DHE-RSA-CAMELLIA256-SHA", sha3 | aRSA | eCAMELLIA256 | nd},
	{"DHE-DSS-CAMELLIA256-SHA", sha3 | aDSS | eCAMELLIA256 | nd},
	{"ADH-AES256-SHA", sha3 | aNULL | eAES256 | sFIPS | nd},
	{"ADH-CAMELLIA256-SHA", sha3 | aNULL | eCAMELLIA256 | nd},
	{"DHE-RSA-AES128-SHA", sha3 | aRSA | eAES128 | sFIPS},
	{"DHE-DSS-AES128-SHA", sha3 | aDSS | eAES128 | sFIPS | nd},
	{"DHE-RSA-CAMELLIA128-SHA", sha3 | aRSA | eCAMELLIA128 | nd},
	{"DHE-DSS-CAMELLIA128-SHA", sha3 | aDSS | eCAMELLIA128 | nd},
	{"ADH-AES128-SHA", sha3 | aNULL | eAES128 | sFIPS | nd},
	{"ADH-CAMELLIA128-SHA", sha3 | aNULL | eCAMELLIA128 | nd},
}

// Alias masks that several aliases share.
const (
	encAES128  = eAES128 | eAES128GCM | eAES128CCM | eAES128CCM8
	encAES256  = eAES256 | eAES256GCM | eAES256CCM | eAES256CCM8
	encAll     = catEnc &^ eNULL
	authNoNull = catAuth &^ aNULL
)

// aliases are OpenSSL 3.0's cipher aliases, as masks (ssl_ciph.c
// cipher_aliases); the ones that select no DHE suite still count: OpenSSL
// skips the rest of an element after an unknown name.
var aliases = map[string]int{
	"ALL": encAll, "COMPLEMENTOFALL": eNULL, "COMPLEMENTOFDEFAULT": dNotDefault,
	"kDHE": kDHE, "kEDH": kDHE, "DH": kDHE | kOther, "DHE": kDHE | authNoNull, "EDH": kDHE | authNoNull,
	"ADH":  kDHE | aNULL,
	"kRSA": kOther, "RSA": kOther, "kECDHE": kOther, "kEECDH": kOther, "ECDH": kOther,
	"ECDHE": kOther | authNoNull, "EECDH": kOther | authNoNull, "AECDH": kOther | aNULL,
	"kPSK": kOther, "kRSAPSK": kOther, "kECDHEPSK": kOther, "kDHEPSK": kOther, "PSK": kOther,
	"kSRP": kOther, "SRP": kOther, "kGOST": kOther, "kGOST18": kOther,
	"aRSA": aRSA, "aDSS": aDSS, "DSS": aDSS, "aNULL": aNULL, "aECDSA": aOther, "ECDSA": aOther,
	"aPSK": aOther, "aSRP": aOther, "aGOST01": aOther, "aGOST12": aOther, "aGOST": aOther,
	"eNULL": eNULL, "NULL": eNULL,
	"AES": encAES128 | encAES256, "AES128": encAES128, "AES256": encAES256,
	"AESGCM": eAES128GCM | eAES256GCM, "AESCCM": eAES128CCM | eAES256CCM | eAES128CCM8 | eAES256CCM8,
	"AESCCM8": eAES128CCM8 | eAES256CCM8, "CHACHA20": eCHACHA20,
	"CAMELLIA": eCAMELLIA128 | eCAMELLIA256, "CAMELLIA128": eCAMELLIA128, "CAMELLIA256": eCAMELLIA256,
	"ARIA": eARIA128GCM | eARIA256GCM, "ARIAGCM": eARIA128GCM | eARIA256GCM,
	"ARIA128": eARIA128GCM, "ARIA256": eARIA256GCM,
	"CBC":  eAES128 | eAES256 | eCAMELLIA128 | eCAMELLIA256 | eOther,
	"3DES": eOther, "RC4": eOther, "RC2": eOther, "IDEA": eOther, "SEED": eOther, "GOST89": eOther, "GOST2012": eOther,
	"MD5": mOther, "SHA1": mSHA1, "SHA": mSHA1, "SHA256": mSHA256, "SHA384": mSHA384,
	"GOST94": mOther, "GOST89MAC": mOther, "GOST12": mOther, "GOST89MAC12": mOther,
	"KUZNYECHIKOMAC": mOther, "MAGMAOMAC": mOther,
	"SSLv3": vSSLv3, "TLSv1": vTLS10, "TLSv1.0": vTLS10, "TLSv1.2": vTLS12,
	"HIGH": sHIGH, "MEDIUM": sMEDIUM, "LOW": sLOW, "FIPS": sFIPS | encAll,
}

// otherSuite is the suite index of a known suite outside the DHE set.
const otherSuite = -2

// lookup returns an element part's masks and, for a suite name, its
// index. ok is false for a name OpenSSL does not know.
func lookup(name string) (mask, idx int, ok bool) {
	if m, found := aliases[name]; found {
		return m, -1, true
	}
	for i, s := range dheSuites {
		if s.name == name {
			return s.bits, i, true
		}
	}
	// Every other OpenSSL suite name (ECDHE-RSA-AES128-GCM-SHA256,
	// AES256-SHA) is upper case with a dash; it selects no DHE suite.
	if strings.Contains(name, "-") && name == strings.ToUpper(name) {
		return kOther | aOther | eOther | mOther, otherSuite, true
	}
	return 0, -1, false
}

// pattern is one element's combined masks ("A+B"), as OpenSSL builds it.
type pattern struct {
	mask   int // the kx, auth, enc, mac, version, strength and default bits
	suite  int // a suite index, otherSuite, or -1
	failed bool
}

// and combines one more part into p, with OpenSSL's quirks: within a
// category masks are ANDed and an empty result fails the element; a
// strength after no strength replaces the default mark too
// (COMPLEMENTOFDEFAULT+HIGH is HIGH, HIGH+COMPLEMENTOFDEFAULT is both);
// a suite's version is not part of the pattern; the last suite named
// wins. A suite outside the DHE set has only "other" bits, so with a DHE
// alias or suite it fails the element, as its real masks would.
func (p *pattern) and(mask, idx int) {
	for _, cat := range []int{catKx, catAuth, catEnc, catMac} {
		if m := mask & cat; m != 0 {
			if cur := p.mask & cat; cur != 0 {
				if cur&m == 0 {
					p.failed = true
					return
				}
				p.mask = p.mask&^cat | cur&m
			} else {
				p.mask |= m
			}
		}
	}
	if m := mask & catStrength; m != 0 {
		if cur := p.mask & catStrength; cur != 0 {
			if cur&m == 0 {
				p.failed = true
				return
			}
			p.mask = p.mask&^catStrength | cur&m
		} else {
			p.mask = p.mask&^(catStrength|catDefault) | m
		}
	}
	p.mask |= mask & catDefault
	if idx != -1 {
		p.suite = idx
		return
	}
	if m := mask & catVersion; m != 0 {
		if cur := p.mask & catVersion; cur != 0 && cur != m {
			p.failed = true
			return
		}
		p.mask |= m
	}
}

// matches says whether the pattern selects suite i: a named suite is one
// more condition, the masks still apply (SSLv3+DHE-RSA-AES128-GCM-SHA256
// selects nothing).
func (p *pattern) matches(i int) bool {
	if p.suite != -1 && p.suite != i {
		return false
	}
	b := dheSuites[i].bits
	for _, cat := range []int{catKx, catAuth, catEnc, catMac, catVersion, catStrength, catDefault} {
		if m := p.mask & cat; m != 0 && b&m == 0 {
			return false
		}
	}
	return true
}

const (
	stAbsent = iota
	stActive
	stKilled
)

// DHESuites returns the DHE suites (OpenSSL names, in OpenSSL's order) a
// cipher string enables, or an error saying why OpenSSL would refuse it.
func DHESuites(ciphers string) ([]string, error) {
	state := make([]int, len(dheSuites))
	s := ciphers
	if strings.HasPrefix(s, "SUITEB128") || strings.HasPrefix(s, "SUITEB192") {
		return []string{}, nil
	}
	if strings.HasPrefix(s, "DEFAULT") {
		_ = process("ALL:!COMPLEMENTOFDEFAULT:!eNULL", state) // cannot fail
		s = strings.TrimPrefix(s[len("DEFAULT"):], ":")
	}
	if err := process(s, state); err != nil {
		return nil, fmt.Errorf("invalid cipher string %q: %w", shorten(ciphers), err)
	}
	names := []string{}
	for i, st := range state {
		if st == stActive {
			names = append(names, dheSuites[i].name)
		}
	}
	return names, nil
}

func isItemSep(c byte) bool { return c == ':' || c == ' ' || c == ';' || c == ',' }

func isCipherNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '='
}

func process(l string, state []int) error {
	const (
		ruleAdd = iota
		ruleDel
		ruleOrd
		ruleKill
		ruleSpecial
	)
	i := 0
	for i < len(l) {
		ch := l[i]
		rule := ruleAdd
		switch ch {
		case '-':
			rule, i = ruleDel, i+1
		case '+':
			rule, i = ruleOrd, i+1
		case '!':
			rule, i = ruleKill, i+1
		case '@':
			rule, i = ruleSpecial, i+1
		}
		if isItemSep(ch) {
			i++
			continue
		}
		p := pattern{suite: -1}
		found := false
		var special string
		for {
			start := i
			for i < len(l) && isCipherNameChar(l[i]) {
				i++
			}
			if i == start {
				what := "the end of the string"
				if i < len(l) {
					what = fmt.Sprintf("%q", l[i])
				}
				return fmt.Errorf("OpenSSL cannot read %s at offset %d", what, i)
			}
			name := l[start:i]
			if rule == ruleSpecial {
				special = name
				break
			}
			multi := i < len(l) && l[i] == '+'
			if multi {
				i++
			}
			mask, idx, ok := lookup(name)
			if p.and(mask, idx); !ok || p.failed {
				found = false
				break
			}
			found = true
			if !multi {
				break
			}
		}
		switch {
		case rule == ruleSpecial:
			if special != "STRENGTH" && !(len(special) == 10 && strings.HasPrefix(special, "SECLEVEL=") && special[9] >= '0' && special[9] <= '5') {
				return fmt.Errorf("OpenSSL knows no command @%s", special)
			}
			for i < len(l) && !isItemSep(l[i]) {
				i++
			}
		case found:
			for j := range dheSuites {
				if !p.matches(j) {
					continue
				}
				switch {
				case rule == ruleAdd && state[j] == stAbsent:
					state[j] = stActive
				case rule == ruleDel && state[j] == stActive:
					state[j] = stAbsent
				case rule == ruleKill:
					state[j] = stKilled
				}
			}
		default:
			for i < len(l) && !isItemSep(l[i]) {
				i++
			}
		}
	}
	return nil
}

// shorten shortens a cipher string for a message.
func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
