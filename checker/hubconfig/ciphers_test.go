package hubconfig

import (
	"math/rand"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

func TestDHESuites(t *testing.T) {
	rsaDefault := []string{"DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256",
		"DHE-RSA-AES256-SHA256", "DHE-RSA-AES128-SHA256", "DHE-RSA-AES256-SHA", "DHE-RSA-AES128-SHA"}
	tests := []struct {
		ciphers string
		count   int      // -1: an error
		want    []string // checked when not nil
	}{
		{"HIGH:!aNULL:!MD5", 29, nil}, // nginx's default
		{"DEFAULT", 7, rsaDefault},
		{"DEFAULT:!DHE", 0, nil},
		{"DEFAULT:DHE-RSA-AES128-CCM", 7, rsaDefault}, // DEFAULT killed it for good
		{"DEFAULTX", 7, rsaDefault},
		{" DEFAULT", 0, nil},
		{"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305", 0, nil},
		{"ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-CHACHA20-POLY1305", 2,
			[]string{"DHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256"}},
		{"EECDH+AESGCM:EDH+AESGCM", 4, nil},
		{"kEDH+AESGCM", 6, nil},
		{"ALL:-DHE:DHE", 39, nil},
		{"ALL:!DHE:DHE", 10, nil}, // the anonymous ones DHE excludes
		{"aRSA:!kDHE+AESGCM:DHE-RSA-AES128-GCM-SHA256", 15, nil},
		{"ALL:-kDHE+AESGCM:DHE-RSA-AES128-GCM-SHA256", 34, nil},
		{"HIGH:-kDHE:+DHE", 0, nil},
		{"ECDHE", 0, nil},
		{"SUITEB128:DHE", 0, nil},
		{"ALL!DHE", 10, nil},
		{"FOO!DHE", 0, nil}, // an unknown name skips to the next separator
		{"FOO:DHE-RSA-AES128-SHA", 1, nil},
		{"DHE@SECLEVEL=5", 29, nil},
		{"DHE:@STRENGTH", 29, nil},
		{"DHE:@FOO", -1, nil},
		{"DHE+", -1, nil},
		{"DHE:$x", -1, nil},
		{"", 0, nil},
	}
	for _, tt := range tests {
		got, err := DHESuites(tt.ciphers)
		switch {
		case tt.count < 0 && err == nil:
			t.Errorf("%q: no error, want one", tt.ciphers)
		case tt.count >= 0 && err != nil:
			t.Errorf("%q: %v", tt.ciphers, err)
		case tt.count >= 0 && len(got) != tt.count:
			t.Errorf("%q: %d suites %v, want %d", tt.ciphers, len(got), got, tt.count)
		case tt.want != nil && !slices.Equal(got, tt.want):
			t.Errorf("%q: %v, want %v", tt.ciphers, got, tt.want)
		}
	}
}

// TestDHESuitesMatchesOpenSSL compares the evaluator with the real
// `openssl ciphers` on hand-picked and random cipher strings.
func TestDHESuitesMatchesOpenSSL(t *testing.T) {
	why := "the cipher-string evaluator is compared with openssl ciphers"
	openssl := testenv.NeedTool(t, "openssl", why)
	if out, _ := exec.Command(openssl, "version").Output(); !strings.HasPrefix(string(out), "OpenSSL 3.") {
		testenv.Missing(t, "OpenSSL 3 (this is "+strings.TrimSpace(string(out))+")", why+": the evaluator models OpenSSL 3's DHE suites")
	}
	words := []string{
		"ALL", "HIGH", "MEDIUM", "LOW", "DEFAULT", "COMPLEMENTOFDEFAULT", "COMPLEMENTOFALL",
		"kDHE", "kEDH", "DH", "DHE", "EDH", "ADH", "ECDHE", "kECDHE", "EECDH", "kRSA", "RSA", "PSK", "kDHEPSK",
		"aRSA", "aDSS", "DSS", "aNULL", "aECDSA", "eNULL", "NULL",
		"AES", "AES128", "AES256", "AESGCM", "AESCCM", "AESCCM8", "CHACHA20", "CAMELLIA", "CAMELLIA128",
		"CAMELLIA256", "ARIA", "ARIAGCM", "ARIA128", "ARIA256", "CBC", "SEED", "3DES", "RC4",
		"SHA1", "SHA", "SHA256", "SHA384", "MD5", "SSLv3", "TLSv1", "TLSv1.0", "TLSv1.2", "FIPS",
		"FOO", "dhe", "AEAD",
		"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-CCM8", "DHE-DSS-CAMELLIA128-SHA", "ADH-AES256-SHA",
		"DHE-RSA-ARIA256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA", "DHE-PSK-AES128-CCM",
	}
	ops := []string{"", "", "", "-", "+", "!"}
	seps := []string{":", ":", ":", ",", " ", ";"}
	rng := rand.New(rand.NewSource(7))
	cases := []string{
		"HIGH:!aNULL:!MD5", "DEFAULT", "DEFAULT:+DHE", "DEFAULT:-DHE:DHE", "ALL:-ALL:ADH", "kDHE+aRSA+aDSS",
		"AES128+AES256", "CBC+SHA256", "ALL:SUITEB128", "ALL!DHE", "FOO!DHE", "DHE@SECLEVEL=5",
		"EDH+aRSA+AES256", "ECDHE+AESGCM:DHE+AESGCM:!aDSS", "DHE-RSA-AES128-GCM-SHA256+AES",
		"AES128-GCM-SHA256+DHE", "DHE-RSA-AES128-GCM-SHA256+CHACHA20", "ALL:!COMPLEMENTOFDEFAULT",
	}
	for len(cases) < 400 {
		var b strings.Builder
		for i, n := 0, 1+rng.Intn(5); i < n; i++ {
			if i > 0 {
				b.WriteString(seps[rng.Intn(len(seps))])
			}
			b.WriteString(ops[rng.Intn(len(ops))])
			for j, m := 0, 1+rng.Intn(3); j < m; j++ {
				if j > 0 {
					b.WriteString("+")
				}
				b.WriteString(words[rng.Intn(len(words))])
			}
		}
		cases = append(cases, b.String())
	}
	compared := 0
	for _, c := range cases {
		out, err := exec.Command("openssl", "ciphers", "-v", "--", c).Output()
		got, gerr := DHESuites(c)
		if err != nil {
			// OpenSSL also fails when nothing at all is selected, which
			// the evaluator does not model: only its own errors must agree.
			continue
		}
		if gerr != nil {
			t.Errorf("%q: evaluator error %v, openssl accepts it", c, gerr)
			continue
		}
		var want []string
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[2] == "Kx=DH" {
				want = append(want, f[0])
			}
		}
		slices.Sort(want)
		got = slices.Clone(got)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n evaluator %v\n openssl   %v", c, got, want)
		}
		compared++
	}
	if compared < 200 {
		t.Errorf("only %d of %d strings were compared", compared, len(cases))
	}
	t.Logf("%d cipher strings agree with openssl", compared)
}
