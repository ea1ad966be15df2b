package dhparam

import (
	"context"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// BenchmarkGenerate2048 compares Generate with `openssl dhparam 2048` side
// by side. Each op is a whole search, seconds long and widely spread (the
// number of candidates is geometric): run with a few iterations, e.g.
// go test -run='^$' -bench=Generate2048 -benchtime=3x ./internal/dhparam.
func BenchmarkGenerate2048(b *testing.B) {
	b.Run("hubsecrets", func(b *testing.B) {
		var tried uint64
		for b.Loop() {
			var last uint64
			if _, err := Generate(context.Background(), 2048, GenerateOptions{Progress: func(n uint64) { last = n }}); err != nil {
				b.Fatal(err)
			}
			tried += last
		}
		b.ReportMetric(float64(tried)/float64(b.N), "candidates/op")
	})
	b.Run("openssl", func(b *testing.B) {
		path := testenv.NeedTool(b, "openssl", "the benchmark compares with openssl dhparam")
		out := filepath.Join(b.TempDir(), "dhparam.pem")
		for b.Loop() {
			if msg, err := exec.Command(path, "dhparam", "-out", out, "2048").CombinedOutput(); err != nil {
				b.Fatalf("openssl dhparam: %v\n%s", err, msg)
			}
		}
	})
}

// BenchmarkCandidate2048 is the cost of one candidate that fails the first
// Fermat test, the unit the search spends nearly all its time on.
func BenchmarkCandidate2048(b *testing.B) {
	q0, err := randomStart(2048)
	if err != nil {
		b.Fatal(err)
	}
	s := &search{bits: 2048, q0: q0}
	t := newTester(s)
	k := uint64(0)
	for b.Loop() {
		if _, err := t.test(k); err != nil {
			b.Fatal(err)
		}
		k++
	}
}

// BenchmarkInspect2048 compares Inspect with what it did before (Baillie-PSW
// plus 20 Miller-Rabin rounds, ProbablyPrime(20), on p and on (p-1)/2) and
// with `openssl dhparam -check` (a process each time; 64 rounds on p and on
// (p-1)/2 at 2048 bits), side by side, on the 2048-bit safe prime openssl
// made (testdata/safe2048.pem), the X9.42 prime (not safe) and a composite
// of two 1024-bit primes. scripts/bench-dhcheck.sh times whole commands.
func BenchmarkInspect2048(b *testing.B) {
	safe, err := ParsePEM(readTestdata(b, "safe2048.pem"))
	if err != nil {
		b.Fatal(err)
	}
	inputs := []struct {
		name string
		p    *Params
	}{
		{"safe", safe},
		{"x942", &Params{P: x942Params(b).P, G: big.NewInt(2)}},
		{"composite", &Params{P: new(big.Int).Mul(mustKnown(b, "rfc5114-1024-160"), mustKnown(b, "oakley-group-2")), G: big.NewInt(2)}},
	}
	before := func(p *Params) Check {
		c := Check{PrimeProbable: p.P.ProbablyPrime(20)}
		c.SafePrime = c.PrimeProbable && new(big.Int).Rsh(p.P, 1).ProbablyPrime(20)
		return c
	}
	for _, in := range inputs {
		want := Inspect(in.p)
		b.Run(in.name+"/inspect", func(b *testing.B) {
			for b.Loop() {
				if c := Inspect(in.p); c != want {
					b.Fatalf("Inspect changed its mind: %+v, then %+v", want, c)
				}
			}
		})
		b.Run(in.name+"/before", func(b *testing.B) {
			for b.Loop() {
				if c := before(in.p); c.PrimeProbable != want.PrimeProbable || c.SafePrime != want.SafePrime {
					b.Fatalf("ProbablyPrime(20) says %+v, Inspect %+v", c, want)
				}
			}
		})
		b.Run(in.name+"/openssl", func(b *testing.B) {
			path := testenv.NeedTool(b, "openssl", "the benchmark compares with openssl dhparam -check")
			file := filepath.Join(b.TempDir(), "dhparam.pem")
			if err := os.WriteFile(file, in.p.MarshalPEM(), 0o600); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				// Exit status 1 when the check fails: only a crash counts.
				if err := exec.Command(path, "dhparam", "-check", "-noout", "-in", file).Run(); err != nil {
					if _, ok := err.(*exec.ExitError); !ok {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
