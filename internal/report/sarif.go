package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"unicode"
)

func init() { Formats["sarif"] = writeSARIF }

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "hubsecrets"
	toolURI      = "https://github.com/hubsecrets/packer-plugin-jupyterhub"
	// rootBaseID names the scanned root; result URIs are relative to it.
	rootBaseID = "ROOTPATH"
	// fingerprintKey versions the partial fingerprint: change the suffix if
	// what is hashed changes, so code scanning does not match old alerts.
	fingerprintKey = "hubsecretsFingerprint/v1"
)

// The SARIF 2.1.0 subset hubsecrets writes, as GitHub code scanning reads it.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool               sarifTool                `json:"tool"`
		AutomationDetails  *sarifAutomation         `json:"automationDetails,omitempty"`
		OriginalURIBaseIDs map[string]sarifArtifact `json:"originalUriBaseIds,omitempty"`
		Results            []sarifResult            `json:"results"`
		Properties         map[string]string        `json:"properties,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		Name                 string         `json:"name,omitempty"`
		ShortDescription     sarifText      `json:"shortDescription"`
		FullDescription      sarifText      `json:"fullDescription"`
		Help                 sarifText      `json:"help"`
		DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
		Properties           sarifRuleProps `json:"properties"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifRuleProps struct {
		Tags []string `json:"tags"`
	}
	sarifAutomation struct {
		ID string `json:"id"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
)

// writeSARIF writes one SARIF log with one run per report.
func writeSARIF(w io.Writer, reports []Report, opts Options) error {
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{}}
	for _, r := range sorted(reports) {
		log.Runs = append(log.Runs, sarifRunOf(r, opts, len(reports) > 1))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func sarifRunOf(r Report, opts Options, several bool) sarifRun {
	rules := sarifRules(r)
	index := make(map[string]int, len(rules))
	for i, rule := range rules {
		index[rule.ID] = i
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: toolName, InformationURI: toolURI, Version: opts.Version, Rules: rules,
		}},
		Results:    []sarifResult{}, // an empty list closes alerts; null would not
		Properties: map[string]string{"profile": r.Profile, "root": r.Root},
	}
	if r.Host != "" {
		run.Properties["host"] = r.Host
	}
	// Code scanning keeps one analysis per tool and category (the id up to
	// its last "/"): runs for different hosts or roots need their own.
	if r.Host != "" || several {
		label := strings.Trim(r.subject(), "/")
		if label == "" {
			label = "root"
		}
		run.AutomationDetails = &sarifAutomation{ID: toolName + "/" + r.Profile + "/" + label + "/"}
	}
	if uri, ok := rootDirURI(r); ok {
		run.OriginalURIBaseIDs = map[string]sarifArtifact{rootBaseID: {URI: uri}}
	}
	for _, f := range r.Findings {
		msg := f.Msg
		if f.Fix != "" {
			msg += " Fix: " + f.Fix
		}
		run.Results = append(run.Results, sarifResult{
			RuleID:    f.ID,
			RuleIndex: index[f.ID],
			Level:     sarifLevel(f.Severity),
			Message:   sarifText{Text: msg},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: relativeURI(f.Path), URIBaseID: rootBaseID},
				Region:           sarifRegion{StartLine: 1},
			}}},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f.ID, f.Path)},
		})
	}
	return run
}

// sarifRules lists the report's rules, plus one made from the finding for
// any rule id that Report.Rules lacks (a user policy without METADATA):
// every result's ruleId must name a rule. Sorted by id; ruleIndex points
// into this list.
func sarifRules(r Report) []sarifRule {
	seen := map[string]bool{}
	var rules []Rule
	for _, rule := range r.Rules {
		if !seen[rule.ID] {
			seen[rule.ID] = true
			rules = append(rules, rule)
		}
	}
	for _, f := range r.Findings {
		if !seen[f.ID] {
			seen[f.ID] = true
			rules = append(rules, Rule{ID: f.ID, Title: f.Title, Severity: f.Severity})
		}
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	out := make([]sarifRule, 0, len(rules))
	for _, rule := range rules {
		title := firstNonEmpty(rule.Title, rule.ID)
		desc := firstNonEmpty(rule.Description, title)
		out = append(out, sarifRule{
			ID:                   rule.ID,
			Name:                 camelCase(firstNonEmpty(rule.Title, rule.ID)),
			ShortDescription:     sarifText{Text: title},
			FullDescription:      sarifText{Text: desc},
			Help:                 sarifText{Text: desc},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(rule.Severity)},
			Properties:           sarifRuleProps{Tags: []string{"security"}},
		})
	}
	return out
}

func sarifLevel(severity string) string {
	if severity == SeverityDeny {
		return "error"
	}
	return "warning"
}

// relativeURI turns a path inside the root into a URI reference relative
// to ROOTPATH: "/srv/jupyterhub/x" becomes "srv/jupyterhub/x", escaped.
func relativeURI(p string) string {
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		return "./"
	}
	return (&url.URL{Path: rel}).String()
}

// rootDirURI is the scanned root as a file URI ending in "/", when it is a
// local directory: not for a host (its path is on another machine), a
// relative root (would depend on where the report is read) or an archive.
func rootDirURI(r Report) (string, bool) {
	if r.Host != "" || !path.IsAbs(r.Root) || isArchive(r.Root) {
		return "", false
	}
	dir := path.Clean(r.Root)
	if dir != "/" {
		dir += "/"
	}
	return (&url.URL{Scheme: "file", Path: dir}).String(), true
}

func isArchive(p string) bool {
	base := strings.ToLower(path.Base(p))
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tar.bz2", ".tbz2"} {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

// fingerprint identifies a finding across scans: the same rule failing on
// the same path is the same alert, whatever the message says.
func fingerprint(ruleID, p string) string {
	sum := sha256.Sum256([]byte(ruleID + "\x00" + p))
	return hex.EncodeToString(sum[:])
}

// camelCase makes a SARIF rule name from a title: "Cookie secret mode is
// too open" becomes "CookieSecretModeIsTooOpen".
func camelCase(s string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(s, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	}) {
		r := []rune(word)
		b.WriteString(strings.ToUpper(string(r[0])) + string(r[1:]))
	}
	return b.String()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
