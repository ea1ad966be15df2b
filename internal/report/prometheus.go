package report

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

func init() { Formats["prometheus"] = writePrometheus }

// now is the clock of hubsecrets_check_last_run_timestamp_seconds; tests
// fix it.
var now = time.Now

// The metric families of the prometheus format, in the order written.
const (
	metricSuccess  = "hubsecrets_check_success"
	metricLastRun  = "hubsecrets_check_last_run_timestamp_seconds"
	metricFindings = "hubsecrets_findings"
	metricFinding  = "hubsecrets_finding"
	metricWaived   = "hubsecrets_finding_waived"
	metricBuild    = "hubsecrets_build_info"
)

// writePrometheus writes the Prometheus text exposition format, as
// node_exporter's textfile collector reads it (a FILE.prom in its
// directory, written atomically with --output so a scrape never reads half
// of it). Per report: whether the check was done in full, when it ran, the
// findings counted by severity (both severities always present, so an
// alert can compare with 0), and a series per finding labelled id,
// severity and path with the number of such findings (1, unless a rule
// found the same path twice): a fixed finding's series disappears. A
// report of a host adds a host label to its series; node_exporter adds the
// instance label itself. Nothing here can hold a secret: labels are rule
// ids, severities, paths and host names.
func writePrometheus(w io.Writer, reports []Report, opts Options) error {
	reports = sorted(reports)
	ts := strconv.FormatFloat(float64(now().UnixMilli())/1000, 'f', -1, 64)
	var b bytes.Buffer
	family := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, escapeHelp(help), name)
	}

	family(metricSuccess, "Whether the last check was done in full (1) or could not be done, or not all of it (0).")
	for _, r := range reports {
		ok := "1"
		if len(r.Errors) > 0 {
			ok = "0"
		}
		sample(&b, metricSuccess, hostLabels(r), ok)
	}
	family(metricLastRun, "When the last check ran, in seconds since the Unix epoch.")
	for _, r := range reports {
		sample(&b, metricLastRun, hostLabels(r), ts)
	}
	family(metricFindings, "The findings of the last check, by severity.")
	for _, r := range reports {
		for _, sev := range []struct {
			name string
			n    int
		}{{SeverityDeny, r.Summary.Deny}, {SeverityWarn, r.Summary.Warn}} {
			sample(&b, metricFindings, append(hostLabels(r), label{"severity", sev.name}), strconv.Itoa(sev.n))
		}
	}
	family(metricFinding, "A finding of the last check: the policy rule's id, its severity and the path; the value counts such findings.")
	for _, r := range reports {
		findingSamples(&b, metricFinding, r, false)
	}
	// A waived finding is no alert (it fails no check), but stays in sight
	// until the waiver's expiry: its own family, never in the ones above.
	if hasWaived(reports) {
		family(metricWaived, "A finding a waiver accepts (--waivers): the policy rule's id, its severity and the path; the value counts such findings.")
		for _, r := range reports {
			findingSamples(&b, metricWaived, r, true)
		}
	}
	if opts.Version != "" {
		family(metricBuild, "The hubsecrets version that ran the check (and whose built-in policy it used).")
		sample(&b, metricBuild, []label{{"version", opts.Version}}, "1")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// findingSamples writes a series per (id, severity, path) of r's findings
// that are waived, or not. The same rule may report one path twice (two
// messages): one series, as a repeated one would make node_exporter fail
// the scrape.
func findingSamples(b *bytes.Buffer, metric string, r Report, waived bool) {
	type key struct{ id, severity, path string }
	var order []key
	count := map[key]int{}
	for _, f := range r.Findings {
		if (f.Waived != nil) != waived {
			continue
		}
		k := key{f.ID, f.Severity, f.Path}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	for _, k := range order {
		ls := append(hostLabels(r), label{"id", k.id}, label{"path", k.path}, label{"severity", k.severity})
		sample(b, metric, ls, strconv.Itoa(count[k]))
	}
}

func hasWaived(reports []Report) bool {
	for _, r := range reports {
		if r.Summary.Waived > 0 {
			return true
		}
	}
	return false
}

type label struct{ name, value string }

// hostLabels are the labels that tell a report's series from another
// report's: its host, when it was scanned over the network.
func hostLabels(r Report) []label {
	if r.Host == "" {
		return nil
	}
	return []label{{"host", r.Host}}
}

func sample(b *bytes.Buffer, name string, labels []label, value string) {
	b.WriteString(name)
	if len(labels) > 0 {
		sort.SliceStable(labels, func(i, j int) bool { return labels[i].name < labels[j].name })
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l.name)
			b.WriteString(`="`)
			b.WriteString(escapeLabel(l.value))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(value)
	b.WriteByte('\n')
}

// escapeLabel escapes a label value as the text format wants: backslash,
// double quote and line feed. The format is UTF-8: invalid bytes (a path
// is any bytes) become U+FFFD rather than a file the scrape rejects.
func escapeLabel(s string) string {
	return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// escapeHelp escapes HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(strings.ToValidUTF8(s, "\uFFFD"))
}
