package dhparam

import (
	"crypto/rand"
	"math/big"
	"sync"
)

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

// mrRounds of Miller-Rabin with bases from crypto/rand follow the
// Baillie-PSW test (big.Int.ProbablyPrime(0)) of each number Inspect tests.
// No composite is known to pass BPSW; the random rounds add a bound that
// holds whoever chose the number: a composite that passed BPSW still passes
// them with probability at most 4^-mrRounds. ProbablyPrime(n)'s own n
// rounds give no such bound (its documentation says as much): their bases
// follow from the number's lowest word, known to whoever crafts it.
const mrRounds = 3

// Inspect tests p's primality and recognises published groups. RFC 7919 and
// the other published primes are recognised by value without re-running the
// primality tests; p beyond ParsePEM's limit is not tested. Other p are
// tested by testSafePrime: at 2048 bits most composites stop after some
// microseconds of trial division and nearly all the others after one
// exponentiation; a safe prime costs about mrRounds+5 exponentiations
// (about 25 ms). Inspect never panics, whatever p holds.
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
	c.PrimeProbable, c.SafePrime = testSafePrime(p.P)
	return c
}

// testSafePrime reports whether p > 0 is prime and whether q = (p-1)/2 is
// too, cheapest tests first:
//
//  1. trial division of p and q by the odd primes below trialBound, in one
//     pass (a prime r divides q exactly when p ≡ 1 mod r);
//  2. a base-2 Fermat test of p, which nearly every composite fails;
//  3. BPSW and mrRounds random Miller-Rabin rounds on q, unless step 1
//     ruled q out. If q is prime, step 2 already proves p prime
//     (Pocklington: p-1 = 2q with q > sqrt(p), 2^(p-1) ≡ 1 mod p and
//     gcd(2^2-1, p) = 1 since 3 does not divide p), so p needs no test of
//     its own;
//  4. otherwise BPSW and mrRounds random rounds on p: prime, not safe.
//
// Below 2^64 ProbablyPrime is exact and used alone.
func testSafePrime(p *big.Int) (prime, safe bool) {
	q := new(big.Int).Rsh(p, 1)
	if p.BitLen() <= 64 {
		prime = p.ProbablyPrime(0)
		return prime, prime && q.ProbablyPrime(0)
	}
	if p.Bit(0) == 0 {
		return false, false
	}
	pDivisible, qDivisible := trialDivide(p)
	if pDivisible {
		return false, false
	}
	one := big.NewInt(1)
	if new(big.Int).Exp(big.NewInt(2), new(big.Int).Sub(p, one), p).Cmp(one) != 0 {
		return false, false
	}
	if !qDivisible && q.Bit(0) == 1 && probablyPrime(q) {
		return true, true
	}
	return probablyPrime(p), false
}

// probablyPrime is BPSW, then mrRounds Miller-Rabin rounds with random bases.
func probablyPrime(n *big.Int) bool {
	return n.ProbablyPrime(0) && millerRabin(n, mrRounds)
}

// millerRabin runs rounds of the Miller-Rabin test on an odd n > 3 with
// bases drawn from crypto/rand, uniform in [2, n-2] to within 2^-64. A
// composite n passes a round with probability at most 1/4.
func millerRabin(n *big.Int, rounds int) bool {
	one, two := big.NewInt(1), big.NewInt(2)
	nm1 := new(big.Int).Sub(n, one)
	s := nm1.TrailingZeroBits()
	d := new(big.Int).Rsh(nm1, s)
	nm3 := new(big.Int).Sub(n, big.NewInt(3))
	buf := make([]byte, (n.BitLen()+64+7)/8)
	a, x := new(big.Int), new(big.Int)
next:
	for range rounds {
		rand.Read(buf) // never fails (crypto/rand, Go 1.24+)
		a.SetBytes(buf).Mod(a, nm3).Add(a, two)
		x.Exp(a, d, n)
		if x.Cmp(one) == 0 || x.Cmp(nm1) == 0 {
			continue
		}
		for range s - 1 {
			x.Mul(x, x).Mod(x, n)
			if x.Cmp(nm1) == 0 {
				continue next
			}
		}
		return false
	}
	return true
}

// trialBound: trial division uses the odd primes below it (their product
// has about 5900 bits). A random odd number has no factor among them with
// probability about 1.12/ln(trialBound), 13%, so most composites p, and
// most (p-1)/2 of primes p that are not safe, stop there. The pass costs
// microseconds at 2048 bits, a small fraction of one exponentiation.
const trialBound = 1 << 12

// trialPrimes are the odd primes below trialBound in batches whose product
// fits in 63 bits, so one word remainder serves a batch.
type trialPrimes struct {
	primes []uint32
	mods   []uint64 // product of each batch
	ends   []int    // batch b is primes[ends[b-1]:ends[b]]
}

var smallPrimes = sync.OnceValue(func() *trialPrimes {
	t := &trialPrimes{primes: oddPrimes(trialBound)}
	m := uint64(1)
	for i, r := range t.primes {
		if m > (1<<63-1)/uint64(r) {
			t.mods, t.ends = append(t.mods, m), append(t.ends, i)
			m = 1
		}
		m *= uint64(r)
	}
	t.mods, t.ends = append(t.mods, m), append(t.ends, len(t.primes))
	return t
})

// trialDivide reports whether an odd prime below trialBound divides p, and
// whether one divides q = (p-1)/2 (p odd: p ≡ 1 mod r exactly when r | q).
// p must exceed 2^64, so neither p nor q is itself such a prime.
func trialDivide(p *big.Int) (pDivisible, qDivisible bool) {
	t := smallPrimes()
	limbs := toLimbs(p)
	for b := 0; b < len(t.mods); b += 4 {
		var m [4]uint64
		for i := range m {
			m[i] = 3 // padding: any odd modulus, result unused
			if b+i < len(t.mods) {
				m[i] = t.mods[b+i]
			}
		}
		rem := wordMod4(limbs, m)
		for i := 0; i < 4 && b+i < len(t.mods); i++ {
			start := 0
			if b+i > 0 {
				start = t.ends[b+i-1]
			}
			for _, r := range t.primes[start:t.ends[b+i]] {
				switch rem[i] % uint64(r) {
				case 0:
					return true, qDivisible
				case 1:
					qDivisible = true
				}
			}
		}
	}
	return false, qDivisible
}
