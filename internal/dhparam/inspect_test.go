package dhparam

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGroupMatchesOpenSSL: each group is byte for byte what openssl writes
// for its named group after `openssl dhparam -in`.
func TestGroupMatchesOpenSSL(t *testing.T) {
	if got, want := GroupNames(), []string{"ffdhe2048", "ffdhe3072", "ffdhe4096"}; !slices.Equal(got, want) {
		t.Fatalf("GroupNames() = %v, want %v", got, want)
	}
	for _, name := range GroupNames() {
		t.Run(name, func(t *testing.T) {
			tmp := filepath.Join(t.TempDir(), "params.pem")
			openssl(t, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:"+name, "-out", tmp)
			want := openssl(t, "dhparam", "-in", tmp)
			g, err := Group(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.MarshalPEM(); !bytes.Equal(got, want) {
				t.Errorf("Group(%q).MarshalPEM():\n%s\nopenssl:\n%s", name, got, want)
			}
		})
	}
}

// TestKnownPrimesMatchOpenSSL checks the other constants openssl knows.
func TestKnownPrimesMatchOpenSSL(t *testing.T) {
	tests := []struct{ name, pkeyopt string }{
		{"ffdhe6144", "group:ffdhe6144"},
		{"ffdhe8192", "group:ffdhe8192"},
		{"oakley-group-5", "group:modp_1536"},
		{"rfc5114-1024-160", "dh_rfc5114:1"},
		{"rfc5114-2048-224", "dh_rfc5114:2"},
		{"rfc5114-2048-256", "dh_rfc5114:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := filepath.Join(t.TempDir(), "params.pem")
			openssl(t, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", tt.pkeyopt, "-out", tmp)
			b, err := os.ReadFile(tmp)
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := pem.Decode(b)
			var raw asn1.RawValue
			var p *big.Int
			if blk == nil {
				t.Fatalf("no PEM from openssl: %q", b)
			}
			if _, err := asn1.Unmarshal(blk.Bytes, &raw); err != nil {
				t.Fatal(err)
			}
			if _, err := asn1.Unmarshal(raw.Bytes, &p); err != nil {
				t.Fatal(err)
			}
			k := lookup(p)
			if k == nil || k.name != tt.name {
				t.Errorf("openssl's %s prime is not our %s", tt.pkeyopt, tt.name)
			}
		})
	}
}

// piBits is floor(pi * 2^n), from Machin's pi = 16 atan(1/5) - 4 atan(1/239).
func piBits(n uint) *big.Int {
	const guard = 64
	one := new(big.Int).Lsh(big.NewInt(1), n+guard)
	atanInv := func(x int64) *big.Int {
		xx := big.NewInt(x * x)
		term := new(big.Int).Quo(one, big.NewInt(x))
		sum := new(big.Int).Set(term)
		for k := int64(1); term.Sign() != 0; k++ {
			term.Quo(term, xx)
			t := new(big.Int).Quo(term, big.NewInt(2*k+1))
			if k%2 == 1 {
				sum.Sub(sum, t)
			} else {
				sum.Add(sum, t)
			}
		}
		return sum
	}
	pi := new(big.Int).Mul(atanInv(5), big.NewInt(16))
	pi.Sub(pi, new(big.Int).Mul(atanInv(239), big.NewInt(4)))
	return pi.Rsh(pi, guard)
}

// TestOakleyPrimesFromPi derives the RFC 2409/3526 primes from their
// definition, p = 2^n - 2^(n-64) - 1 + 2^64 * {[2^(n-130) pi] + x}.
func TestOakleyPrimesFromPi(t *testing.T) {
	tests := []struct {
		name string
		n    uint
		x    int64
	}{
		{"oakley-group-1", 768, 149686},  // RFC 2409 6.1
		{"oakley-group-2", 1024, 129093}, // RFC 2409 6.2
		{"oakley-group-5", 1536, 741804}, // RFC 3526 2
	}
	for _, tt := range tests {
		one := big.NewInt(1)
		p := new(big.Int).Add(piBits(tt.n-130), big.NewInt(tt.x))
		p.Lsh(p, 64)
		p.Add(p, new(big.Int).Lsh(one, tt.n))
		p.Sub(p, new(big.Int).Lsh(one, tt.n-64))
		p.Sub(p, one)
		if k := lookup(p); k == nil || k.name != tt.name || !k.weak {
			t.Errorf("%s from pi: not in the table as weak", tt.name)
		}
	}
}

// TestKnownPrimesFlags re-derives what the table claims, so Inspect may
// trust it without testing.
func TestKnownPrimesFlags(t *testing.T) {
	for _, k := range knownPrimes {
		t.Run(k.name, func(t *testing.T) {
			if testing.Short() && k.p.BitLen() > 4096 { // time, not the machine
				t.Skip("slow in -short")
			}
			if !k.p.ProbablyPrime(1) {
				t.Fatal("p is not prime")
			}
			q := new(big.Int).Rsh(k.p, 1)
			if got := q.ProbablyPrime(1); got != k.safe {
				t.Errorf("(p-1)/2 prime = %v, table says safe = %v", got, k.safe)
			}
			if strings.HasPrefix(k.name, "ffdhe") == k.weak {
				t.Errorf("weak = %v for %s", k.weak, k.name)
			}
		})
	}
}

func TestGroupUnknown(t *testing.T) {
	for _, name := range []string{"", "ffdhe1024", "ffdhe6144", "FFDHE2048", "oakley-group-2"} {
		_, err := Group(name)
		if err == nil || !strings.Contains(err.Error(), "want one of ffdhe2048, ffdhe3072, ffdhe4096") {
			t.Errorf("Group(%q) error = %v, want the valid names listed", name, err)
		}
	}
	// Callers get a copy they may change.
	g, _ := Group("ffdhe2048")
	g.P.SetInt64(5)
	if again, _ := Group("ffdhe2048"); again.Bits() != 2048 {
		t.Error("Group returned shared state")
	}
}

func TestInspect(t *testing.T) {
	parse := func(name string) *Params {
		p, err := ParsePEM(readTestdata(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	known := func(name string, g int64) *Params {
		return &Params{P: mustKnown(t, name), G: big.NewInt(g)}
	}
	safe := parse("safe2048.pem")
	tiny, err := generate(context.Background(), 512, 1<<12, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x942 := x942Params(t)
	composite := &Params{P: new(big.Int).Mul(safe.P, big.NewInt(3)), G: big.NewInt(2)}

	tests := []struct {
		name string
		in   *Params
		want Check
	}{
		{"ffdhe2048", parse("ffdhe2048.pem"), Check{Bits: 2048, Generator: 2, PrimeProbable: true, SafePrime: true, GeneratorValid: true, Group: "ffdhe2048"}},
		{"ffdhe4096", known("ffdhe4096", 2), Check{Bits: 4096, Generator: 2, PrimeProbable: true, SafePrime: true, GeneratorValid: true, Group: "ffdhe4096"}},
		{"ffdhe2048 prime, g=5: not the group", known("ffdhe2048", 5), Check{Bits: 2048, Generator: 5, PrimeProbable: true, SafePrime: true, GeneratorValid: true}},
		{"openssl dhparam 2048", safe, Check{Bits: 2048, Generator: 2, PrimeProbable: true, SafePrime: true, GeneratorValid: true}},
		{"X9.42 p, g: prime, not safe", x942, Check{Bits: 2048, Generator: -1, PrimeProbable: true, GeneratorValid: true}},
		{"oakley group 2", known("oakley-group-2", 2), Check{Bits: 1024, Generator: 2, PrimeProbable: true, SafePrime: true, GeneratorValid: true, Weak: "oakley-group-2"}},
		{"oakley group 1", known("oakley-group-1", 2), Check{Bits: 768, Generator: 2, PrimeProbable: true, SafePrime: true, GeneratorValid: true, Weak: "oakley-group-1"}},
		{"rfc5114 1024", knownWithG(t, "rfc5114-1024-160", "dh_rfc5114:1"), Check{Bits: 1024, Generator: -1, PrimeProbable: true, GeneratorValid: true, Weak: "rfc5114-1024-160"}},
		{"tiny safe prime", tiny, Check{Bits: 512, Generator: 2, PrimeProbable: true, SafePrime: true, GeneratorValid: true}},
		{"composite p", composite, Check{Bits: composite.Bits(), Generator: 2, GeneratorValid: true}},
		{"g = 1", &Params{P: safe.P, G: big.NewInt(1)}, Check{Bits: 2048, Generator: 1, PrimeProbable: true, SafePrime: true}},
		{"g = p-1", &Params{P: safe.P, G: new(big.Int).Sub(safe.P, big.NewInt(1))}, Check{Bits: 2048, Generator: -1, PrimeProbable: true, SafePrime: true}},
		{"g = p-2", &Params{P: safe.P, G: new(big.Int).Sub(safe.P, big.NewInt(2))}, Check{Bits: 2048, Generator: -1, PrimeProbable: true, SafePrime: true, GeneratorValid: true}},
		{"g = 0", &Params{P: safe.P, G: big.NewInt(0)}, Check{Bits: 2048, Generator: -1, PrimeProbable: true, SafePrime: true}},
		{"p = 23", &Params{P: big.NewInt(23), G: big.NewInt(2)}, Check{Bits: 5, Generator: 2, PrimeProbable: true, SafePrime: true, GeneratorValid: true}},
		{"negative p", &Params{P: big.NewInt(-23), G: big.NewInt(2)}, Check{Bits: 5, Generator: 2}},
		{"p too large to test", &Params{P: new(big.Int).Lsh(big.NewInt(1), maxBits+1), G: big.NewInt(2)}, Check{Bits: maxBits + 2, Generator: 2, GeneratorValid: true}},
		{"nil", nil, Check{Generator: -1}},
		{"no g", &Params{P: safe.P}, Check{Generator: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Inspect(tt.in); got != tt.want {
				t.Errorf("Inspect:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func mustKnown(t testing.TB, name string) *big.Int {
	t.Helper()
	for _, k := range knownPrimes {
		if k.name == name {
			return k.p
		}
	}
	t.Fatalf("no known prime %q", name)
	return nil
}

// knownWithG is a published group with its published generator, from openssl.
func knownWithG(t testing.TB, name, pkeyopt string) *Params {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "params.pem")
	openssl(t, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", pkeyopt, "-out", tmp)
	b, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePEM(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.P.Cmp(mustKnown(t, name)) != 0 {
		t.Fatalf("openssl %s is not %s", pkeyopt, name)
	}
	return p
}

// x942Params reads p and g of testdata/x942.pem (openssl dhparam -dsaparam),
// SEQUENCE { p, g, q, ... }, which ParsePEM refuses by design.
func x942Params(t testing.TB) *Params {
	t.Helper()
	blk, _ := pem.Decode(readTestdata(t, "x942.pem"))
	var v struct{ P, G, Q *big.Int }
	if blk == nil {
		t.Fatal("x942.pem: no PEM")
	}
	if _, err := asn1.Unmarshal(blk.Bytes, &v); err != nil {
		t.Fatal(err)
	}
	return &Params{P: v.P, G: v.G}
}
