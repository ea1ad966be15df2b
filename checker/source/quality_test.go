package source

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// The thresholds of policy/secrets.rego's HUB036 (low-quality secret).
func lowQuality(q facts.Quality) bool {
	return q.KnownExample || q.Period <= 8 || q.LongestMonotoneRun >= 12 ||
		q.Digits >= 32 && q.DistinctDigits < 8
}

func TestHexQuality(t *testing.T) {
	tests := []struct {
		name, in string
		want     facts.Quality
	}{
		{"zeros", fmt.Sprintf("%064d\n", 0), facts.Quality{Digits: 64, Period: 1, LongestMonotoneRun: 1, DistinctDigits: 1, KnownExample: true}},
		{"all f upper", strings.Repeat("F", 64), facts.Quality{Digits: 64, Period: 1, LongestMonotoneRun: 1, DistinctDigits: 1, KnownExample: true}},
		{"deadbeef", strings.Repeat("deadbeef", 8), facts.Quality{Digits: 64, Period: 8, LongestMonotoneRun: 2, DistinctDigits: 5, KnownExample: true}},
		{"counting up", strings.Repeat("0123456789abcdef", 4), facts.Quality{Digits: 64, Period: 16, LongestMonotoneRun: 64, DistinctDigits: 16, KnownExample: true}},
		{"counting down", "fedcba9876543210" + strings.Repeat("13", 24), facts.Quality{Digits: 64, Period: 64, LongestMonotoneRun: 16, DistinctDigits: 16}},
		{"period 9", strings.Repeat("123456789", 7) + "1", facts.Quality{Digits: 64, Period: 9, LongestMonotoneRun: 9, DistinctDigits: 9}},
		{"fake token", "3f1c9a0e5b7d2468ace013579bdf2468ace013579bdf2468ace013579bdf0246", facts.Quality{Digits: 64, Period: 64, LongestMonotoneRun: 2, DistinctDigits: 16, KnownExample: true}},
		{"hashauthenticator's README", "0FAFB0682A493485ED4E764D92ABAB1199D73246477C5DAAC7E0371BA541DD66\r\n", facts.Quality{Digits: 64, Period: 64, LongestMonotoneRun: 2, DistinctDigits: 16, KnownExample: true}},
		{"few digits", strings.Repeat("0", 30) + "1122334455667" + strings.Repeat("3", 21), facts.Quality{Digits: 64, Period: 64, LongestMonotoneRun: 2, DistinctDigits: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := SummariseSecret([]byte(tt.in))
			if s.Quality == nil || *s.Quality != tt.want {
				t.Errorf("Quality = %+v, want %+v", s.Quality, tt.want)
			}
		})
	}
}

// TestRandomSecretsPass: the secrets the first-boot script makes (32 random
// bytes as hex) never trip HUB036's thresholds.
func TestRandomSecretsPass(t *testing.T) {
	b := make([]byte, 32)
	for i := range 10000 {
		rand.Read(b)
		s := SummariseSecret([]byte(hex.EncodeToString(b) + "\n"))
		if s.Quality == nil || lowQuality(*s.Quality) {
			t.Fatalf("random secret %d judged low quality: %+v", i, s.Quality)
		}
	}
}
