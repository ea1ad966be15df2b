package report

import (
	"bytes"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The golden files' clock: every test of this package sees it.
func init() { now = func() time.Time { return time.UnixMilli(1767225600123) } }

// requirePromtool returns promtool's path, skipping the test without it,
// or failing it under HUBSECRETS_REQUIRE_TOOLS=1 (CI).
func requirePromtool(t *testing.T) string {
	t.Helper()
	return testenv.NeedTool(t, "promtool", "Prometheus's own tool reads the format and the example rules (Debian package prometheus)")
}

func prom(t *testing.T, reports []Report, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write("prometheus", &b, reports, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// awkward is a report whose labels need every escape the format has.
func awkward() Report {
	return Report{Profile: "instance", Root: "/", Host: `hub"1\n`, Findings: []Finding{
		{ID: "HUB012", Severity: SeverityDeny, Path: "/srv/a\"b\\c\nd", Msg: "mode 0644"},
		{ID: "HUB040", Severity: SeverityWarn, Path: "/srv/jupyterhub/\xff\xfe", Msg: "stray"},
	}}
}

func TestPrometheusEscapes(t *testing.T) {
	out := prom(t, []Report{awkward()}, Options{Version: "v1 \"x\"\\"})
	for _, want := range []string{
		`hubsecrets_finding{host="hub\"1\\n",id="HUB012",path="/srv/a\"b\\c\nd",severity="deny"} 1` + "\n",
		// A run of invalid UTF-8 is one U+FFFD.
		`hubsecrets_finding{host="hub\"1\\n",id="HUB040",path="/srv/jupyterhub/` + "\uFFFD" + `",severity="warn"} 1` + "\n",
		`hubsecrets_build_info{version="v1 \"x\"\\"} 1` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	// Every sample is one line: a raw line feed in a label would split it.
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(line, "# ") && !strings.HasPrefix(line, "hubsecrets_") {
			t.Errorf("stray line %q", line)
		}
	}
}

// TestPrometheusSeries checks the values: success, counts by severity
// (both always present), one series per finding, a repeated finding
// counted on one series, the host label only for hosts.
func TestPrometheusSeries(t *testing.T) {
	dup := findingsReport()
	dup.Findings = append(dup.Findings, dup.Findings[1]) // HUB001 on the same path again
	unscanned := Report{Profile: "instance", Root: "/", Host: "hub3.example.org", Errors: []string{"ssh: connect: connection refused"}}
	partial := Report{Profile: "instance", Root: "/", Host: "hub4.example.org", Errors: []string{"/srv/jupyterhub: permission denied"},
		Findings: []Finding{{ID: "HUB012", Severity: SeverityDeny, Path: "/srv/jupyterhub/jupyterhub_cookie_secret"}}}
	tests := []struct {
		name    string
		reports []Report
		want    []string
		not     []string
	}{
		{"local, clean", []Report{emptyReport()},
			[]string{"hubsecrets_check_success 1\n", `hubsecrets_findings{severity="deny"} 0` + "\n", `hubsecrets_findings{severity="warn"} 0` + "\n",
				"hubsecrets_check_last_run_timestamp_seconds 1767225600.123\n"},
			[]string{"hubsecrets_finding{", "host="}},
		{"local, repeated finding", []Report{dup},
			[]string{`hubsecrets_finding{id="HUB001",path="/srv/jupyterhub/jupyterhub_cookie_secret",severity="deny"} 2` + "\n",
				`hubsecrets_findings{severity="deny"} 3` + "\n", `hubsecrets_findings{severity="warn"} 2` + "\n"},
			nil},
		{"hosts and an unscanned one", append(hostReports(), unscanned, partial),
			[]string{`hubsecrets_check_success{host="hub1.example.org"} 1` + "\n",
				`hubsecrets_check_success{host="hub3.example.org"} 0` + "\n",
				`hubsecrets_check_success{host="hub4.example.org"} 0` + "\n",
				`hubsecrets_findings{host="hub3.example.org",severity="deny"} 0` + "\n",
				`hubsecrets_findings{host="hub2.example.org",severity="deny"} 0` + "\n",
				`hubsecrets_finding{host="hub1.example.org",id="HUB002",path="/srv/jupyterhub/jupyterhub-proxy.token",severity="deny"} 1` + "\n",
				`hubsecrets_finding{host="hub4.example.org",id="HUB012",path="/srv/jupyterhub/jupyterhub_cookie_secret",severity="deny"} 1` + "\n",
				`hubsecrets_check_last_run_timestamp_seconds{host="hub3.example.org"} 1767225600.123` + "\n"},
			[]string{`host="hub2.example.org",id="HUB002"`, "connection refused", "permission denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := prom(t, tt.reports, Options{})
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q in\n%s", n, out)
				}
			}
			if strings.Contains(out, "hubsecrets_build_info") {
				t.Error("build_info without a version")
			}
		})
	}
}

// TestPromtoolCheckMetrics has Prometheus' own parser and linter read every
// fixture, the awkward one included.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := requirePromtool(t)
	sets := map[string][]Report{"awkward": {awkward()}, "unscanned": {{Host: "h", Errors: []string{"x"}}}}
	for _, fx := range fixtures {
		sets[fx.name] = fx.reports()
	}
	for name, reports := range sets {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(prom(t, reports, testOpts))
			out, err := cmd.CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}
