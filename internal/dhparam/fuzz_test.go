package dhparam

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParsePEM: ParsePEM never panics, and what it accepts is sane and
// survives MarshalPEM and ParsePEM again unchanged.
func FuzzParsePEM(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.pem"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	g, _ := Group("ffdhe2048")
	for _, seed := range [][]byte{
		nil,
		[]byte("-----BEGIN DH PARAMETERS-----\n-----END DH PARAMETERS-----\n"),
		[]byte("-----BEGIN DH PARAMETERS-----\nMAA=\n-----END DH PARAMETERS-----\n"),
		seqPEM(f, g.P, g.G, big.NewInt(225)),
		seqPEM(f, g.P, big.NewInt(-1)),
		append(g.MarshalPEM(), g.MarshalPEM()...),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePEM(data)
		if err != nil {
			if p != nil {
				t.Fatalf("ParsePEM returned params and error %v", err)
			}
			return
		}
		if b := p.Bits(); b < minBits || b > maxBits || p.G.Sign() <= 0 {
			t.Fatalf("accepted p of %d bits, g %v", b, p.G)
		}
		out := p.MarshalPEM()
		again, err := ParsePEM(out)
		if err != nil {
			t.Fatalf("ParsePEM(MarshalPEM()) = %v", err)
		}
		if again.P.Cmp(p.P) != 0 || again.G.Cmp(p.G) != 0 {
			t.Fatal("round trip changed the parameters")
		}
		if !bytes.Equal(again.MarshalPEM(), out) {
			t.Fatal("MarshalPEM is not stable")
		}
	})
}
