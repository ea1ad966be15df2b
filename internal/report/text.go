package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

func init() { Formats["text"] = writeText }

// ANSI SGR sequences; used only when Options.Color is set.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
)

// writeText prints, for people, one block per finding (severity, id and
// path on one line; the message, wrapped, and the fix below) and a summary
// line per report. Several reports get a header each.
func writeText(w io.Writer, reports []Report, opts Options) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !opts.Color {
			return s
		}
		return code + s + ansiReset
	}
	for i, r := range sorted(reports) {
		if len(reports) > 1 {
			if i > 0 {
				bw.WriteString("\n")
			}
			bw.WriteString(paint(ansiBold, clean(r.target())) + "\n")
		}
		idWidth := 0
		for _, f := range r.Findings {
			idWidth = max(idWidth, len([]rune(clean(f.ID))))
		}
		for _, f := range r.Findings {
			sev, code := "WARN", ansiYellow
			switch {
			case f.Waived != nil:
				sev, code = "WAIVED", ansiDim
			case f.Severity == SeverityDeny:
				sev, code = "DENY", ansiRed
			}
			// Pad before painting so escape codes do not skew the columns.
			fmt.Fprintf(bw, "%s  %s  %s\n", paint(code, pad(sev, sevWidth(r))), pad(clean(f.ID), idWidth), clean(f.Path))
			for _, line := range wrap(clean(f.Msg), textWidth-len(indent)) {
				bw.WriteString(indent + line + "\n")
			}
			if f.Fix != "" {
				fmt.Fprintf(bw, "%s%s %s\n", indent, paint(ansiDim, "fix:"), clean(f.Fix))
			}
			if w := f.Waived; w != nil {
				note := fmt.Sprintf("waived (%s) until %s by %s: %s", f.Severity, w.Expires, w.Waiver, w.Reason)
				for i, line := range wrap(clean(note), textWidth-len(indent)) {
					if i == 0 {
						line = paint(ansiDim, line)
					}
					bw.WriteString(indent + line + "\n")
				}
			}
		}
		if len(r.Findings) > 0 {
			if r.Kind == "dir" && r.Root != "" && r.Root != "/" {
				// A mounted image or a root to chroot into: the fixes name
				// paths as that root sees them and run its commands (sudo,
				// hubsecrets), so they work as printed in a shell there.
				fmt.Fprintf(bw, "%s\n", rootHint(r.Root))
			}
			bw.WriteString("\n")
		}
		// What was not checked, and how the report was judged, above the
		// summary: a host that could not be scanned has only these.
		for _, msg := range r.Errors {
			fmt.Fprintf(bw, "%s  %s\n", paint(ansiRed, "NOT CHECKED"), clean(msg))
		}
		for _, msg := range r.Warnings {
			fmt.Fprintf(bw, "%s  %s\n", paint(ansiYellow, "warning"), clean(msg))
		}
		bw.WriteString(summaryLine(r, paint) + "\n")
	}
	return bw.Flush()
}

// rootHint says how to run the fixes of a report on a root other than /:
// as printed, in a shell chrooted into it (which needs /bin/sh there, and
// sudo and hubsecrets for the fixes that call them).
func rootHint(root string) string {
	return fmt.Sprintf("The fixes name paths inside the scanned root %s and run its commands: run them as printed in a shell opened there with: sudo chroot %s /bin/sh",
		clean(root), shellQuote(clean(root)))
}

// shellQuote quotes s for a POSIX shell unless it needs no quoting.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:=@%+,-", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// indent starts the lines under a finding's first line; messages wrap at
// textWidth columns (fixes never wrap: they are commands to copy).
const (
	indent    = "      "
	textWidth = 100
)

// wrap splits s into lines of at most width runes at spaces; a longer word
// stays whole.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// summaryLine is the last line of a report: counts, profile and target, or
// what passed when nothing was found.
func summaryLine(r Report, paint func(code, s string) string) string {
	waived := ""
	if n := r.Summary.Waived; n > 0 {
		waived = fmt.Sprintf(", %d waived", n)
	}
	if len(r.Errors) > 0 {
		// Never a pass: what was found is only part of the answer.
		s := fmt.Sprintf("NOT CHECKED: %s (%d %s)", clean(r.target()), len(r.Errors), plural(len(r.Errors), "error", "errors"))
		if len(r.Findings) > 0 {
			s += fmt.Sprintf("; found so far: %d denied, %d %s%s", r.Summary.Deny, r.Summary.Warn,
				plural(r.Summary.Warn, "warning", "warnings"), waived)
		}
		return paint(ansiRed, s)
	}
	if r.Summary.Deny == 0 && r.Summary.Warn == 0 {
		lead := "no findings"
		if waived != "" {
			lead = "nothing but waived findings"
		}
		s := fmt.Sprintf("%s: %s passes the %s profile", lead, clean(r.target()), clean(r.Profile))
		if n := len(r.Rules); n > 0 {
			s += fmt.Sprintf(" (%d %s%s)", n, plural(n, "rule", "rules"), waived)
		} else if waived != "" {
			s += " (" + strings.TrimPrefix(waived, ", ") + ")"
		}
		return paint(ansiGreen, s)
	}
	counts := fmt.Sprintf("%d denied, %d %s%s", r.Summary.Deny, r.Summary.Warn,
		plural(r.Summary.Warn, "warning", "warnings"), waived)
	code := ansiYellow
	if r.Summary.Deny > 0 {
		code = ansiRed
	}
	return paint(code, counts) + fmt.Sprintf(" (profile %s, %s)", clean(r.Profile), clean(r.target()))
}

// sevWidth is the width of the severity column: "WAIVED" when a finding
// was waived, so the other columns stay aligned, else "DENY"/"WARN".
func sevWidth(r Report) int {
	if r.Summary.Waived > 0 {
		return len("WAIVED")
	}
	return len("DENY")
}

// target names what was scanned: "root /mnt/img", "host web1" or, for a
// host scanned below some other root, "host web1, root /srv/chroot".
func (r Report) target() string {
	if r.Host == "" {
		return "root " + r.Root
	}
	if r.Root == "" || r.Root == "/" {
		return "host " + r.Host
	}
	return "host " + r.Host + ", root " + r.Root
}

// subject is what passes or fails: the host, else the root.
func (r Report) subject() string {
	if r.Host != "" {
		return r.Host
	}
	return r.Root
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// pad right-pads s with spaces to width runes.
func pad(s string, width int) string {
	if n := len([]rune(s)); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// clean quotes control characters: paths come from the scanned image (an
// unexpected entry's name is the image builder's choice), and an escape
// sequence in one must not reach the reader's terminal.
func clean(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if unicode.IsControl(c) {
			q := strconv.QuoteRune(c)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
