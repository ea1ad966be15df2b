package report

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, r := range []Report{findingsReport(), emptyReport(), hostReports()[0]} {
		t.Run(r.Root+r.Host, func(t *testing.T) {
			var got Report
			if err := json.Unmarshal([]byte(writeString(t, "json", []Report{r}, Options{})), &got); err != nil {
				t.Fatal(err)
			}
			want := sorted([]Report{r})[0]
			want.Rules, want.Kind = nil, "" // not part of the json format
			if want.Findings == nil {
				want.Findings = []Finding{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestJSONFields checks the documented shape, and that nothing but the
// fields of Report, Finding and Summary is written.
func TestJSONFields(t *testing.T) {
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			reports := fx.reports()
			out := writeString(t, "json", reports, Options{})
			var objs []map[string]any
			if len(reports) == 1 {
				objs = append(objs, nil)
				if err := json.Unmarshal([]byte(out), &objs[0]); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(out, "{\n  \"profile\"") {
					t.Errorf("one report is not indented: %.40q", out)
				}
			} else {
				// JSON Lines: one compact object per line.
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				if len(lines) != len(reports) {
					t.Fatalf("%d lines for %d reports", len(lines), len(reports))
				}
				for _, l := range lines {
					var m map[string]any
					if err := json.Unmarshal([]byte(l), &m); err != nil {
						t.Fatalf("line %q: %v", l, err)
					}
					objs = append(objs, m)
				}
			}
			for i, obj := range objs {
				want := []string{"findings", "profile", "root", "summary", "tool"}
				if reports[i].Host != "" {
					want = append(want, "host")
				}
				if len(reports[i].Errors) > 0 {
					want = append(want, "errors")
				}
				if len(reports[i].Warnings) > 0 {
					want = append(want, "warnings")
				}
				slices.Sort(want)
				if got := keys(obj); !slices.Equal(got, want) {
					t.Errorf("report keys %v, want %v", got, want)
				}
				findings, ok := obj["findings"].([]any)
				if !ok {
					t.Fatalf("findings is %T, want an array", obj["findings"])
				}
				if len(findings) != len(reports[i].Findings) {
					t.Errorf("%d findings, want %d", len(findings), len(reports[i].Findings))
				}
				waived := 0
				for _, f := range findings {
					want := []string{"fix", "id", "msg", "path", "severity", "title"}
					if _, ok := f.(map[string]any)["waived"]; ok {
						waived++
						want = append(want, "waived")
						if got := keys(f.(map[string]any)["waived"].(map[string]any)); !slices.Equal(got, []string{"expires", "reason", "waiver"}) {
							t.Errorf("waived keys %v", got)
						}
					}
					if got := keys(f.(map[string]any)); !slices.Equal(got, want) {
						t.Errorf("finding keys %v, want %v", got, want)
					}
				}
				wantSummary := []string{"deny", "warn"} // sorted, with "waived" between
				if waived > 0 {
					wantSummary = []string{"deny", "waived", "warn"}
				}
				if got, want := keys(obj["summary"].(map[string]any)), wantSummary; !slices.Equal(got, want) {
					t.Errorf("summary keys %v, want %v", got, want)
				}
			}
		})
	}
}

func TestJSONEmptyFindingsIsArray(t *testing.T) {
	r := emptyReport()
	r.Findings = nil
	if out := writeString(t, "json", []Report{r}, Options{}); !strings.Contains(out, `"findings": []`) {
		t.Errorf("want \"findings\": [] in\n%s", out)
	}
}

func TestJSONSummaryCounts(t *testing.T) {
	r := findingsReport()
	r.Summary = Summary{Deny: 99} // stale: the writer recounts
	var got Report
	if err := json.Unmarshal([]byte(writeString(t, "json", []Report{r}, Options{})), &got); err != nil {
		t.Fatal(err)
	}
	if want := (Summary{Deny: 2, Warn: 2}); got.Summary != want {
		t.Errorf("summary %+v, want %+v", got.Summary, want)
	}
}
