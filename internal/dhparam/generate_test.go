package dhparam

import (
	"context"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testBound keeps the sieve small for the small test sizes.
const testBound = 1 << 14

// checkSafe asserts p is what Generate promises for bits.
func checkSafe(t *testing.T, p *Params, bits int) {
	t.Helper()
	if p.Bits() != bits {
		t.Errorf("p has %d bits, want %d", p.Bits(), bits)
	}
	if p.G.Cmp(big.NewInt(2)) != 0 {
		t.Errorf("g = %v, want 2", p.G)
	}
	if m := new(big.Int).Mod(p.P, big.NewInt(24)).Int64(); m != 23 {
		t.Errorf("p mod 24 = %d, want 23 (as openssl dhparam)", m)
	}
	if c := Inspect(p); !c.PrimeProbable || !c.SafePrime || !c.GeneratorValid {
		t.Errorf("Inspect = %+v, want a safe prime and a valid generator", c)
	}
}

// opensslCheck runs `openssl dhparam -check -noout` on p.
func opensslCheck(t *testing.T, p *Params) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dhparam.pem")
	if err := os.WriteFile(path, p.MarshalPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	openssl(t, "version") // skips without openssl
	out, err := exec.Command("openssl", "dhparam", "-check", "-noout", "-in", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DH parameters appear to be ok") {
		t.Errorf("openssl dhparam -check: %v: %s", err, out)
	}
}

func TestGenerateSmall(t *testing.T) {
	tests := []struct {
		bits, workers int
	}{
		{256, 1},
		{512, 0},
		{512, 3},
		{768, 2},
	}
	for _, tt := range tests {
		var mu sync.Mutex
		var calls []uint64
		p, err := generate(context.Background(), tt.bits, testBound, GenerateOptions{
			Workers: tt.workers,
			Progress: func(n uint64) {
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, n)
			},
		})
		if err != nil {
			t.Fatalf("%d bits, %d workers: %v", tt.bits, tt.workers, err)
		}
		checkSafe(t, p, tt.bits)
		if len(calls) == 0 || calls[len(calls)-1] == 0 {
			t.Errorf("%d bits: progress calls %v, want a final count > 0", tt.bits, calls)
		}
		for i := 1; i < len(calls); i++ {
			if calls[i] < calls[i-1] {
				t.Errorf("%d bits: progress went back: %v", tt.bits, calls)
			}
		}
		if tt.bits >= 512 {
			opensslCheck(t, p)
		}
	}
}

func TestGenerate2048(t *testing.T) {
	if testing.Short() { // time, not the machine
		t.Skip("a 2048-bit search takes seconds")
	}
	p, err := Generate(context.Background(), 2048, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSafe(t, p, 2048)
	opensslCheck(t, p)
}

func TestGenerateBits(t *testing.T) {
	for _, bits := range []int{-1, 0, 512, 1024, 2047, 2049, 8192} {
		_, err := Generate(context.Background(), bits, GenerateOptions{})
		if err == nil || !strings.Contains(err.Error(), "want 2048, 3072 or 4096") {
			t.Errorf("Generate(%d) error = %v, want the valid sizes", bits, err)
		}
	}
}

func TestGenerateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, 2048, GenerateOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: error = %v, want context.Canceled", err)
	}

	// Cancelled mid-search: back within a fraction of a second.
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	p, err := Generate(ctx, 4096, GenerateOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v (p %d bits), want context.DeadlineExceeded", err, p.Bits())
	}
	if !strings.Contains(err.Error(), "generate 4096-bit DH parameters") {
		t.Errorf("error %q does not say what was cancelled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v to stop", d)
	}
}

// TestSieve compares the sieve with trial division: a k survives exactly
// when neither q = q0 + 12k nor 2q+1 has a prime factor 5 <= r <= bound.
func TestSieve(t *testing.T) {
	const bound = 1 << 16 // past 2^13, where the residues take the float path
	for _, tt := range []struct{ bits, workers int }{{256, 1}, {256, 3}, {2048, 2}, {4096, 5}} {
		q0, err := randomStart(tt.bits)
		if err != nil {
			t.Fatal(err)
		}
		s := &search{bits: tt.bits, q0: q0}
		if err := s.init(context.Background(), bound, tt.workers); err != nil {
			t.Fatal(err)
		}
		var primes []uint32
		for _, c := range s.chunks {
			primes = append(primes, c.primes...)
		}
		if len(primes) != 6542-2 { // pi(2^16) = 6542, without 2 and 3
			t.Fatalf("%d sieving primes, want 6540", len(primes))
		}
		sieve := make([]uint64, windowSize/64)
		const window = 5
		if err := s.mark(context.Background(), sieve, window*windowSize); err != nil {
			t.Fatal(err)
		}
		// Trial division, from q0 mod r computed by math/big.
		const n = 5000
		var want [n]bool
		for _, r := range primes {
			r := uint64(r)
			q0r := new(big.Int).Mod(q0, new(big.Int).SetUint64(r)).Uint64()
			for j := range uint64(n) {
				qr := (q0r + 12*(window*windowSize+j)) % r
				if qr == 0 || (2*qr+1)%r == 0 {
					want[j] = true
				}
			}
		}
		for j := range uint64(n) {
			if got := sieve[j/64]&(1<<(j%64)) != 0; got != want[j] {
				t.Fatalf("%d bits, %d workers, k %d: marked %v, trial division says %v", tt.bits, tt.workers, j, got, want[j])
			}
		}
	}
}

func TestOddPrimes(t *testing.T) {
	got := oddPrimes(30)
	want := []uint32{3, 5, 7, 11, 13, 17, 19, 23, 29}
	if len(got) != len(want) {
		t.Fatalf("oddPrimes(30) = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("oddPrimes(30) = %v", got)
		}
	}
}

func TestInverses(t *testing.T) {
	for _, r := range oddPrimes(1 << 16)[1:] {
		r := uint64(r)
		if v := inv3(r); v*3%r != 1 {
			t.Errorf("inv3(%d) = %d", r, v)
		}
		if v := inv8(r); v*8%r != 1 {
			t.Errorf("inv8(%d) = %d", r, v)
		}
	}
}

func TestFloatMod(t *testing.T) {
	rnd := mrand.New(mrand.NewPCG(1, 2))
	for _, r := range []uint64{5, 7, 1 << 13, 65537, 1<<27 - 39} {
		for range 20000 {
			// The uses: a product of two residues, or a word (r >= 2^13).
			x := rnd.Uint64N(r+1) * rnd.Uint64N(r)
			if r >= 1<<13 && rnd.IntN(2) == 0 {
				x = rnd.Uint64N(1 << 63)
			}
			if got := floatMod(x, r, 1/float64(r)); got != x%r {
				t.Fatalf("floatMod(%d, %d) = %d, want %d", x, r, got, x%r)
			}
		}
	}
}

func TestWordMod(t *testing.T) {
	rnd := mrand.New(mrand.NewPCG(3, 4))
	moduli := []uint64{1, 3, 5, 35, 1<<63 - 25, 1<<63 - 1, 67108859 * 67108837, 1}
	for range 200 {
		moduli = append(moduli, rnd.Uint64N(1<<63)|1)
	}
	for _, n := range []int{1, 2, 32, 48, 64, 65} {
		limbs := make([]uint64, n)
		for i := range limbs {
			limbs[i] = rnd.Uint64()
		}
		limbs[n-1] |= 1 << 63 // all ones in places too
		x := new(big.Int)
		for _, l := range limbs {
			x.Lsh(x, 64).Or(x, new(big.Int).SetUint64(l))
		}
		for i := 0; i+4 <= len(moduli); i += 4 {
			m := [4]uint64(moduli[i : i+4])
			got := wordMod4(limbs, m)
			for b := range m {
				want := new(big.Int).Mod(x, new(big.Int).SetUint64(m[b])).Uint64()
				if got[b] != want {
					t.Fatalf("%d limbs mod %d: got %d, want %d", n, m[b], got[b], want)
				}
			}
		}
	}
}
