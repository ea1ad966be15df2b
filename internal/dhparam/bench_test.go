package dhparam

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
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
		path, err := exec.LookPath("openssl")
		if err != nil {
			b.Skip("openssl not installed")
		}
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
