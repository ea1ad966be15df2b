package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func writeString(t *testing.T, format string, reports []Report, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(format, &buf, reports, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestTextColor(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			plain := writeString(t, "text", fx.reports(), Options{})
			if strings.Contains(plain, "\x1b") {
				t.Errorf("escape code without Color:\n%q", plain)
			}
			colored := writeString(t, "text", fx.reports(), Options{Color: true})
			if !sgr.MatchString(colored) {
				t.Errorf("no colour with Color:\n%q", colored)
			}
			// Colour only decorates: the same text, the same columns.
			if got := sgr.ReplaceAllString(colored, ""); got != plain {
				t.Errorf("coloured output without its escapes differs:\n%s\nwant\n%s", got, plain)
			}
		})
	}
	colored := writeString(t, "text", []Report{findingsReport()}, Options{Color: true})
	for _, want := range []string{ansiRed + "DENY" + ansiReset, ansiYellow + "WARN" + ansiReset} {
		if !strings.Contains(colored, want) {
			t.Errorf("coloured output lacks %q", want)
		}
	}
}

func TestTextSummaryLine(t *testing.T) {
	deny := Finding{ID: "HUB001", Severity: SeverityDeny, Path: "/a", Msg: "m"}
	warn := Finding{ID: "HUB004", Severity: SeverityWarn, Path: "/b", Msg: "m"}
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{"deny and warnings", Report{Profile: "instance", Root: "/mnt/img", Findings: []Finding{deny, warn, warn}},
			"1 denied, 2 warnings (profile instance, root /mnt/img)"},
		{"one warning", Report{Profile: "image", Root: "/mnt/img", Findings: []Finding{warn}},
			"0 denied, 1 warning (profile image, root /mnt/img)"},
		{"host", Report{Profile: "instance", Root: "/", Host: "hub1", Findings: []Finding{deny}},
			"1 denied, 0 warnings (profile instance, host hub1)"},
		{"host below a root", Report{Profile: "instance", Root: "/chroot", Host: "hub1", Findings: []Finding{deny}},
			"1 denied, 0 warnings (profile instance, host hub1, root /chroot)"},
		{"passing", Report{Profile: "instance", Root: "/srv/img", Rules: instanceRules()},
			"no findings: root /srv/img passes the instance profile (5 rules)"},
		{"passing one rule", Report{Profile: "image", Root: "/", Rules: instanceRules()[:1]},
			"no findings: root / passes the image profile (1 rule)"},
		{"passing without rule list", Report{Profile: "image", Host: "hub1", Root: "/"},
			"no findings: host hub1 passes the image profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := writeString(t, "text", []Report{tt.r}, Options{})
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if got := lines[len(lines)-1]; got != tt.want {
				t.Errorf("summary = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTextBlocks checks each finding's block: severity, aligned id and
// path on the first line, the message indented below, then the fix.
func TestTextBlocks(t *testing.T) {
	r := findingsReport()
	out := writeString(t, "text", []Report{r}, Options{})
	lines := strings.Split(out, "\n")
	pathCol := -1
	for _, f := range r.Findings {
		i := indexOfPrefix(lines, strings.ToUpper(f.Severity)+"  "+f.ID+" ")
		if i < 0 {
			t.Fatalf("no line for %s in\n%s", f.ID, out)
		}
		line := lines[i]
		if !strings.HasSuffix(line, "  "+f.Path) {
			t.Errorf("line %q does not end with path %q", line, f.Path)
		}
		if col := len(line) - len(f.Path); pathCol < 0 {
			pathCol = col
		} else if col != pathCol {
			t.Errorf("path of %s starts at column %d, others at %d", f.ID, col, pathCol)
		}
		if want := "      " + f.Msg; lines[i+1] != want {
			t.Errorf("line after %s = %q, want the message %q", f.ID, lines[i+1], want)
		}
		if want := "      fix: " + f.Fix; lines[i+2] != want {
			t.Errorf("second line after %s = %q, want %q", f.ID, lines[i+2], want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"one two three", 7, []string{"one two", "three"}},
		{"averyveryverylongword x", 5, []string{"averyveryverylongword", "x"}},
		{"a  b\tc", 80, []string{"a b c"}},
	}
	for _, tt := range tests {
		if got := wrap(tt.in, tt.width); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func indexOfPrefix(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

func TestTextSeveralReportsHaveHeaders(t *testing.T) {
	out := writeString(t, "text", hostReports(), Options{})
	for _, h := range []string{"host hub1.example.org\n", "\nhost hub2.example.org\n"} {
		if !strings.Contains(out, h) {
			t.Errorf("no header %q in\n%s", h, out)
		}
	}
	single := writeString(t, "text", []Report{findingsReport()}, Options{})
	if strings.HasPrefix(single, "root ") {
		t.Errorf("a single report got a header:\n%s", single)
	}
}

// A file name in a scanned image is chosen by whoever built it: escape
// sequences in it must not reach the terminal.
func TestTextQuotesControlCharacters(t *testing.T) {
	r := Report{Profile: "image", Root: "/mnt/img", Findings: []Finding{{
		ID: "HUB004", Severity: SeverityWarn, Path: "/srv/jupyterhub/x\x1b]0;owned\a",
		Msg: "unexpected\r\nfile", Fix: "rm -f '/srv/jupyterhub/x\x1b]0;owned\a'",
	}}}
	out := writeString(t, "text", []Report{r}, Options{Color: true})
	plain := sgr.ReplaceAllString(out, "")
	if strings.ContainsAny(plain, "\x1b\a\r") {
		t.Errorf("control character reached the output: %q", plain)
	}
	for _, want := range []string{`/srv/jupyterhub/x\x1b]0;owned\a`, `unexpected\r\nfile`} {
		if !strings.Contains(plain, want) {
			t.Errorf("output lacks quoted %q: %q", want, plain)
		}
	}
}

func TestTextRootHintOnlyForDirectories(t *testing.T) {
	for kind, want := range map[string]bool{"dir": true, "tar": false, "ssh": false, "": false} {
		r := findingsReport()
		r.Kind = kind
		out := writeString(t, "text", []Report{r}, Options{})
		if got := strings.Contains(out, "run them as printed in a shell opened there with: sudo chroot /mnt/img /bin/sh\n"); got != want {
			t.Errorf("kind %q: hint shown %v, want %v", kind, got, want)
		}
	}
}

// The hint's chroot command works as printed whatever the root's name.
func TestTextRootHintQuotesTheRoot(t *testing.T) {
	for root, want := range map[string]string{
		"/mnt/img":       "sudo chroot /mnt/img /bin/sh\n",
		"/mnt/my img":    "sudo chroot '/mnt/my img' /bin/sh\n",
		"/mnt/it's $(x)": `sudo chroot '/mnt/it'\''s $(x)' /bin/sh` + "\n",
	} {
		r := findingsReport()
		r.Root = root
		out := writeString(t, "text", []Report{r}, Options{})
		if !strings.Contains(out, "The fixes name paths inside the scanned root "+root+" and run its commands: run them as printed in a shell opened there with: "+want) {
			t.Errorf("root %q: no hint ending %q in:\n%s", root, want, out)
		}
	}
}

// A waived finding is shown, marked, and counted apart; a report with
// errors never says it passes.
func TestTextWaivedAndNotChecked(t *testing.T) {
	r := emptyReport()
	r.Findings = []Finding{{ID: "HUB001", Severity: SeverityDeny, Path: "/srv/jupyterhub/jupyterhub_cookie_secret", Msg: "mode 0644",
		Waived: &Waived{Reason: "migration", Expires: "2027-06-30", Waiver: "w.yaml: waivers[0]"}}}
	out := writeString(t, "text", []Report{r}, Options{})
	for _, want := range []string{
		"WAIVED  HUB001  /srv/jupyterhub/jupyterhub_cookie_secret\n",
		"waived (deny) until 2027-06-30 by w.yaml: waivers[0]: migration\n",
		"nothing but waived findings: root / passes the instance profile (5 rules, 1 waived)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	r.Errors = []string{"could not check /srv/jupyterhub: permission denied"}
	out = writeString(t, "text", []Report{r}, Options{})
	if strings.Contains(out, "passes") || !strings.Contains(out, "NOT CHECKED  could not check /srv/jupyterhub: permission denied\n") ||
		!strings.HasSuffix(out, "NOT CHECKED: root / (1 error); found so far: 0 denied, 0 warnings, 1 waived\n") {
		t.Errorf("not checked:\n%s", out)
	}
}
