package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testOpts are the options golden files are written with.
var testOpts = Options{Version: "0.3.1", PolicyRevision: "0.3.1"}

// instanceRules is what the instance profile evaluated, as the engine
// lists it from METADATA.
func instanceRules() []Rule {
	return []Rule{
		{ID: "HUB003", Title: "DH parameters are strong", Severity: SeverityWarn,
			Description: "dhparam.pem holds a safe prime of at least 2048 bits, ideally an RFC 7919 group."},
		{ID: "HUB001", Title: "Cookie secret is private", Severity: SeverityDeny,
			Description: "The cookie secret is a regular file owned by root with mode 0600 or stricter."},
		{ID: "HUB002", Title: "Proxy token is private", Severity: SeverityDeny,
			Description: "The proxy auth token is a regular file owned by root with mode 0600 or stricter."},
		{ID: "HUB004", Title: "No stray files", Severity: SeverityWarn,
			Description: "The secrets directory holds only the expected files."},
		{ID: "HUB005", Title: "Secrets are distinct", Severity: SeverityDeny,
			Description: "The cookie secret and the proxy token differ."},
	}
}

// findingsReport has deny and warn findings, given out of order, and one
// from a site rule that has no METADATA (so no Rule).
func findingsReport() Report {
	return Report{
		Profile: "instance",
		Root:    "/mnt/img",
		Kind:    "dir",
		Findings: []Finding{
			{ID: "HUB004", Severity: SeverityWarn, Path: "/srv/jupyterhub/jupyterhub_cookie_secretl",
				Title: "No stray files", Msg: "unexpected file in the secrets directory",
				Fix: "rm -f /srv/jupyterhub/jupyterhub_cookie_secretl"},
			{ID: "HUB001", Severity: SeverityDeny, Path: "/srv/jupyterhub/jupyterhub_cookie_secret",
				Title: "Cookie secret is private", Msg: `mode 0644 lets group and other read the cookie secret`,
				Fix: "chmod 0600 /srv/jupyterhub/jupyterhub_cookie_secret"},
			{ID: "SITE100", Severity: SeverityDeny, Path: "/etc/jupyterhub/jupyterhub_config.py",
				Title: "", Msg: `config sets "c.JupyterHub.cookie_secret" inline`,
				Fix: "grep -n cookie_secret /etc/jupyterhub/jupyterhub_config.py && remove the line"},
			{ID: "HUB003", Severity: SeverityWarn, Path: "/srv/jupyterhub/dhparam.pem",
				Title: "DH parameters are strong", Msg: "1024-bit prime < 2048 bits",
				Fix: "hubsecrets dhparam --group ffdhe2048 > /srv/jupyterhub/dhparam.pem"},
		},
		Rules: instanceRules(),
	}
}

func emptyReport() Report {
	return Report{Profile: "instance", Root: "/", Rules: instanceRules()}
}

// hostReports are a fleet scan: the same finding on two hosts.
func hostReports() []Report {
	stray := Finding{ID: "HUB004", Severity: SeverityWarn, Path: "/srv/jupyterhub/jupyterhub_cookie_secretl",
		Title: "No stray files", Msg: "unexpected file in the secrets directory",
		Fix: "rm -f /srv/jupyterhub/jupyterhub_cookie_secretl"}
	open := Finding{ID: "HUB002", Severity: SeverityDeny, Path: "/srv/jupyterhub/jupyterhub-proxy.token",
		Title: "Proxy token is private", Msg: "owner is jupyter (uid 1000), not root",
		Fix: "chown root:root /srv/jupyterhub/jupyterhub-proxy.token"}
	return []Report{
		{Profile: "instance", Root: "/", Host: "hub1.example.org", Findings: []Finding{stray, open}, Rules: instanceRules()},
		{Profile: "instance", Root: "/", Host: "hub2.example.org", Findings: []Finding{stray}, Rules: instanceRules()},
	}
}

// waivedReport is findingsReport with its HUB001 deny waived and a waiver
// warning, as internal/waiver leaves it.
func waivedReport() Report {
	r := findingsReport()
	for i, f := range r.Findings {
		if f.ID == "HUB001" {
			r.Findings[i].Waived = &Waived{Reason: "the hub group reads it until the migration (TICKET-12)",
				Expires: "2027-06-30", Waiver: "waivers.yaml: waivers[0]"}
		}
	}
	r.Warnings = []string{"waivers.yaml: waivers[1] (HUB029 path /srv/jupyterhub/*) matches no finding: remove it, or fix its id, path or host"}
	return r
}

// unscannedReports are a fleet scan where one host could not be scanned
// (as internal/runner reports it: errors, no findings, no rules) and one
// was scanned in part.
func unscannedReports() []Report {
	reports := hostReports()
	reports[1].Errors = []string{"could not check /srv/jupyterhub/dhparam.pem: permission denied"}
	return append(reports, Report{Profile: "instance", Root: "/", Host: "hub3.example.org", Kind: "ssh",
		Errors: []string{"ssh: handshake failed: knownhosts: key mismatch (the host key changed)"}})
}

// fixtures are the report sets every format is golden-tested with.
var fixtures = []struct {
	name    string
	reports func() []Report
}{
	{"findings", func() []Report { return []Report{findingsReport()} }},
	{"empty", func() []Report { return []Report{emptyReport()} }},
	{"hosts", hostReports},
	{"waived", func() []Report { return []Report{waivedReport()} }},
	{"unscanned", unscannedReports},
}

// goldenExt names each format's golden files.
var goldenExt = map[string]string{"text": "txt", "json": "json", "sarif": "sarif", "junit": "junit.xml", "prometheus": "prom"}

func TestGolden(t *testing.T) {
	for format, ext := range goldenExt {
		for _, fx := range fixtures {
			t.Run(format+"/"+fx.name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(format, &buf, fx.reports(), testOpts); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, fx.name+"."+ext, buf.Bytes())
			})
		}
	}
}

func TestFormatsRegistered(t *testing.T) {
	if got, want := FormatNames(), "json, junit, prometheus, sarif, text"; got != want {
		t.Errorf("FormatNames() = %q, want %q", got, want)
	}
}

// TestWriteKeepsInput checks that writers sort a copy: the caller's
// findings keep their order.
func TestWriteKeepsInput(t *testing.T) {
	reports := []Report{findingsReport()}
	before := append([]Finding(nil), reports[0].Findings...)
	for format := range goldenExt {
		if err := Write(format, &bytes.Buffer{}, reports, testOpts); err != nil {
			t.Fatal(err)
		}
		for i := range before {
			if reports[0].Findings[i] != before[i] {
				t.Fatalf("%s reordered the caller's findings", format)
			}
		}
	}
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
