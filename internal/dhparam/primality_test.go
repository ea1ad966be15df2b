package dhparam

import (
	"context"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// Crafted numbers for the primality tests. Each is built from its
// definition, and crafted() re-checks the property it is meant to have.

// arnault is F. Arnault's 337-digit composite, a strong pseudoprime to
// every prime base below 200 ("Rabin-Miller primality test: composite
// numbers which pass it", Math. Comp. 64 (1995), 335-361), as Go's
// math/big tests quote it: what defeats Miller-Rabin with fixed small bases.
const arnault = "80383745745363949125707961434194210813883768828755814583748891752229" +
	"74273765333652186502336163960045457915042023603208766569966760987284" +
	"0439654082329287387918508691668573282677617710293896977394701670823" +
	"0428687109997439976544144845341155872450633409279022275296229414984" +
	"2306881685404326457534018329786111298960644845216191652872597534901"

// crafted are composites (and a prime with a composite (p-1)/2) that pass
// the cheap tests testSafePrime runs first.
type craftedNumbers struct {
	arnault    *big.Int // composite, strong pseudoprime to the prime bases < 200
	carmichael *big.Int // (6k+1)(12k+1)(18k+1), k = 2^168+198074: 515 bits, passes Fermat to every coprime base, strong base 2
	// spspQ is a 513-bit prime p = 2q+1 whose q = r(3r-2), r = 2^255+0x5bbb55,
	// is composite and a strong pseudoprime to base 2: not safe, though q
	// passes the first half of BPSW.
	spspQ *big.Int
	// fermatFail is 2q+1 for the prime q = 2^1023+10881: composite, no
	// factor below trialBound, so only the Fermat test on p rejects it.
	fermatFail *big.Int
	// rsaLike is rfc5114-1024-160 times oakley-group-2: 2048 bits, two
	// large prime factors.
	rsaLike *big.Int
}

func crafted(t testing.TB) craftedNumbers {
	t.Helper()
	one := big.NewInt(1)
	var c craftedNumbers
	c.arnault, _ = new(big.Int).SetString(arnault, 10)
	if c.arnault.ProbablyPrime(20) {
		t.Fatal("Arnault's number: ProbablyPrime(20) says prime")
	}
	for _, b := range append([]uint32{2}, oddPrimes(200)...) {
		if !strongProbablePrime(c.arnault, int64(b)) {
			t.Fatalf("Arnault's number is not a strong pseudoprime to base %d", b)
		}
	}

	k := new(big.Int).Lsh(one, 168)
	k.Add(k, big.NewInt(198074))
	c.carmichael = big.NewInt(1)
	for _, m := range []int64{6, 12, 18} {
		f := new(big.Int).Mul(k, big.NewInt(m))
		f.Add(f, one)
		if !f.ProbablyPrime(20) {
			t.Fatalf("Chernick factor %dk+1 is not prime", m)
		}
		c.carmichael.Mul(c.carmichael, f)
	}
	// Korselt: each factor minus one divides n-1, so a^(n-1) ≡ 1 for all a
	// coprime to n. Checking base 2 and 3 is enough to show it matters here.
	if c.carmichael.BitLen() < minBits || !fermat(c.carmichael, 2) || !fermat(c.carmichael, 3) || !strongProbablePrime(c.carmichael, 2) {
		t.Fatal("the Chernick number is not the base-2 strong pseudoprime this test needs")
	}

	r, _ := new(big.Int).SetString("80000000000000000000000000000000000000000000000000000000005bbb55", 16)
	s := new(big.Int).Sub(new(big.Int).Mul(r, big.NewInt(3)), big.NewInt(2))
	q := new(big.Int).Mul(r, s)
	c.spspQ = new(big.Int).Lsh(q, 1)
	c.spspQ.Add(c.spspQ, one)
	if !r.ProbablyPrime(20) || !s.ProbablyPrime(20) || !strongProbablePrime(q, 2) || !c.spspQ.ProbablyPrime(20) || c.spspQ.BitLen() < minBits {
		t.Fatal("spspQ: want r, 3r-2 and 2r(3r-2)+1 prime, r(3r-2) a strong pseudoprime to base 2")
	}

	q = new(big.Int).Lsh(one, 1023)
	q.Add(q, big.NewInt(10881))
	c.fermatFail = new(big.Int).Lsh(q, 1)
	c.fermatFail.Add(c.fermatFail, one)
	if pd, qd := trialDivide(c.fermatFail); pd || qd || !q.ProbablyPrime(20) || c.fermatFail.ProbablyPrime(20) {
		t.Fatal("fermatFail: want q prime, 2q+1 composite without a factor below trialBound")
	}

	c.rsaLike = new(big.Int).Mul(mustKnown(t, "rfc5114-1024-160"), mustKnown(t, "oakley-group-2"))
	return c
}

// strongProbablePrime is one Miller-Rabin round with base b, written out
// apart from millerRabin.
func strongProbablePrime(n *big.Int, b int64) bool {
	one := big.NewInt(1)
	nm1 := new(big.Int).Sub(n, one)
	s := nm1.TrailingZeroBits()
	x := new(big.Int).Exp(big.NewInt(b), new(big.Int).Rsh(nm1, s), n)
	if x.Cmp(one) == 0 || x.Cmp(nm1) == 0 {
		return true
	}
	for i := uint(1); i < s; i++ {
		if x.Mul(x, x).Mod(x, n); x.Cmp(nm1) == 0 {
			return true
		}
	}
	return false
}

// fermat: b^(n-1) ≡ 1 (mod n).
func fermat(n *big.Int, b int64) bool {
	return new(big.Int).Exp(big.NewInt(b), new(big.Int).Sub(n, big.NewInt(1)), n).Cmp(big.NewInt(1)) == 0
}

// opensslVerdict is what `openssl dhparam -check -noout` finds in the PEM
// file: p prime, p a safe prime, g suitable (OpenSSL 3's DH_check: "check
// p not prime", "check p not safe prime", "not suitable generator"). It
// fails the test on any other complaint.
func opensslVerdict(t *testing.T, file string) (prime, safe, generator bool) {
	t.Helper()
	path := testenv.NeedTool(t, "openssl", "the primality verdicts are compared with openssl dhparam -check")
	out, err := exec.Command(path, "dhparam", "-check", "-noout", "-in", file).CombinedOutput()
	text := string(out)
	if err == nil && strings.Contains(text, "DH parameters appear to be ok") {
		return true, true, true
	}
	prime, safe, generator = true, true, true
	var reasons int
	if strings.Contains(text, "p not prime") {
		prime, safe = false, false
		reasons++
	}
	if strings.Contains(text, "not safe prime") {
		safe = false
		reasons++
	}
	if strings.Contains(text, "not suitable generator") {
		generator = false
		reasons++
	}
	if err == nil || reasons == 0 {
		t.Fatalf("openssl dhparam -check: %v, and no reason this test knows:\n%s", err, text)
	}
	return prime, safe, generator
}

// TestInspectAgreesWithOpenSSL: on each file, Inspect says what `openssl
// dhparam -check` says about p's primality, its safety and g, and both say
// what the case is known to be. OpenSSL 3 tests p and (p-1)/2 with 64
// random-base Miller-Rabin rounds each at 2048 bits; it skips the tests for
// the named groups it recognises (p and g of RFC 7919 or RFC 3526), so the
// cases with another g make it test those primes.
func TestInspectAgreesWithOpenSSL(t *testing.T) {
	c := crafted(t)
	safe, err := ParsePEM(readTestdata(t, "safe2048.pem"))
	if err != nil {
		t.Fatal(err)
	}
	x942 := x942Params(t)
	prime1mod4 := new(big.Int).Lsh(big.NewInt(1), 600)
	prime1mod4.Add(prime1mod4, big.NewInt(721))
	withG := func(p *big.Int, g int64) []byte { return seqPEM(t, p, big.NewInt(g)) }
	oakley1 := mustKnown(t, "oakley-group-1")
	type want struct{ prime, safe, generator bool }
	tests := []struct {
		name string
		pem  []byte
		want want
	}{
		{"openssl dhparam 2048", readTestdata(t, "safe2048.pem"), want{true, true, true}},
		{"ffdhe2048 from openssl genpkey", readTestdata(t, "ffdhe2048.pem"), want{true, true, true}},
		{"ffdhe2048 prime, g = 5", withG(mustKnown(t, "ffdhe2048"), 5), want{true, true, true}},
		{"oakley-group-2, g = 2", withG(mustKnown(t, "oakley-group-2"), 2), want{true, true, true}},
		{"oakley-group-5 prime, g = 5", withG(mustKnown(t, "oakley-group-5"), 5), want{true, true, true}},
		{"rfc5114-1024-160 prime, g = 2", withG(mustKnown(t, "rfc5114-1024-160"), 2), want{true, false, true}},
		{"rfc5114-2048-224 prime, g = 2", withG(mustKnown(t, "rfc5114-2048-224"), 2), want{true, false, true}},
		{"rfc5114-2048-256 prime, g = 2", withG(mustKnown(t, "rfc5114-2048-256"), 2), want{true, false, true}},
		{"X9.42 p and g (openssl dhparam -dsaparam) as PKCS#3", withG(x942.P, 2), want{true, false, true}},
		{"prime p ≡ 1 mod 4: (p-1)/2 even", withG(prime1mod4, 2), want{true, false, true}},
		{"prime p, (p-1)/2 a base-2 strong pseudoprime", withG(c.spspQ, 2), want{true, false, true}},
		{"composite: 3 times a safe prime", withG(new(big.Int).Mul(safe.P, big.NewInt(3)), 2), want{false, false, true}},
		{"composite: 4093 times a safe prime", withG(new(big.Int).Mul(safe.P, big.NewInt(4093)), 2), want{false, false, true}},
		{"composite: even", withG(new(big.Int).Add(safe.P, big.NewInt(1)), 2), want{false, false, true}},
		{"composite: two 1024-bit primes", withG(c.rsaLike, 2), want{false, false, true}},
		{"composite 2q+1, q prime", withG(c.fermatFail, 2), want{false, false, true}},
		{"Carmichael number, strong pseudoprime to base 2", withG(c.carmichael, 2), want{false, false, true}},
		{"Arnault: strong pseudoprime to all prime bases < 200", withG(c.arnault, 2), want{false, false, true}},
		{"g = 1", withG(oakley1, 1), want{true, true, false}},
		{"g = p-1", seqPEM(t, oakley1, new(big.Int).Sub(oakley1, big.NewInt(1))), want{true, true, false}},
		{"g = p-2", seqPEM(t, oakley1, new(big.Int).Sub(oakley1, big.NewInt(2))), want{true, true, true}},
	}
	for _, name := range []string{"ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192", "modp_1536"} {
		tmp := filepath.Join(t.TempDir(), name+".pem")
		openssl(t, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:"+name, "-out", tmp)
		b, err := os.ReadFile(tmp)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name string
			pem  []byte
			want want
		}{name + " from openssl genpkey", b, want{true, true, true}})
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, fmt.Sprintf("case%d.pem", i))
			if err := os.WriteFile(file, tt.pem, 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := ParsePEM(tt.pem)
			if err != nil {
				t.Fatal(err)
			}
			ch := Inspect(p)
			got := want{ch.PrimeProbable, ch.SafePrime, ch.GeneratorValid}
			var ossl want
			ossl.prime, ossl.safe, ossl.generator = opensslVerdict(t, file)
			if got != ossl || got != tt.want {
				t.Errorf("(prime, safe, generator): Inspect %v, openssl dhparam -check %v, want %v", got, ossl, tt.want)
			}
		})
	}

	// openssl checks an X9.42 file with its q: p and q prime, g of order q.
	// ParsePEM refuses the file; its p is prime, not safe.
	t.Run("X9.42 file", func(t *testing.T) {
		prime, _, _ := opensslVerdict(t, filepath.Join("testdata", "x942.pem"))
		if ch := Inspect(x942); !prime || !ch.PrimeProbable || ch.SafePrime {
			t.Errorf("openssl: p prime %v; Inspect %+v, want prime, not safe", prime, ch)
		}
	})
}

// TestTestSafePrimeKnownPrimes runs the tests Inspect skips for published
// primes: they must find what the table says.
func TestTestSafePrimeKnownPrimes(t *testing.T) {
	for _, k := range knownPrimes {
		t.Run(k.name, func(t *testing.T) {
			if testing.Short() && k.p.BitLen() > 4096 { // time, not the machine
				t.Skip("slow in -short")
			}
			if prime, safe := testSafePrime(k.p); !prime || safe != k.safe {
				t.Errorf("testSafePrime = %v, %v; want true, %v", prime, safe, k.safe)
			}
		})
	}
}

// TestTestSafePrimeMatchesProbablyPrime compares testSafePrime with
// ProbablyPrime(20) on p and (p-1)/2, on random numbers, random primes,
// 2q+1 for random primes q, small safe primes and the 64-bit boundary,
// where testSafePrime switches to ProbablyPrime alone.
func TestTestSafePrimeMatchesProbablyPrime(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	random := func(bits int) *big.Int {
		n := new(big.Int)
		for i := 0; i < bits; i += 32 {
			n.Lsh(n, 32).Or(n, big.NewInt(int64(rng.Uint32())))
		}
		n.Rsh(n, uint(n.BitLen()-bits+1)).SetBit(n, bits-1, 1)
		return n
	}
	nextPrime := func(n *big.Int) *big.Int {
		n = new(big.Int).SetBit(n, 0, 1)
		for !n.ProbablyPrime(20) {
			n.Add(n, big.NewInt(2))
		}
		return n
	}
	var in []*big.Int
	for range 300 {
		in = append(in, random(65+rng.IntN(700)))
	}
	for range 30 {
		q := nextPrime(random(65 + rng.IntN(500)))
		in = append(in, q, new(big.Int).SetBit(new(big.Int).Lsh(q, 1), 0, 1))
	}
	for range 4 {
		p, err := generate(context.Background(), 256, testBound, GenerateOptions{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, p.P)
	}
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	for d := int64(-70); d <= 70; d++ {
		in = append(in, new(big.Int).Add(two64, big.NewInt(d)))
	}
	var primes, safes int
	for _, p := range in {
		q := new(big.Int).Rsh(p, 1)
		wantPrime := p.ProbablyPrime(20)
		wantSafe := wantPrime && q.ProbablyPrime(20)
		if prime, safe := testSafePrime(p); prime != wantPrime || safe != wantSafe {
			t.Errorf("testSafePrime(%v) = %v, %v; ProbablyPrime(20) on p and (p-1)/2: %v, %v", p, prime, safe, wantPrime, wantSafe)
		}
		if wantPrime {
			primes++
		}
		if wantSafe {
			safes++
		}
	}
	if primes < 40 || safes < 4 {
		t.Errorf("only %d primes, %d safe primes among %d numbers: the test lost its point", primes, safes, len(in))
	}
}

// TestMillerRabin: random-base rounds pass primes and reject the
// composites crafted to pass fixed bases (each with probability at most
// 4^-20 of slipping through 20 rounds).
func TestMillerRabin(t *testing.T) {
	c := crafted(t)
	composites := map[string]*big.Int{
		"Arnault":          c.arnault,
		"Carmichael":       c.carmichael,
		"spspQ's q":        new(big.Int).Rsh(c.spspQ, 1),
		"2047":             big.NewInt(2047),       // 23·89, strong pseudoprime to base 2
		"3215031751":       big.NewInt(3215031751), // strong pseudoprime to bases 2, 3, 5, 7
		"561 (Carmichael)": big.NewInt(561),
	}
	for name, n := range composites {
		if millerRabin(n, 20) {
			t.Errorf("%s passed 20 random-base rounds", name)
		}
	}
	for _, name := range []string{"ffdhe2048", "oakley-group-1"} {
		p := mustKnown(t, name)
		if !millerRabin(p, 5) || !millerRabin(new(big.Int).Rsh(p, 1), 5) {
			t.Errorf("%s: a prime failed a round", name)
		}
	}
	for _, p := range []int64{5, 7, 23, 4093, 2147483647} {
		if !millerRabin(big.NewInt(p), 20) {
			t.Errorf("%d: a prime failed a round", p)
		}
	}
}

// TestTrialDivide compares trialDivide with dividing by each prime.
func TestTrialDivide(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	primes := oddPrimes(trialBound)
	if primes[len(primes)-1] != 4093 {
		t.Fatalf("largest trial prime %d, want 4093", primes[len(primes)-1])
	}
	safe, _ := ParsePEM(readTestdata(t, "safe2048.pem"))
	in := []*big.Int{
		safe.P,
		new(big.Int).Mul(safe.P, big.NewInt(4093)),
		new(big.Int).Mul(safe.P, big.NewInt(4099)), // the first prime past the bound
		new(big.Int).Add(new(big.Int).Mul(safe.P, big.NewInt(2*4093)), big.NewInt(1)),
	}
	for range 600 {
		n := new(big.Int)
		for range 1 + rng.IntN(160) {
			n.Lsh(n, 64).Or(n, new(big.Int).SetUint64(rng.Uint64()))
		}
		n.SetBit(n, 0, 1).SetBit(n, 65, 1)
		in = append(in, n)
	}
	var pCount, qCount int
	rem := new(big.Int)
	for _, n := range in {
		var pWant, qWant bool
		for _, r := range primes {
			switch rem.Mod(n, big.NewInt(int64(r))).Int64() {
			case 0:
				pWant = true
			case 1:
				qWant = true
			}
		}
		pGot, qGot := trialDivide(n)
		if pGot != pWant || !pWant && qGot != qWant {
			t.Fatalf("trialDivide(%x) = %v, %v; want %v, %v", n, pGot, qGot, pWant, qWant)
		}
		if pWant {
			pCount++
		} else if qWant {
			qCount++
		}
	}
	t.Logf("%d p divisible, %d q only, %d neither", pCount, qCount, len(in)-pCount-qCount)
	if pCount < 100 || qCount < 30 || len(in)-pCount-qCount < 5 {
		t.Errorf("cases: %d p divisible, %d q only, %d neither: the test lost its point", pCount, qCount, len(in)-pCount-qCount)
	}
}
