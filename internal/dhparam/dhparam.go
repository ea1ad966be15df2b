// Package dhparam reads, writes, checks and generates finite-field
// Diffie-Hellman parameters in the PKCS#3 PEM form nginx's ssl_dhparam and
// `openssl dhparam` use.
package dhparam

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Params are PKCS#3 DH parameters: the prime modulus P and the generator G.
type Params struct{ P, G *big.Int }

const (
	pemType  = "DH PARAMETERS"
	x942Type = "X9.42 DH PARAMETERS"

	// MaxInput bounds what ParsePEM reads: a 10000-bit PEM is under 3 KiB.
	MaxInput = 64 << 10
	// minBits: OpenSSL 3 refuses smaller moduli (DH_MIN_MODULUS_BITS), so
	// such a file is not DH parameters any server would use.
	minBits = 512
	// maxBits is OpenSSL's OPENSSL_DH_MAX_MODULUS_BITS; it also bounds the
	// time Inspect spends testing primality.
	maxBits = 10000
)

// ParsePEM parses exactly one PKCS#3 "DH PARAMETERS" PEM block: DER
// SEQUENCE { INTEGER p, INTEGER g [, INTEGER privateValueLength] }. Text
// before the block is allowed (`openssl dhparam -text` writes a dump there);
// anything but whitespace after it, a second block, PEM headers or non-DER
// encodings are errors. A privateValueLength is checked and dropped.
func ParsePEM(data []byte) (*Params, error) {
	if len(data) > MaxInput {
		return nil, fmt.Errorf("DH parameters are at most %d bytes; this is %d bytes", MaxInput, len(data))
	}
	blk, rest := pem.Decode(data)
	if blk == nil {
		if bytes.Contains(data, []byte("-----BEGIN")) {
			return nil, errors.New("malformed PEM: a -----BEGIN line without a valid block (bad base64 or no matching -----END line)")
		}
		return nil, errors.New("not PEM: no -----BEGIN " + pemType + "----- block")
	}
	if before := data[:len(data)-len(rest)]; bytes.Count(before, []byte("-----BEGIN")) > 1 {
		// pem.Decode skips a broken block and returns a later one.
		return nil, errors.New("malformed PEM: a -----BEGIN line without a valid block before the " + blk.Type + " block")
	}
	if extra := otherBlocks(rest); len(extra) > 0 {
		return nil, fmt.Errorf("%d PEM blocks (%s, %s): want exactly one %s block", len(extra)+1, blk.Type, strings.Join(extra, ", "), pemType)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("unexpected data after -----END " + blk.Type + "-----")
	}
	switch blk.Type {
	case pemType:
	case x942Type:
		return nil, errors.New(x942Type + " (from openssl dhparam -dsaparam) are not PKCS#3 DH parameters; regenerate without -dsaparam")
	default:
		return nil, fmt.Errorf("found a %s PEM block, not %s", blk.Type, pemType)
	}
	if len(blk.Headers) > 0 {
		return nil, errors.New("unexpected PEM headers in a " + pemType + " block (encrypted or not PKCS#3)")
	}
	p, err := parseDER(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pemType, err)
	}
	return p, nil
}

// otherBlocks names the types of the PEM blocks in rest.
func otherBlocks(rest []byte) []string {
	var types []string
	for {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			return types
		}
		types = append(types, blk.Type)
	}
}

// parseDER reads the PKCS#3 SEQUENCE. encoding/asn1 enforces DER (minimal
// lengths and integers); the elements are read one by one because a struct
// target would silently ignore extra elements (X9.42's q, j, seed).
func parseDER(der []byte) (*Params, error) {
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, fmt.Errorf("bad DER: %w", err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("bad DER: %d bytes after the SEQUENCE", len(rest))
	}
	if seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return nil, fmt.Errorf("bad DER: want a SEQUENCE, found tag %d class %d", seq.Tag, seq.Class)
	}
	var ints []*big.Int
	for body := seq.Bytes; len(body) > 0; {
		if len(ints) == 3 {
			return nil, errors.New("more than 3 elements in the SEQUENCE: not PKCS#3 (X9.42 parameters have q, j and a seed)")
		}
		var n *big.Int
		if body, err = asn1.Unmarshal(body, &n); err != nil {
			return nil, fmt.Errorf("bad DER: element %d: %w", len(ints)+1, err)
		}
		ints = append(ints, n)
	}
	if len(ints) < 2 {
		return nil, fmt.Errorf("the SEQUENCE has %d INTEGERs: want p and g", len(ints))
	}
	p := &Params{P: ints[0], G: ints[1]}
	switch bits := p.Bits(); {
	case p.P.Sign() <= 0:
		return nil, errors.New("prime p is not positive")
	case p.G.Sign() <= 0:
		return nil, errors.New("generator g is not positive")
	case bits < minBits:
		return nil, fmt.Errorf("prime p has %d bits: fewer than %d is not usable DH at all", bits, minBits)
	case bits > maxBits:
		return nil, fmt.Errorf("prime p has %d bits: more than %d (OpenSSL's limit)", bits, maxBits)
	}
	if len(ints) == 3 {
		if l := ints[2]; l.Sign() < 0 || l.Cmp(big.NewInt(int64(p.Bits()))) >= 0 {
			return nil, fmt.Errorf("privateValueLength %v is not a bit length below p's %d bits (X9.42 q under a PKCS#3 label?)", l, p.Bits())
		}
	}
	return p, nil
}

// MarshalPEM encodes p as `openssl dhparam` writes it: DER SEQUENCE { p, g },
// base64 in 64-column lines, a trailing newline.
func (p *Params) MarshalPEM() []byte {
	der, err := asn1.Marshal(struct{ P, G *big.Int }{p.P, p.G})
	if err != nil {
		// Only nil integers fail to marshal: a programming error.
		panic("dhparam: MarshalPEM: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})
}

// Bits is the size of the prime p in bits (0 if p is unset).
func (p *Params) Bits() int {
	if p == nil || p.P == nil {
		return 0
	}
	return p.P.BitLen()
}
