package dhparam

import "math/big"

// Check is what Inspect observes about DH parameters. It holds facts, not
// verdicts: whether 2048 bits is enough is the policy's call.
type Check struct {
	// Bits is the size of p.
	Bits int
	// Generator is g, or -1 if g is not a positive int64.
	Generator int64
	// PrimeProbable: p passed the primality tests (see Inspect).
	PrimeProbable bool
	// SafePrime: p and (p-1)/2 are both prime.
	SafePrime bool
	// GeneratorValid: 2 <= g <= p-2, exactly what OpenSSL 3's DH_check
	// accepts for parameters without q (DH_check_params). For a safe prime
	// p = 2q+1 every such g has order q or 2q, so none confines keys to a
	// small subgroup; g = 2 with p ≡ 7 (mod 8), as `openssl dhparam` (p ≡ 23
	// mod 24) and RFC 7919 make them, generates the prime-order subgroup.
	GeneratorValid bool
	// Group is the RFC 7919 name ("ffdhe2048", ...) when p and g are one.
	Group string
	// Weak names a widely shared or known-weak prime ("oakley-group-2",
	// "rfc5114-1024-160", ...), "" otherwise.
	Weak string
}

// mrRounds of Miller-Rabin with random bases, on top of the Baillie-PSW test
// big.Int.ProbablyPrime always runs: a crafted composite passes with
// probability at most 4^-20. Above 4096 bits fewer rounds keep a check of
// the largest accepted moduli to seconds; BPSW has no known pseudoprime.
func mrRounds(bits int) int {
	if bits > 4096 {
		return 4
	}
	return 20
}

// Inspect tests p's primality and recognises published groups. RFC 7919 and
// the other published primes are recognised by value without re-running the
// primality tests; any other prime costs two probable-prime tests (about
// 0.2 s at 2048 bits); p beyond ParsePEM's limit is not tested. Inspect
// never panics, whatever p holds.
func Inspect(p *Params) Check {
	c := Check{Generator: -1}
	if p == nil || p.P == nil || p.G == nil {
		return c
	}
	c.Bits = p.P.BitLen()
	if p.G.IsInt64() && p.G.Sign() > 0 {
		c.Generator = p.G.Int64()
	}
	pMinus2 := new(big.Int).Sub(p.P, big.NewInt(2))
	c.GeneratorValid = p.G.Cmp(big.NewInt(2)) >= 0 && p.G.Cmp(pMinus2) <= 0

	if k := lookup(p.P); k != nil {
		c.PrimeProbable, c.SafePrime = true, k.safe
		if k.weak {
			c.Weak = k.name
		} else if c.Generator == 2 {
			c.Group = k.name
		}
		return c
	}
	if p.P.Sign() <= 0 || c.Bits > maxBits {
		return c // not tested: ParsePEM refuses such p
	}
	c.PrimeProbable = p.P.ProbablyPrime(mrRounds(c.Bits))
	if c.PrimeProbable {
		q := new(big.Int).Rsh(p.P, 1)
		c.SafePrime = q.ProbablyPrime(mrRounds(c.Bits))
	}
	return c
}
