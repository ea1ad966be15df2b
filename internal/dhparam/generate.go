package dhparam

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// GenerateOptions tune Generate.
type GenerateOptions struct {
	// Workers is how many goroutines search; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called about ten times a second and once at the
	// end with the number of candidates tried so far: sieve survivors that
	// reached a modular exponentiation. Calls never overlap.
	Progress func(candidatesTried uint64)
}

// Generate makes new DH parameters: a random safe prime p = 2q+1 of exactly
// bits bits (2048, 3072 or 4096) with p ≡ 23 (mod 24), and g = 2. That is
// the shape `openssl dhparam` makes (OpenSSL's dh_builtin_genparams asks for
// p ≡ 23 mod 24 when g = 2): p ≡ 7 (mod 8) makes 2 a square, so g = 2
// generates the subgroup of prime order q, and `openssl dhparam -check`
// accepts the result.
//
// The search: candidates q = q0 + 12k from one random start q0 ≡ 11 (mod 12)
// (crypto/rand), in windows of a million k shared out among the workers; a
// sieve with every prime up to 2^26 (2^27 above 2048 bits) rejects each k
// where q or 2q+1 has a small factor, before any exponentiation; then a
// base-2 Fermat test on q, Euler's criterion 2^q ≡ 1 (mod p) on p (with q
// prime, Pocklington's theorem makes that a proof that p is prime), and last
// big.Int.ProbablyPrime(20) on both. Like OpenSSL's and Go's crypto/rand
// prime searches, stepping from a random start favours primes after long
// prime-free gaps a little; no weakness of DH is known to come from it.
// ctx cancels the search within milliseconds; the error then wraps ctx.Err().
func Generate(ctx context.Context, bits int, opt GenerateOptions) (*Params, error) {
	switch bits {
	case 2048, 3072, 4096:
	default:
		return nil, fmt.Errorf("DH parameters of %d bits: want 2048, 3072 or 4096", bits)
	}
	return generate(ctx, bits, sieveBound(bits), opt)
}

// sieveBound is the largest small prime sieved out. A larger bound leaves
// fewer survivors to test per safe prime found (their number falls as
// 1/ln(bound)^2: about 2300 at 2^24, 1950 at 2^26 for 2048 bits), but costs
// time up front (about 0.3 s of CPU at 2^26, shared by the workers) and 12
// bytes of memory a prime (47 MB at 2^26). Larger moduli make each test
// dearer, so a larger bound pays.
func sieveBound(bits int) uint32 {
	if bits <= 2048 {
		return 1 << 26
	}
	return 1 << 27
}

const (
	// windowSize candidates are sieved at a time: a 128 KiB bitmap stays in
	// the L2 cache. A 2048-bit search needs about 250,000 candidates in all.
	windowSize = 1 << 20
	// maxWindows bounds k so 12k fits in 64 bits with room to spare.
	maxWindows = 1 << 32
)

var errExhausted = errors.New("no safe prime found above the random start; try again")

// search is one Generate call's state shared by its workers.
type search struct {
	bits   int
	q0     *big.Int // random start: bits-1 bits, ≡ 11 (mod 12)
	chunks []sieveChunk
	window atomic.Uint64 // next window to sieve
	tried  atomic.Uint64 // candidates that reached an exponentiation
}

// sieveChunk holds some of the sieving primes r and, for each, the k (mod r)
// where r divides q = q0 + 12k, respectively p = 2q+1.
type sieveChunk struct {
	primes, killQ, killP []uint32
}

// generate is Generate without the size check, so tests can use small
// sizes; bound must stay below 2^(bits-2) so no sieve prime equals q.
func generate(ctx context.Context, bits int, bound uint32, opt GenerateOptions) (*Params, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wrap := func(err error) error { return fmt.Errorf("generate %d-bit DH parameters: %w", bits, err) }

	q0, err := randomStart(bits)
	if err != nil {
		return nil, wrap(err)
	}
	s := &search{bits: bits, q0: q0}
	if err := s.init(ctx, bound, workers); err != nil {
		return nil, wrap(err)
	}

	type result struct {
		p   *big.Int
		err error
	}
	results := make(chan result, workers)
	for range workers {
		go func() {
			p, err := s.work(ctx)
			results <- result{p, err}
		}()
	}
	var tick <-chan time.Time
	if opt.Progress != nil {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	// Wait for every worker, so no goroutine outlives the call.
	var found *big.Int
	var firstErr error
	for running := workers; running > 0; {
		select {
		case r := <-results:
			running--
			switch {
			case r.p != nil && found == nil:
				found = r.p
				cancel()
			case r.err != nil && firstErr == nil:
				firstErr = r.err
			}
		case <-tick:
			opt.Progress(s.tried.Load())
		}
	}
	if opt.Progress != nil {
		opt.Progress(s.tried.Load())
	}
	if found != nil {
		return &Params{P: found, G: big.NewInt(2)}, nil
	}
	if firstErr == nil {
		firstErr = errExhausted
	}
	return nil, wrap(firstErr)
}

// randomStart is a uniformly random number of bits-1 bits, top bit set, then
// moved up to the next q ≡ 11 (mod 12), i.e. p = 2q+1 ≡ 23 (mod 24).
func randomStart(bits int) (*big.Int, error) {
	buf := make([]byte, (bits-1+7)/8)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("random start: %w", err)
	}
	q := new(big.Int).SetBytes(buf)
	q.Rsh(q, uint(len(buf)*8-(bits-1)))
	q.SetBit(q, bits-2, 1)
	m := new(big.Int).Mod(q, big.NewInt(12)).Int64()
	return q.Add(q, big.NewInt(11-m)), nil
}

// init finds the primes 5 <= r <= bound and where each kills a candidate,
// the range split over the workers (a segmented sieve of Eratosthenes).
func (s *search) init(ctx context.Context, bound uint32, workers int) error {
	base := oddPrimes(uint32(math.Sqrt(float64(bound))) + 1)
	limbs := toLimbs(s.q0)
	s.chunks = make([]sieveChunk, workers)
	span := (bound-5)/uint32(workers) + 1
	var wg sync.WaitGroup
	for i := range s.chunks {
		lo := 5 + uint64(i)*uint64(span)
		hi := min(lo+uint64(span), uint64(bound)+1)
		wg.Go(func() { s.chunks[i] = newSieveChunk(ctx, base, limbs, lo, hi) })
	}
	wg.Wait()
	return ctx.Err()
}

// segment is how many numbers newSieveChunk sieves at a time: the odd ones
// fit a 32 KiB bitmap, which stays in the L1 cache.
const segment = 1 << 19

// newSieveChunk finds the primes in [lo, hi) with the odd primes base (all
// those up to sqrt(hi)) and computes their kill offsets.
func newSieveChunk(ctx context.Context, base []uint32, limbs []uint64, lo, hi uint64) sieveChunk {
	var c sieveChunk
	c.primes = make([]uint32, 0, primeCount(hi)-primeCount(lo)+64)
	composite := make([]uint64, segment/2/64) // bit i: the odd number seg+2i+1
	for seg := lo &^ 1; seg < hi; seg += segment {
		if ctx.Err() != nil {
			return c
		}
		clear(composite)
		for _, r := range base {
			r := uint64(r)
			m := max(r*r, (seg+r-1)/r*r) // first multiple of r >= seg, not r itself
			if m%2 == 0 {
				m += r
			}
			for i := (m - seg) / 2; i < segment/2; i += r {
				composite[i/64] |= 1 << (i % 64)
			}
		}
		for w, word := range composite {
			for free := ^word; free != 0; free &= free - 1 {
				v := seg + 2*uint64(w*64+bits.TrailingZeros64(free)) + 1
				if v >= lo && v < hi {
					c.primes = append(c.primes, uint32(v))
				}
			}
		}
	}
	c.killQ = make([]uint32, len(c.primes))
	c.killP = make([]uint32, len(c.primes))
	// q0 is reduced once per batch of primes whose product fits in a word,
	// four batches at a time (independent chains of multiplications overlap
	// in the CPU), then each prime finishes with single-word operations.
	for i := 0; i < len(c.primes); {
		var m [4]uint64
		var end [4]int
		j := i
		for b := range m {
			m[b] = 1
			for ; j < len(c.primes); j++ {
				h, l := bits.Mul64(m[b], uint64(c.primes[j]))
				if h != 0 || l >= 1<<63 {
					break
				}
				m[b] = l
			}
			end[b] = j
		}
		rem := wordMod4(limbs, m)
		for b := range m {
			for ; i < end[b]; i++ {
				r := uint64(c.primes[i])
				f := 1 / float64(r)
				inv24 := floatMod(inv3(r)*inv8(r), r, f) // r < 2^27
				res := rem[b] % r
				if r >= 1<<13 { // rem < 2^63
					res = floatMod(rem[b], r, f)
				}
				inv12 := 2 * inv24
				if inv12 >= r {
					inv12 -= r
				}
				// q0 + 12k ≡ 0 (mod r)  <=>  k ≡ -q0/12;
				// 2(q0 + 12k) + 1 ≡ 0   <=>  q0 + 12k ≡ -1/2  <=>  k ≡ -q0/12 - 1/24.
				kq := floatMod((r-res)*inv12, r, f)
				kp := kq + r - inv24
				if kp >= r {
					kp -= r
				}
				c.killQ[i], c.killP[i] = uint32(kq), uint32(kp)
			}
		}
	}
	return c
}

// wordMod4 is x mod m[b] for odd m[b] < 2^63, x in limbs (most significant
// first), by Montgomery reduction: multiplications only, where a division
// per limb would cost several times more. R = 2^64, n = len(limbs).
func wordMod4(limbs []uint64, m [4]uint64) [4]uint64 {
	var minv, acc [4]uint64
	for b, m := range m {
		inv := m // m·m ≡ 1 (mod 8): right to 3 bits; each Newton step doubles that
		for range 5 {
			inv *= 2 - m*inv
		}
		minv[b] = -inv // -1/m mod R
	}
	// acc = x/R^n mod m, one limb at a time from the least significant;
	// acc stays below m+2.
	for i := len(limbs) - 1; i >= 0; i-- {
		w := limbs[i]
		for b := range acc {
			lo, c := bits.Add64(acc[b], w, 0)
			uh, ul := bits.Mul64(lo*minv[b], m[b])
			_, c2 := bits.Add64(lo, ul, 0) // lo + ul ≡ 0 (mod R)
			acc[b] = c + uh + c2
		}
	}
	for b, m := range m {
		// montMul is a·b/R mod m, for a, b < m.
		montMul := func(x, y uint64) uint64 {
			hi, lo := bits.Mul64(x, y)
			uh, ul := bits.Mul64(lo*minv[b], m)
			_, c := bits.Add64(lo, ul, 0)
			t := hi + uh + c // < 2m < R
			if t >= m {
				t -= m
			}
			return t
		}
		if acc[b] >= m {
			acc[b] -= m
		}
		// Multiply by R^n: montMul(acc, R^(n+1) mod m). In Montgomery form
		// (y stands for y·R), R^(n+1) is R^n, a power of R (stored as R^2).
		r1 := bits.Rem64(1, 0, m) // R mod m, which stands for 1
		h, l := bits.Mul64(r1, r1)
		r2 := bits.Rem64(h, l, m) // R^2 mod m, which stands for R
		pow := r1
		for k := bits.Len(uint(len(limbs))) - 1; k >= 0; k-- {
			pow = montMul(pow, pow)
			if len(limbs)>>k&1 == 1 {
				pow = montMul(pow, r2)
			}
		}
		acc[b] = montMul(acc[b], pow)
	}
	return acc
}

// floatMod is x mod r given f = 1/r, for x/r < 2^50 (so the quotient in
// floating point is off by at most one): cheaper than a division.
func floatMod(x, r uint64, f float64) uint64 {
	d := int64(x - uint64(float64(x)*f)*r)
	if d < 0 {
		d += int64(r)
	} else if d >= int64(r) {
		d -= int64(r)
	}
	return uint64(d)
}

// inv3 is 1/3 mod a prime r >= 5: 3·((r+1)/3) = r+1 when r ≡ 2 (mod 3),
// 3·((2r+1)/3) = 2r+1 when r ≡ 1.
func inv3(r uint64) uint64 {
	if r%3 == 1 {
		return (2*r + 1) / 3
	}
	return (r + 1) / 3
}

// inv8 is 1/8 mod an odd r: 8·((k·r+1)/8) = k·r+1 for k ≡ -r (mod 8), as
// r·r ≡ 1 (mod 8).
func inv8(r uint64) uint64 {
	return ((8-r%8)*r + 1) / 8
}

// primeCount estimates the number of primes below x (Legendre's
// x/(ln x - 1.08366), within 1% above 1000), for capacities: a little above
// the truth for large x, 0 below 1000.
func primeCount(x uint64) int {
	if x < 1000 {
		return 0
	}
	return int(1.01 * float64(x) / (math.Log(float64(x)) - 1.08366))
}

// toLimbs is x in 64-bit limbs, most significant first.
func toLimbs(x *big.Int) []uint64 {
	b := x.FillBytes(make([]byte, (x.BitLen()+63)/64*8))
	limbs := make([]uint64, len(b)/8)
	for i := range limbs {
		limbs[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return limbs
}

// oddPrimes lists the primes 3 <= r < n, for newSieveChunk's base.
func oddPrimes(n uint32) []uint32 {
	var primes []uint32
	composite := make([]bool, n)
	for r := uint32(3); r < n; r += 2 {
		if composite[r] {
			continue
		}
		primes = append(primes, r)
		for m := r * r; m < n; m += 2 * r {
			composite[m] = true
		}
	}
	return primes
}

// work sieves windows until it finds p, the search is cancelled, or k runs
// out. The window counter is shared, so workers never test the same k.
func (s *search) work(ctx context.Context) (*big.Int, error) {
	sieve := make([]uint64, windowSize/64)
	t := newTester(s)
	for {
		w := s.window.Add(1) - 1
		if w >= maxWindows {
			return nil, errExhausted
		}
		base := w * windowSize
		if err := s.mark(ctx, sieve, base); err != nil {
			return nil, err
		}
		for i, word := range sieve {
			for free := ^word; free != 0; free &= free - 1 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				k := base + uint64(i*64+bits.TrailingZeros64(free))
				p, err := t.test(k)
				if p != nil || err != nil {
					return p, err
				}
			}
		}
	}
}

// mark sets the bits of the k in [base, base+windowSize) that a small prime
// rules out.
func (s *search) mark(ctx context.Context, sieve []uint64, base uint64) error {
	clear(sieve)
	for _, c := range s.chunks {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, r := range c.primes {
			b := uint32(base % uint64(r))
			for _, kill := range [2]uint32{c.killQ[i], c.killP[i]} {
				o := kill + r - b // first hit at or after base, relative to base
				if o >= r {
					o -= r
				}
				for ; o < windowSize; o += r {
					sieve[o/64] |= 1 << (o % 64)
				}
			}
		}
	}
	return nil
}

// tester holds one worker's scratch numbers.
type tester struct {
	s             *search
	q, p, e, t    *big.Int
	one, two, c12 *big.Int
}

func newTester(s *search) *tester {
	return &tester{s: s, q: new(big.Int), p: new(big.Int), e: new(big.Int), t: new(big.Int),
		one: big.NewInt(1), two: big.NewInt(2), c12: big.NewInt(12)}
}

// test returns p = 2q+1 for q = q0 + 12k if both are prime, nil if not.
func (t *tester) test(k uint64) (*big.Int, error) {
	q, p := t.q, t.p
	q.SetUint64(k)
	q.Mul(q, t.c12).Add(q, t.s.q0)
	if q.BitLen() >= t.s.bits {
		return nil, errExhausted // p would have bits+1 bits
	}
	t.s.tried.Add(1)
	// Fermat, base 2: rejects almost every composite q for one exponentiation.
	if t.t.Exp(t.two, t.e.Sub(q, t.one), q).Cmp(t.one) != 0 {
		return nil, nil
	}
	// p ≡ 7 (mod 8), so 2 is a square mod p and a prime p has
	// 2^q = 2^((p-1)/2) ≡ 1 (Euler). With q prime that also proves p prime
	// (Pocklington: p-1 = 2q, q > sqrt(p), 2^(p-1) ≡ 1, gcd(2^2-1, p) = 1).
	p.Lsh(q, 1).SetBit(p, 0, 1)
	if t.t.Exp(t.two, q, p).Cmp(t.one) != 0 {
		return nil, nil
	}
	if !q.ProbablyPrime(20) || !p.ProbablyPrime(20) {
		return nil, nil
	}
	return new(big.Int).Set(p), nil
}
