package hubconfig

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:generate python3 gen_unames.py

// unamesGz lists, one a line after a "unicode VERSION" line, the character
// names CPython 3.11 (Unicode 14.0) accepts in a "\N{...}" escape, in
// upper case, except the CJK UNIFIED IDEOGRAPH-XXXX names it computes.
// gen_unames.py writes it from Python's unicodedata.
//
//go:embed unames.txt.gz
var unamesGz []byte

// unames is the list, read on the first \N{...} escape.
var unames = sync.OnceValue(func() []string {
	zr, err := gzip.NewReader(bytes.NewReader(unamesGz))
	if err != nil {
		panic(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}
	names := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	return names[1:]
})

// unifiedIdeographs are the code points Python 3.11 names CJK UNIFIED
// IDEOGRAPH-XXXX (its is_unified_ideograph).
var unifiedIdeographs = [][2]uint64{
	{0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0x20000, 0x2A6DF}, {0x2A700, 0x2B738},
	{0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0}, {0x30000, 0x3134A},
}

// knownCharName reports whether Python accepts name in "\N{name}": a
// character's name or alias, in any case (a Hangul syllable's and a CJK
// unified ideograph's in upper case only).
func knownCharName(name string) bool {
	upper := strings.ToUpper(name)
	if len(upper) != len(name) || len(name) > 256 {
		return false // not ASCII, or longer than any name
	}
	// Python computes these two kinds of names, and reads them in upper
	// case only.
	if hex, ok := strings.CutPrefix(upper, "CJK UNIFIED IDEOGRAPH-"); ok {
		if name != upper || len(hex) != 4 && len(hex) != 5 {
			return false
		}
		v, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			return false
		}
		for _, r := range unifiedIdeographs {
			if r[0] <= v && v <= r[1] {
				return true
			}
		}
		return false
	}
	if strings.HasPrefix(upper, "HANGUL SYLLABLE ") && name != upper {
		return false
	}
	names := unames()
	i := sort.SearchStrings(names, upper)
	return i < len(names) && names[i] == upper
}
