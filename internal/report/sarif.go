package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
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
	// policyDocURI is the built-in rules' documentation: a HUBnnn rule
	// without METADATA related_resources links to its section, #hubnnn.
	policyDocURI = toolURI + "/blob/main/policy/README.md"
	// rootBaseID names the scanned root; result URIs are relative to it.
	rootBaseID = "ROOTPATH"
	// fingerprintKey is the partial fingerprint GitHub code scanning
	// matches alerts by across uploads.
	fingerprintKey = "primaryLocationLineHash"
	// maxRuns is GitHub code scanning's limit of runs per SARIF file.
	maxRuns = 20
)

// securitySeverity maps a finding's severity to the CVSS-like score GitHub
// code scanning ranks alerts by (a string, 0.0 to 10.0): a deny lets
// someone other than root (or the hub's user) read or replace a secret,
// or the hub not use it: "high" (7.0-8.9); a warning is a weakness with no
// such opening: "medium" (4.0-6.9).
var securitySeverity = map[string]string{SeverityDeny: "8.0", SeverityWarn: "5.0"}

// The SARIF 2.1.0 subset hubsecrets writes, as GitHub code scanning reads it.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool               sarifTool                `json:"tool"`
		Invocations        []sarifInvocation        `json:"invocations"`
		AutomationDetails  *sarifAutomation         `json:"automationDetails,omitempty"`
		OriginalURIBaseIDs map[string]sarifArtifact `json:"originalUriBaseIds,omitempty"`
		Results            []sarifResult            `json:"results"`
		Properties         map[string]string        `json:"properties,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string            `json:"name"`
		InformationURI string            `json:"informationUri"`
		Version        string            `json:"version,omitempty"`
		Rules          []sarifRule       `json:"rules"`
		Properties     map[string]string `json:"properties,omitempty"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		Name                 string         `json:"name,omitempty"`
		ShortDescription     sarifText      `json:"shortDescription"`
		FullDescription      sarifText      `json:"fullDescription"`
		Help                 sarifText      `json:"help"`
		HelpURI              string         `json:"helpUri,omitempty"`
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
		Tags             []string `json:"tags"`
		SecuritySeverity string   `json:"security-severity"`
	}
	sarifAutomation struct {
		ID string `json:"id"`
	}
	// An invocation is the run of the tool: unsuccessful when something
	// could not be checked, each such thing a notification.
	sarifInvocation struct {
		ExecutionSuccessful            bool                `json:"executionSuccessful"`
		ToolExecutionNotifications     []sarifNotification `json:"toolExecutionNotifications,omitempty"`
		ToolConfigurationNotifications []sarifNotification `json:"toolConfigurationNotifications,omitempty"`
	}
	sarifNotification struct {
		Level      string            `json:"level"`
		Message    sarifText         `json:"message"`
		Properties map[string]string `json:"properties,omitempty"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          map[string]string  `json:"properties,omitempty"`
	}
	sarifSuppression struct {
		Kind          string            `json:"kind"`
		Status        string            `json:"status"`
		Justification string            `json:"justification"`
		Properties    map[string]string `json:"properties,omitempty"`
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

// writeSARIF writes one SARIF log with one run per tool invocation, that
// is per profile (a CLI run has one), whatever the number of hosts: GitHub
// code scanning refuses a file of more than 20 runs. Each result names its
// host (or root) in its properties and its location.
func writeSARIF(w io.Writer, reports []Report, opts Options) error {
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{}}
	groups := groupByProfile(sorted(reports))
	if len(groups) > maxRuns {
		return fmt.Errorf("sarif: %d profiles in one file, GitHub code scanning takes at most %d runs", len(groups), maxRuns)
	}
	for _, g := range groups {
		log.Runs = append(log.Runs, sarifRunOf(g, opts, len(groups) > 1))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// groupByProfile splits reports by profile, in order of first appearance.
func groupByProfile(reports []Report) [][]Report {
	var groups [][]Report
	at := map[string]int{}
	for _, r := range reports {
		i, ok := at[r.Profile]
		if !ok {
			i = len(groups)
			at[r.Profile] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return groups
}

// sarifRunOf is one run for the reports of one invocation. several says
// the file holds other runs, which then need their own category.
func sarifRunOf(reports []Report, opts Options, several bool) sarifRun {
	rules := sarifRules(reports)
	index := make(map[string]int, len(rules))
	for i, rule := range rules {
		index[rule.ID] = i
	}
	driver := sarifDriver{Name: toolName, InformationURI: toolURI, Version: opts.Version, Rules: rules}
	if opts.PolicyRevision != "" {
		driver.Properties = map[string]string{"policyRevision": opts.PolicyRevision}
	}
	run := sarifRun{
		Tool:    sarifTool{Driver: driver},
		Results: []sarifResult{}, // an empty list closes alerts; null would not
	}
	if len(reports) > 0 {
		run.Properties = map[string]string{"profile": reports[0].Profile}
		if several {
			// Code scanning keeps one analysis per tool and category.
			run.AutomationDetails = &sarifAutomation{ID: toolName + "/" + reports[0].Profile + "/"}
		}
	}
	if opts.PolicyRevision != "" {
		if run.Properties == nil {
			run.Properties = map[string]string{}
		}
		run.Properties["policyRevision"] = opts.PolicyRevision
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	warned := map[string]bool{}
	bases := rootBases(reports)
	for _, r := range reports {
		where := whereProps(r)
		for _, msg := range r.Errors {
			inv.ExecutionSuccessful = false
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level: "error", Message: sarifText{Text: r.target() + ": not checked: " + msg}, Properties: where,
			})
		}
		for _, msg := range r.Warnings {
			if !warned[msg] { // a run-wide warning is on every report
				warned[msg] = true
				inv.ToolConfigurationNotifications = append(inv.ToolConfigurationNotifications, sarifNotification{
					Level: "warning", Message: sarifText{Text: msg},
				})
			}
		}
		base := bases[r.Root]
		if base.id != "" && base.uri != "" {
			if run.OriginalURIBaseIDs == nil {
				run.OriginalURIBaseIDs = map[string]sarifArtifact{}
			}
			run.OriginalURIBaseIDs[base.id] = sarifArtifact{URI: base.uri}
		}
		for _, f := range r.Findings {
			run.Results = append(run.Results, sarifResultOf(r, f, index[f.ID], base.id, where))
		}
	}
	run.Invocations = []sarifInvocation{inv}
	return run
}

func sarifResultOf(r Report, f Finding, ruleIndex int, baseID string, where map[string]string) sarifResult {
	msg := f.Msg
	if f.Fix != "" {
		msg += " Fix: " + f.Fix
	}
	if r.Host != "" {
		msg = r.Host + ": " + msg
	}
	loc := sarifArtifact{URI: relativeURI(f.Path), URIBaseID: baseID}
	if r.Host != "" {
		// Alerts are told apart by their file: the host is the path's first
		// segment, so the same finding on two hosts is two alerts.
		loc = sarifArtifact{URI: hostURI(r.Host, f.Path)}
	}
	res := sarifResult{
		RuleID:    f.ID,
		RuleIndex: ruleIndex,
		Level:     sarifLevel(f.Severity),
		Message:   sarifText{Text: msg},
		Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
			ArtifactLocation: loc,
			Region:           sarifRegion{StartLine: 1},
		}}},
		PartialFingerprints: map[string]string{fingerprintKey: fingerprint(r.Host, f.ID, f.Path)},
		Properties:          where,
	}
	if w := f.Waived; w != nil {
		res.Suppressions = []sarifSuppression{{
			Kind: "external", Status: "accepted", Justification: w.Reason,
			Properties: map[string]string{"expires": w.Expires, "waiver": w.Waiver},
		}}
	}
	return res
}

// whereProps names what a result or notification is about.
func whereProps(r Report) map[string]string {
	p := map[string]string{"root": r.Root}
	if r.Host != "" {
		p["host"] = r.Host
	}
	return p
}

type rootBase struct{ id, uri string }

// rootBases gives each local root its uriBaseId (ROOTPATH, then ROOTPATH2,
// ...) and, for a local directory, the file URI it stands for. Hosts need
// none: their results' URIs start with the host.
func rootBases(reports []Report) map[string]rootBase {
	out := map[string]rootBase{}
	n := 0
	for _, r := range reports {
		if r.Host != "" {
			continue
		}
		if _, ok := out[r.Root]; ok {
			continue
		}
		n++
		id := rootBaseID
		if n > 1 {
			id = fmt.Sprintf("%s%d", rootBaseID, n)
		}
		uri, _ := rootDirURI(r)
		out[r.Root] = rootBase{id: id, uri: uri}
	}
	return out
}

// sarifRules lists the reports' rules, plus one made from the finding for
// any rule id that Report.Rules lacks (a user policy without METADATA):
// every result's ruleId must name a rule. Sorted by id; ruleIndex points
// into this list.
func sarifRules(reports []Report) []sarifRule {
	seen := map[string]bool{}
	var rules []Rule
	for _, r := range reports {
		for _, rule := range r.Rules {
			if !seen[rule.ID] {
				seen[rule.ID] = true
				rules = append(rules, rule)
			}
		}
	}
	for _, r := range reports {
		for _, f := range r.Findings {
			if !seen[f.ID] {
				seen[f.ID] = true
				rules = append(rules, Rule{ID: f.ID, Title: f.Title, Severity: f.Severity})
			}
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
			HelpURI:              helpURI(rule),
			DefaultConfiguration: sarifConfig{Level: sarifLevel(rule.Severity)},
			Properties: sarifRuleProps{
				Tags:             []string{"security"},
				SecuritySeverity: firstNonEmpty(securitySeverity[rule.Severity], securitySeverity[SeverityWarn]),
			},
		})
	}
	return out
}

// builtinID matches the embedded policy's rule ids, documented in
// policy/README.md under an anchor of the lowercase id.
var builtinID = regexp.MustCompile(`^HUB[0-9]{3}$`)

// helpURI is the rule's documentation: its METADATA related_resources, or
// for a built-in rule its section of policy/README.md; none for a site
// rule that names none.
func helpURI(rule Rule) string {
	if rule.HelpURI != "" {
		ref, err := url.Parse(rule.HelpURI)
		if err != nil {
			return ""
		}
		if ref.IsAbs() {
			return ref.String()
		}
		// A ref relative to the repository ("policy/README.md#hub001") or,
		// without a directory, to policy/ ("README.md#hub001").
		base := toolURI + "/blob/main/"
		ref.Path = strings.TrimPrefix(ref.Path, "/")
		if !strings.Contains(ref.Path, "/") {
			base += "policy/"
		}
		b, _ := url.Parse(base) // a constant: never fails
		return b.ResolveReference(ref).String()
	}
	if builtinID.MatchString(rule.ID) {
		return policyDocURI + "#" + strings.ToLower(rule.ID)
	}
	return ""
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
// the same path of the same host (none for a local root) is the same
// alert, whatever the message says. Shaped as GitHub's own
// primaryLocationLineHash (hex, ":", the occurrence), it holds nothing but
// the hash of names.
func fingerprint(host, ruleID, p string) string {
	sum := sha256.Sum256([]byte(host + "\x00" + ruleID + "\x00" + p))
	return hex.EncodeToString(sum[:8]) + ":1"
}

// hostURI is the relative URI of path p on host: "hub1/srv/jupyterhub/x",
// escaped ("./" first when the host has a ":" that would read as a scheme).
func hostURI(host, p string) string {
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	return (&url.URL{Path: host + "/" + rel}).String()
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
