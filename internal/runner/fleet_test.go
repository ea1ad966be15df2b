package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/waiver"
)

// validSARIF checks a SARIF document against the OASIS SARIF 2.1.0 schema
// kept in internal/report/testdata, with OPA's json.match_schema.
func validSARIF(t *testing.T, b []byte) {
	t.Helper()
	schema, err := os.ReadFile(filepath.Join("..", "report", "testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(rego.Query("result := json.match_schema(input.doc, input.schema)"),
		rego.Input(map[string]any{"doc": doc, "schema": string(schema)})).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res := rs[0].Bindings["result"].([]any); res[0] != true {
		t.Fatalf("not valid SARIF 2.1.0: %v", res[1])
	}
}

// fleet is 50 hosts: the tutorial's result and correct instances in turn,
// and two hosts that cannot be scanned (a changed host key, a refused
// connection).
func fleet(t *testing.T) ([]Source, map[string]string) {
	good, bad := collectTree(t, testtree.Correct(t)), collectTree(t, testtree.Tutorial(t))
	down := map[string]string{
		"hub07.example.org": "ssh: handshake failed: knownhosts: key mismatch: the host key of hub07.example.org changed",
		"hub31.example.org": "dial tcp 192.0.2.31:22: connect: connection refused",
	}
	var srcs []Source
	for i := range 50 {
		host := fmt.Sprintf("hub%02d.example.org", i)
		doc := *bad
		if i%2 == 1 {
			doc = *good
		}
		doc.Source = facts.Source{Kind: "ssh", Root: "/", Host: host}
		var err error
		if msg, ok := down[host]; ok {
			err = errors.New(msg)
		}
		srcs = append(srcs, Source{Label: "host root@" + host, Host: host, Root: "/", Kind: "ssh",
			Collect: func(context.Context) (*facts.Document, error) {
				if err != nil {
					return nil, err
				}
				return &doc, nil
			}})
	}
	return srcs, down
}

// A fleet of 50 hosts makes one SARIF file GitHub code scanning accepts:
// valid, at most 20 runs, every result naming its host, every rule with
// helpUri and security-severity, fingerprints distinct per host; the scan
// marked unsuccessful, the hosts that could not be scanned notified.
func TestFleetSARIF(t *testing.T) {
	srcs, down := fleet(t)
	eng := instanceEngine(t)
	results := Run(context.Background(), eng, srcs, 8)
	// Waive hub00's first finding, on hub00 only.
	first := results[0].Report.Findings[0]
	ws := &waiver.Set{File: "w.yaml", Waivers: []waiver.Waiver{{ID: first.ID, Path: first.Path, Host: "hub00.example.org",
		Reason: "rebuilt next week", Expires: "2999-12-31", Entry: "w.yaml: waivers[0]"}}}
	if w := Waive(results, ws, time.Now()); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}

	var b bytes.Buffer
	opts := report.Options{Version: "1.2.3", PolicyRevision: eng.PolicyRevision()}
	if err := (Output{Format: "sarif", Options: opts, Lines: true}).Write(&b, Reports(results)); err != nil {
		t.Fatal(err)
	}
	validSARIF(t, b.Bytes())

	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct{ URI string } `json:"artifactLocation"`
		} `json:"physicalLocation"`
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Version    string
					Properties map[string]string
					Rules      []struct {
						ID         string
						HelpURI    string `json:"helpUri"`
						Properties map[string]any
					}
				}
			}
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Message    struct{ Text string }
					Properties map[string]string
				} `json:"toolExecutionNotifications"`
			}
			Results []struct {
				RuleID              string            `json:"ruleId"`
				Locations           []location        `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Properties          map[string]string
				Suppressions        []struct{ Kind, Justification string }
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if n := len(log.Runs); n < 1 || n > 20 {
		t.Fatalf("%d runs: GitHub code scanning takes 1 to 20", n)
	}
	run := log.Runs[0]
	if len(log.Runs) != 1 {
		t.Errorf("%d runs for one invocation, want 1", len(log.Runs))
	}
	if run.Tool.Driver.Version != "1.2.3" || run.Tool.Driver.Properties["policyRevision"] == "" {
		t.Errorf("driver version %q, properties %v: want the tool version and the policy revision", run.Tool.Driver.Version, run.Tool.Driver.Properties)
	}
	for _, rule := range run.Tool.Driver.Rules {
		if !strings.HasPrefix(rule.HelpURI, "https://") || !strings.Contains(strings.ToLower(rule.HelpURI), strings.ToLower(rule.ID)) {
			t.Errorf("rule %s: helpUri %q", rule.ID, rule.HelpURI)
		}
		if s, _ := rule.Properties["security-severity"].(string); s != "8.0" && s != "5.0" {
			t.Errorf("rule %s: security-severity %q", rule.ID, s)
		}
	}
	hosts := map[string]int{}
	fingerprints := map[string]bool{}
	suppressed := 0
	for _, res := range run.Results {
		host := res.Properties["host"]
		hosts[host]++
		if host == "" || len(res.Locations) != 1 || !strings.HasPrefix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, host+"/") {
			t.Errorf("result %s: host %q, locations %+v", res.RuleID, host, res.Locations)
		}
		fp := res.PartialFingerprints["primaryLocationLineHash"]
		if fp == "" || fingerprints[fp] {
			t.Errorf("result %s on %s: fingerprint %q missing or repeated", res.RuleID, host, fp)
		}
		fingerprints[fp] = true
		if len(res.Suppressions) > 0 {
			suppressed++
			if host != "hub00.example.org" || res.RuleID != first.ID || res.Suppressions[0].Kind != "external" || res.Suppressions[0].Justification != "rebuilt next week" {
				t.Errorf("suppressed %s on %s: %+v", res.RuleID, host, res.Suppressions)
			}
		}
	}
	// The tutorial's hosts (even, but for none that is down) have findings.
	if len(hosts) != 25 {
		t.Errorf("results on %d hosts, want the 25 scanned tutorial hosts", len(hosts))
	}
	if suppressed != 1 {
		t.Errorf("the waiver for hub00's %s suppressed %d results, want 1", first.ID, suppressed)
	}
	if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful {
		t.Fatalf("invocations %+v: want one, unsuccessful (2 hosts not scanned)", run.Invocations)
	}
	notes := run.Invocations[0].ToolExecutionNotifications
	if len(notes) != len(down) {
		t.Fatalf("%d notifications, want %d", len(notes), len(down))
	}
	for _, n := range notes {
		host := n.Properties["host"]
		if down[host] == "" || !strings.Contains(n.Message.Text, down[host]) {
			t.Errorf("notification %+v", n)
		}
	}
	if Code(results, false) != ExitFailure {
		t.Errorf("code %d, want 2", Code(results, false))
	}
}

// A host that could not be scanned is in every format, never as a pass.
func TestUnscannedHostInEveryFormat(t *testing.T) {
	srcs, down := fleet(t)
	srcs = srcs[6:8] // hub06 scanned, hub07 whose host key changed
	results := Run(context.Background(), instanceEngine(t), srcs, 2)
	reports := Reports(results)
	const host = "hub07.example.org"
	write := func(format string) string {
		var b bytes.Buffer
		if err := (Output{Format: format, Lines: true}).Write(&b, reports); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}

	lines := strings.Split(strings.TrimSpace(write("json")), "\n")
	var line report.Report
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &line) != nil || line.Host != host ||
		len(line.Errors) != 1 || line.Errors[0] != down[host] || len(line.Findings) != 0 {
		t.Errorf("json: %q", lines)
	}

	var suites struct {
		Errors int `xml:"errors,attr"`
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name  string `xml:"name,attr"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(write("junit")), &suites); err != nil {
		t.Fatal(err)
	}
	last := suites.Suites[len(suites.Suites)-1]
	if suites.Errors != 1 || len(suites.Suites) != 2 || !strings.Contains(last.Name, host) || len(last.Cases) != 1 ||
		last.Cases[0].Error == nil || last.Cases[0].Error.Message != down[host] {
		t.Errorf("junit: %+v", suites)
	}

	text := write("text")
	if !strings.Contains(text, "host "+host+"\nNOT CHECKED  "+down[host]+"\nNOT CHECKED: host "+host+" (1 error)") ||
		strings.Contains(text, host+" passes") {
		t.Errorf("text:\n%s", text)
	}

	sarif := write("sarif")
	validSARIF(t, []byte(sarif))
	if !strings.Contains(sarif, `"executionSuccessful": false`) || !strings.Contains(sarif, down[host]) {
		t.Errorf("sarif: no unsuccessful invocation naming %s:\n%.2000s", host, sarif)
	}
}
