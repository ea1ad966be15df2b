package dhparam

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openssl runs the openssl command; without it the test skips (testenv).
func openssl(t testing.TB, args ...string) []byte {
	t.Helper()
	path := testenv.NeedTool(t, "openssl", "DH parameters are compared with what openssl makes and reads")
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// derPEM wraps DER in a PEM block of type typ.
func derPEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// seqPEM is a DH PARAMETERS block holding SEQUENCE { INTEGER... }.
func seqPEM(t testing.TB, ints ...*big.Int) []byte {
	t.Helper()
	der, err := asn1.Marshal(ints)
	if err != nil {
		t.Fatal(err)
	}
	return derPEM(pemType, der)
}

func TestParsePEM(t *testing.T) {
	safe := readTestdata(t, "safe2048.pem")
	want, err := ParsePEM(safe)
	if err != nil {
		t.Fatal(err)
	}
	ffdhe, _ := Group("ffdhe2048")
	tests := []struct {
		name string
		in   []byte
		want *Params
	}{
		{"openssl dhparam output", safe, want},
		{"openssl genpkey ffdhe2048", readTestdata(t, "ffdhe2048.pem"), ffdhe},
		{"openssl dhparam -text: dump before the block", readTestdata(t, "safe2048-text.pem"), want},
		{"CRLF line ends", bytes.ReplaceAll(safe, []byte("\n"), []byte("\r\n")), want},
		{"whitespace around", append(append([]byte("\n  \n"), safe...), "\n\t \n"...), want},
		{"privateValueLength dropped", seqPEM(t, want.P, want.G, big.NewInt(256)), want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePEM(tt.in)
			if err != nil {
				t.Fatalf("ParsePEM: %v", err)
			}
			if got.P.Cmp(tt.want.P) != 0 || got.G.Cmp(tt.want.G) != 0 {
				t.Errorf("got p=%x g=%v, want p=%x g=%v", got.P, got.G, tt.want.P, tt.want.G)
			}
			if got.Bits() != 2048 {
				t.Errorf("Bits() = %d, want 2048", got.Bits())
			}
		})
	}
}

func TestParsePEMErrors(t *testing.T) {
	safe := readTestdata(t, "safe2048.pem")
	good, err := ParsePEM(safe)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := pem.Decode(safe)
	p, g := good.P, good.G
	pow2 := func(n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), n) }
	tests := []struct {
		name, in, want string
	}{
		{"X9.42 from -dsaparam", string(readTestdata(t, "x942.pem")),
			"X9.42 DH PARAMETERS (from openssl dhparam -dsaparam) are not PKCS#3 DH parameters; regenerate without -dsaparam"},
		{"certificate", string(readTestdata(t, "cert.pem")), "found a CERTIFICATE PEM block, not DH PARAMETERS"},
		{"private key label", strings.ReplaceAll(string(safe), pemType, "PRIVATE KEY"), "found a PRIVATE KEY PEM block"},
		{"empty", "", "not PEM: no -----BEGIN DH PARAMETERS----- block"},
		{"text", "hello\n", "not PEM"},
		{"binary DER", string(der.Bytes), "not PEM"},
		{"no END line", strings.Split(string(safe), "-----END")[0], "malformed PEM"},
		{"bad base64", strings.Replace(string(safe), "\nMII", "\n*II", 1), "malformed PEM"},
		{"broken block before a good one", strings.Split(string(safe), "-----END")[0] + string(safe), "malformed PEM"},
		{"trailing data", string(safe) + "nonsense\n", "unexpected data after -----END DH PARAMETERS-----"},
		{"trailing broken block", string(safe) + "-----BEGIN DH PARAMETERS-----\n", "unexpected data after"},
		{"two blocks", string(safe) + string(safe), "2 PEM blocks (DH PARAMETERS, DH PARAMETERS): want exactly one DH PARAMETERS block"},
		{"params and certificate", string(safe) + string(readTestdata(t, "cert.pem")), "2 PEM blocks (DH PARAMETERS, CERTIFICATE)"},
		{"PEM headers", strings.Replace(string(safe), "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1), "unexpected PEM headers"},
		{"too big", string(safe) + strings.Repeat(" ", MaxInput), "DH parameters are at most 65536 bytes"},
		{"not DER", string(derPEM(pemType, []byte{0xde, 0xad, 0xbe, 0xef})), "DH PARAMETERS: bad DER"},
		{"bytes after the SEQUENCE", string(derPEM(pemType, append(der.Bytes[:len(der.Bytes):len(der.Bytes)], 0, 0))), "bad DER: 2 bytes after the SEQUENCE"},
		{"INTEGER not SEQUENCE", string(derPEM(pemType, mustMarshal(t, p))), "bad DER: want a SEQUENCE"},
		{"SET not SEQUENCE", string(derPEM(pemType, append([]byte{0x31}, der.Bytes[1:]...))), "want a SEQUENCE"},
		{"BER indefinite length", string(derPEM(pemType, []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00})), "bad DER"},
		{"non-minimal INTEGER", string(derPEM(pemType, []byte{0x30, 0x04, 0x02, 0x02, 0x00, 0x05})), "bad DER: element 1"},
		{"OCTET STRING element", string(derPEM(pemType, mustMarshal(t, struct{ A, B []byte }{[]byte{1}, []byte{2}}))), "bad DER: element 1"},
		{"only p", string(seqPEM(t, p)), "the SEQUENCE has 1 INTEGERs: want p and g"},
		{"empty SEQUENCE", string(seqPEM(t)), "has 0 INTEGERs"},
		{"four INTEGERs", string(seqPEM(t, p, g, big.NewInt(160), big.NewInt(1))), "more than 3 elements in the SEQUENCE: not PKCS#3"},
		{"negative p", string(seqPEM(t, new(big.Int).Neg(p), g)), "prime p is not positive"},
		{"zero g", string(seqPEM(t, p, big.NewInt(0))), "generator g is not positive"},
		{"negative g", string(seqPEM(t, p, big.NewInt(-2))), "generator g is not positive"},
		{"256-bit p", string(seqPEM(t, new(big.Int).Rsh(p, 1792), g)), "prime p has 256 bits: fewer than 512"},
		{"10001-bit p", string(seqPEM(t, new(big.Int).Add(pow2(10000), big.NewInt(1)), g)), "prime p has 10001 bits: more than 10000"},
		{"X9.42 q in third place", string(seqPEM(t, p, g, new(big.Int).Rsh(p, 1792))), "privateValueLength"},
		{"negative privateValueLength", string(seqPEM(t, p, g, big.NewInt(-1))), "privateValueLength -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePEM([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParsePEM succeeded (p %d bits), want error %q", got.Bits(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMarshalPEMMatchesOpenSSL: what we write is what `openssl dhparam -in`
// writes for the same parameters, byte for byte.
func TestMarshalPEMMatchesOpenSSL(t *testing.T) {
	for _, name := range []string{"safe2048.pem", "ffdhe2048.pem", "safe2048-text.pem"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			want := openssl(t, "dhparam", "-in", path, "-outform", "PEM")
			p, err := ParsePEM(readTestdata(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.MarshalPEM(); !bytes.Equal(got, want) {
				t.Errorf("MarshalPEM:\n%s\nopenssl dhparam -in %s:\n%s", got, path, want)
			}
			// And back: parsing our output gives the same numbers.
			again, err := ParsePEM(p.MarshalPEM())
			if err != nil || again.P.Cmp(p.P) != 0 || again.G.Cmp(p.G) != 0 {
				t.Errorf("round trip: %v", err)
			}
		})
	}
}

func TestBits(t *testing.T) {
	var nilParams *Params
	tests := []struct {
		p    *Params
		want int
	}{
		{nilParams, 0},
		{&Params{}, 0},
		{&Params{P: big.NewInt(23), G: big.NewInt(2)}, 5},
	}
	for _, tt := range tests {
		if got := tt.p.Bits(); got != tt.want {
			t.Errorf("Bits(%v) = %d, want %d", tt.p, got, tt.want)
		}
	}
}
