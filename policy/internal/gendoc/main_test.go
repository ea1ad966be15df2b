package main

import (
	"os"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/policy"
)

const readmePath = "../../README.md"

// TestREADMEUpToDate fails when policy/README.md is not what the generator
// writes from the rules' METADATA.
func TestREADMEUpToDate(t *testing.T) {
	rules, err := Rules(policy.Modules())
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(old, rules)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(old) {
		t.Errorf("policy/README.md differs from the rules' METADATA (first difference at line %d): run make generate",
			firstDiffLine(string(old), string(want)))
	}
}

// TestRelatedResources checks that every rule links to its own section of
// the README, the link reports give as the rule's help (SARIF helpUri).
func TestRelatedResources(t *testing.T) {
	rules, err := Rules(policy.Modules())
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) < 30 {
		t.Fatalf("%d rules, want at least 30", len(rules))
	}
	for _, r := range rules {
		want := DocURL + "#" + Anchor(r.ID)
		if len(r.Related) != 1 || r.Related[0] != want {
			t.Errorf("%s: related_resources %v, want exactly [{ref: %s}]", r.ID, r.Related, want)
		}
		if !strings.Contains(string(readme), `<a id="`+Anchor(r.ID)+`"></a>`) {
			t.Errorf("%s: no anchor %s in policy/README.md", r.ID, Anchor(r.ID))
		}
		if w, _, _ := strings.Cut(r.Profile, " "); w != "both" && w != "image" && w != "instance" {
			t.Errorf("%s: custom.profile %q, want both, image or instance (optionally followed by a note)", r.ID, r.Profile)
		}
	}
}

// TestRenderRefusesMissingMarkers: a README without its markers is an error,
// not a silently unchanged file.
func TestRenderRefusesMissingMarkers(t *testing.T) {
	rules := []Rule{{ID: "HUB001", Severity: "deny", Profile: "both", Title: "T | x", Description: "D."}}
	if _, err := Render([]byte("no markers\n"), rules); err == nil {
		t.Fatal("Render without markers: no error")
	}
	in := tableBegin + "\nold\n" + tableEnd + "\ntext\n" + refBegin + "\n" + refEnd + "\n"
	out, err := Render([]byte(in), rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| [HUB001](#hub001) | deny | both | T \\| x |", `<a id="hub001"></a>`,
		"### HUB001: T | x", "deny, both profiles. D.", "\ntext\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered README lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "old") {
		t.Errorf("the old table survived:\n%s", out)
	}
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}
