package waiver

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Waiver
	}{
		{"json", `{"waivers": [{"id": "HUB029", "path": "/srv/jupyterhub/*", "reason": "migration", "expires": "2027-06-30"}]}`,
			[]Waiver{{ID: "HUB029", Path: "/srv/jupyterhub/*", Reason: "migration", Expires: "2027-06-30", Entry: "w.yaml: waivers[0]"}}},
		{"yaml, an unquoted date, a host", "waivers:\n  - id: HUB012\n    host: 'hub-*'\n    reason: ok\n    expires: 2027-01-31\n  - id: SITE100\n    reason: r\n    expires: \"2026-12-01\"\n",
			[]Waiver{{ID: "HUB012", Host: "hub-*", Reason: "ok", Expires: "2027-01-31", Entry: "w.yaml: waivers[0]"},
				{ID: "SITE100", Reason: "r", Expires: "2026-12-01", Entry: "w.yaml: waivers[1]"}}},
		{"an empty list", `{"waivers": []}`, nil},
		{"no list yet", "waivers:\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("w.yaml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Waivers, tt.want) {
				t.Errorf("got %+v\nwant %+v", s.Waivers, tt.want)
			}
		})
	}
}

// Every mistake is refused with the file, the line, the entry and the
// field, and what to write instead.
func TestParseRefuses(t *testing.T) {
	entry := func(fields string) string {
		return `{"waivers": [{"id": "HUB001", "reason": "r", "expires": "2027-06-30"}, {` + fields + `}]}`
	}
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty file", "", []string{"w.yaml: empty"}},
		{"not yaml", "waivers: [", []string{"w.yaml: not YAML or JSON"}},
		{"a list at the top", `[{"id": "HUB001"}]`, []string{`want an object with a "waivers" list, not a list`}},
		{"unknown top key", `{"waiver": []}`, []string{`w.yaml:1: "waiver": unknown key`}},
		{"no waivers key", `{}`, []string{`no "waivers" key`}},
		{"waivers not a list", `{"waivers": {"id": "HUB001"}}`, []string{`"waivers": want a list of waivers, not an object`}},
		{"an entry not an object", `{"waivers": ["HUB001"]}`, []string{`waivers[0]: want an object`}},
		{"unknown key", entry(`"id": "HUB002", "reason": "r", "expires": "2027-06-30", "until": "x"`), []string{`waivers[1]: "until": unknown key (want id, path, host, reason, expires)`}},
		{"missing id", entry(`"reason": "r", "expires": "2027-06-30"`), []string{"waivers[1].id: required"}},
		{"blank id", entry(`"id": " ", "reason": "r", "expires": "2027-06-30"`), []string{"waivers[1].id: required"}},
		{"missing reason", entry(`"id": "HUB002", "expires": "2027-06-30"`), []string{"waivers[1].reason: required"}},
		{"missing expires", entry(`"id": "HUB002", "reason": "r"`), []string{"waivers[1].expires: required", "YYYY-MM-DD"}},
		{"bad date", entry(`"id": "HUB002", "reason": "r", "expires": "2027-13-01"`), []string{`waivers[1].expires "2027-13-01": not a date: want YYYY-MM-DD`}},
		{"date with a time", entry(`"id": "HUB002", "reason": "r", "expires": "2027-06-30T00:00:00Z"`), []string{`waivers[1].expires "2027-06-30T00:00:00Z": not a date`}},
		{"short date", entry(`"id": "HUB002", "reason": "r", "expires": "2027-6-30"`), []string{`not a date`}},
		{"null field", entry(`"id": "HUB002", "reason": null, "expires": "2027-06-30"`), []string{"waivers[1].reason: want a string, not null"}},
		{"list field", entry(`"id": ["HUB002"], "reason": "r", "expires": "2027-06-30"`), []string{"waivers[1].id: want a string, not a list"}},
		{"bad glob", entry(`"id": "HUB002", "path": "/srv/[", "reason": "r", "expires": "2027-06-30"`), []string{`waivers[1].path "/srv/[": not a valid glob`}},
		{"relative path", entry(`"id": "HUB002", "path": "srv/*", "reason": "r", "expires": "2027-06-30"`), []string{`waivers[1].path "srv/*": want an absolute path`}},
		{"double star", entry(`"id": "HUB002", "path": "/srv/**", "reason": "r", "expires": "2027-06-30"`), []string{`waivers[1].path "/srv/**": "**" is not supported`}},
		{"bad host glob", entry(`"id": "HUB002", "host": "hub[", "reason": "r", "expires": "2027-06-30"`), []string{`waivers[1].host "hub[": not a valid glob`}},
		{"two documents", "waivers: []\n---\nwaivers: []\n", []string{"w.yaml:2: holds more than one YAML document"}},
		{"line numbers", "waivers:\n  - id: HUB001\n    reason: r\n    expires: 2027-02-30\n", []string{`w.yaml:4: waivers[0].expires "2027-02-30": not a date`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("w.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			if !strings.HasPrefix(err.Error(), "waivers w.yaml") {
				t.Errorf("error %q does not name the file first", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "waivers.json")
	os.WriteFile(name, []byte(`{"waivers": [{"id": "HUB029", "reason": "r", "expires": "2027-06-30"}]}`), 0o644)
	s, err := Load(name)
	if err != nil || len(s.Waivers) != 1 || s.Waivers[0].Entry != name+": waivers[0]" {
		t.Fatalf("Load: %+v, %v", s, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestMatchesAndExpired(t *testing.T) {
	w := Waiver{ID: "HUB029", Path: "/srv/jupyterhub/*", Host: "hub-*.example.org", Expires: "2027-06-30"}
	tests := []struct {
		id, path, host string
		want           bool
	}{
		{"HUB029", "/srv/jupyterhub/jupyterhub_cookie_secret", "hub-1.example.org", true},
		{"HUB028", "/srv/jupyterhub/jupyterhub_cookie_secret", "hub-1.example.org", false},
		{"HUB029", "/srv/jupyterhub/sub/x", "hub-1.example.org", false}, // * stops at /
		{"HUB029", "/srv/jupyterhub", "hub-1.example.org", false},
		{"HUB029", "/srv/jupyterhub/x", "db-1.example.org", false},
		{"HUB029", "/srv/jupyterhub/x", "", false}, // a local root has no host
		// Reports name hosts as they were reached: the user and port too.
		{"HUB029", "/srv/jupyterhub/x", "root@hub-1.example.org", true},
		{"HUB029", "/srv/jupyterhub/x", "admin@hub-1.example.org:2222", true},
		{"HUB029", "/srv/jupyterhub/x", "admin@[::1]:2222", false},
		{"HUB029", "/srv/jupyterhub/x", "root@db-1.example.org:22", false},
	}
	for _, tt := range tests {
		if got := w.Matches(tt.id, tt.path, tt.host); got != tt.want {
			t.Errorf("Matches(%q, %q, %q) = %v, want %v", tt.id, tt.path, tt.host, got, tt.want)
		}
	}
	any := Waiver{ID: "HUB029"}
	if !any.Matches("HUB029", "/anything", "") || !any.Matches("HUB029", "/x", "hub1") ||
		!(Waiver{ID: "HUB029", Host: "root@hub1:*"}).Matches("HUB029", "/x", "root@hub1:2222") {
		t.Error("a waiver without path or host must match every path and source")
	}
	for _, tt := range []struct {
		now  string
		want bool
	}{
		{"2027-06-29T12:00:00Z", false},
		{"2027-06-30T23:59:59Z", false}, // the expires day still waives
		{"2027-07-01T00:00:00Z", true},
		{"2027-07-01T01:00:00+02:00", false}, // 2027-06-30 23:00 UTC
	} {
		now, _ := time.Parse(time.RFC3339, tt.now)
		if got := w.Expired(now); got != tt.want {
			t.Errorf("Expired(%s) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func finding(id, sev, p string) report.Finding {
	return report.Finding{ID: id, Severity: sev, Path: p, Msg: "m"}
}

func TestApply(t *testing.T) {
	now, _ := time.Parse(time.RFC3339, "2027-01-15T10:00:00Z")
	rules := []report.Rule{{ID: "HUB001"}, {ID: "HUB004"}, {ID: "HUB029"}}
	reports := []report.Report{
		{Host: "hub1", Rules: rules, Findings: []report.Finding{
			finding("HUB001", report.SeverityDeny, "/srv/jupyterhub/jupyterhub_cookie_secret"),
			finding("HUB004", report.SeverityWarn, "/srv/jupyterhub/stray"),
			finding("HUB029", report.SeverityDeny, "/srv/jupyterhub/x"),
		}},
		{Host: "hub2", Rules: rules, Findings: []report.Finding{
			finding("HUB001", report.SeverityDeny, "/srv/jupyterhub/jupyterhub_cookie_secret"),
		}},
		{Host: "hub3", Errors: []string{"connection refused"}},
	}
	set := &Set{File: "w.yaml", Waivers: []Waiver{
		{ID: "HUB001", Host: "hub1", Reason: "until the migration", Expires: "2027-06-30", Entry: "w.yaml: waivers[0]"},
		{ID: "HUB029", Reason: "old", Expires: "2026-12-31", Entry: "w.yaml: waivers[1]"},               // expired, matches
		{ID: "HUB004", Path: "/etc/*", Reason: "r", Expires: "2027-06-30", Entry: "w.yaml: waivers[2]"}, // matches nothing
		{ID: "HUB999", Reason: "r", Expires: "2027-06-30", Entry: "w.yaml: waivers[3]"},                 // no such rule
		{ID: "HUB004", Path: "/x", Reason: "r", Expires: "2020-01-01", Entry: "w.yaml: waivers[4]"},     // expired, matches nothing
		{ID: "HUB029", Reason: "new", Expires: "2027-12-31", Entry: "w.yaml: waivers[5]"},               // waives what [1] no longer does
	}}
	before := slices.Clone(reports[0].Findings)
	got, warnings := set.Apply(reports, now)
	if !slices.Equal(reports[0].Findings, before) {
		t.Error("Apply changed the caller's findings")
	}

	hub1 := got[0]
	if hub1.Summary != (report.Summary{Deny: 0, Warn: 1, Waived: 2}) {
		t.Errorf("hub1 summary %+v, want 0 deny, 1 warn, 2 waived", hub1.Summary)
	}
	waived := map[string]string{}
	for _, f := range hub1.Findings {
		if f.Waived != nil {
			waived[f.ID] = f.Waived.Waiver + " " + f.Waived.Reason + " " + f.Waived.Expires
		}
	}
	if want := map[string]string{
		"HUB001": "w.yaml: waivers[0] until the migration 2027-06-30",
		"HUB029": "w.yaml: waivers[5] new 2027-12-31",
	}; len(waived) != 2 || waived["HUB001"] != want["HUB001"] || waived["HUB029"] != want["HUB029"] {
		t.Errorf("waived %v, want %v", waived, want)
	}
	if got[1].Summary != (report.Summary{Deny: 1}) {
		t.Errorf("hub2: the waiver is for hub1 only; summary %+v", got[1].Summary)
	}

	wantAll := []string{
		"w.yaml: waivers[1] (HUB029) expired on 2026-12-31 and no longer waives HUB029 at /srv/jupyterhub/x on hub1",
		"w.yaml: waivers[2] (HUB004 path /etc/*) matches no finding",
		"w.yaml: waivers[3] (HUB999): no rule HUB999 was evaluated",
		"w.yaml: waivers[4] (HUB004 path /x) expired on 2020-01-01 and matches no finding",
	}
	if len(warnings) != len(wantAll) {
		t.Fatalf("warnings:\n%s", strings.Join(warnings, "\n"))
	}
	for i, w := range wantAll {
		if !strings.HasPrefix(warnings[i], w) {
			t.Errorf("warning %d: %q, want it to start %q", i, warnings[i], w)
		}
	}
	// The expired waiver's warning is on the report of its finding; the
	// run-wide ones on every report, the unscanned one's too.
	if n := len(hub1.Warnings); n != 4 {
		t.Errorf("hub1 warnings %q", hub1.Warnings)
	}
	if n := len(got[1].Warnings); n != 3 || len(got[2].Warnings) != 3 {
		t.Errorf("hub2 warnings %q, hub3 warnings %q", got[1].Warnings, got[2].Warnings)
	}

	if r, w := (*Set)(nil).Apply(reports, now); len(w) != 0 || !slices.EqualFunc(r, reports, func(a, b report.Report) bool { return a.Host == b.Host }) {
		t.Errorf("a nil set: %v %v", r, w)
	}
}
