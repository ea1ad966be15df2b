package dhparam

import (
	"context"
	"errors"
	"math/big"
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
	if testing.Short() {
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
	const bound = 1 << 12
	for _, workers := range []int{1, 3} {
		q0, err := randomStart(256)
		if err != nil {
			t.Fatal(err)
		}
		s := &search{bits: 256, q0: q0}
		if err := s.init(context.Background(), bound, workers); err != nil {
			t.Fatal(err)
		}
		var primes []uint32
		for _, c := range s.chunks {
			primes = append(primes, c.primes...)
		}
		if len(primes) != 564-2 { // pi(4096) = 564, without 2 and 3
			t.Fatalf("%d sieving primes, want 562", len(primes))
		}
		sieve := make([]uint64, windowSize/64)
		const window = 5
		if err := s.mark(context.Background(), sieve, window*windowSize); err != nil {
			t.Fatal(err)
		}
		q, p, m := new(big.Int), new(big.Int), new(big.Int)
		for j := uint64(0); j < 20000; j++ {
			q.SetUint64(window*windowSize + j)
			q.Mul(q, big.NewInt(12)).Add(q, q0)
			p.Lsh(q, 1).SetBit(p, 0, 1)
			want := false
			for _, r := range primes {
				br := big.NewInt(int64(r))
				if m.Mod(q, br).Sign() == 0 || m.Mod(p, br).Sign() == 0 {
					want = true
					break
				}
			}
			if got := sieve[j/64]&(1<<(j%64)) != 0; got != want {
				t.Fatalf("workers %d, k %d: marked %v, trial division says %v", workers, j, got, want)
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

func TestInv24(t *testing.T) {
	for _, r := range oddPrimes(5000)[1:] {
		if v := inv24(uint64(r)); v*24%uint64(r) != 1 {
			t.Errorf("inv24(%d) = %d", r, v)
		}
	}
}
